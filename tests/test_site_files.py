"""Notebook pages' inline stylesheets become shared files, whatever order pages come in."""

from __future__ import annotations

from llmdocs.mkdocs_plugin.site_files import SHARED_STYLE_MIN, SiteFiles

LAB = "." + "a" * SHARED_STYLE_MIN + "{}"  # large enough to share
LONGER = LAB + ".b{}"  # starts like LAB: must not be taken for it
SMALL = ".small{}"


def _page(*styles: str) -> str:
    return "<p>x</p>" + "".join(f'<style type="text/css">{css}</style>' for css in styles)


def _shared(files: SiteFiles, name: str) -> str:
    return files.files[name].decode("utf-8")


def test_one_file_per_stylesheet_and_small_ones_stay_inline() -> None:
    files = SiteFiles()
    first = files.share_styles(_page(LAB, SMALL), "notebooks/a/")
    second = files.share_styles(_page(LAB, SMALL), "en/notebooks/b/")
    assert first.count('<link rel="stylesheet"') == 1 and SMALL in first and LAB not in first
    assert len(files.files) == 1
    name = next(iter(files.files))
    assert _shared(files, name) == LAB
    assert f'href="../../{name}"' in first and f'href="../../../{name}"' in second


def test_a_stylesheet_that_starts_like_a_shared_one_is_shared_on_its_own() -> None:
    files = SiteFiles()
    files.share_styles(_page(LAB), "notebooks/a/")
    html = files.share_styles(_page(LONGER, LAB), "notebooks/b/")
    assert sorted(_shared(files, name) for name in files.files) == sorted([LAB, LONGER])
    assert html.count('<link rel="stylesheet"') == 2 and "<style" not in html


def test_an_unclosed_style_is_left_as_it_is() -> None:
    files = SiteFiles()
    files.share_styles(_page(LAB), "notebooks/a/")
    broken = '<p>x</p><style type="text/css">' + LAB
    assert files.share_styles(broken, "notebooks/b/") == broken
