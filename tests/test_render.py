"""Directive parsing and output rendering: fast, no kernel, no MkDocs build."""

from __future__ import annotations

import base64
import html
import re
from html.parser import HTMLParser

import markdown
import pytest

from llmdocs.directives import Directive, DirectiveError, find_directives, parse_line
from llmdocs.render import (
    code_markdown,
    notice_html,
    output_html,
    provenance_html,
    sanitize,
)
from llmdocs.store import StoredChapter

TOKENS = "hello <s> & </s> <|im_start|>assistant<|im_end|>\n"


class _Text(HTMLParser):
    """Collects the text a browser would show, and the tags it would create."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def shown(fragment: str) -> tuple[str, list[str]]:
    """The visible text of an HTML fragment and the tags in it."""
    parser = _Text()
    parser.feed(fragment)
    parser.close()
    return "".join(parser.text), parser.tags


def stream(text: str, name: str = "stdout") -> dict[str, object]:
    return {"stream": name, "text": text.splitlines(keepends=True)}


def stored_chapter() -> StoredChapter:
    return StoredChapter(
        chapter="basics", source_key="sha256:0", profile="offline", device="CPU",
        versions={"python": "3.11.7", "torch": "2.13.0"},
        models={"chat": {"id": "HuggingFaceTB/SmolLM2-135M-Instruct"}},
        captured="2026-01-02",
    )


class TestParseLine:
    def test_reference_only(self) -> None:
        """A bare CHAPTER:CELL directive embeds both code and output, with no alt text."""
        directive = parse_line("<!-- llmdocs basics:hello -->", "index.zh.md", 7)
        assert directive == Directive("basics", "hello", 7, "both", "")
        assert directive.ref == "basics:hello"

    def test_show_and_alt_options(self) -> None:
        """show= and a quoted alt= with spaces and Chinese are both read."""
        directive = parse_line(
            '<!-- llmdocs lm-head:plot_2 show=output alt="两根 柱子" -->', "p.md", 3
        )
        assert (directive.chapter, directive.cell) == ("lm-head", "plot_2")
        assert (directive.show, directive.alt) == ("output", "两根 柱子")

    def test_indented_directive(self) -> None:
        """Leading whitespace (inside a list or tab) still parses."""
        assert parse_line("    <!-- llmdocs a:b show=code -->", "p.md", 1).show == "code"

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("<!-- llmdocs basics -->", "malformed"),
            ("<!-- llmdocs basics:hello", "malformed"),
            ("<!-- llmdocs Basics:hello -->", "malformed"),
            ("<!-- llmdocs basics:hello extra -->", "unknown or repeated option"),
            ("<!-- llmdocs basics:hello color=red -->", "unknown or repeated option"),
            ("<!-- llmdocs basics:hello show=code show=output -->", "unknown or repeated option"),
            ("<!-- llmdocs basics:hello show=everything -->", "is not one of"),
            ('<!-- llmdocs basics:hello alt="unclosed -->', "malformed"),
        ],
    )
    def test_malformed_names_page_and_line(self, text: str, reason: str) -> None:
        """A malformed directive raises DirectiveError naming the page, the line and the problem."""
        with pytest.raises(DirectiveError) as raised:
            parse_line(text, "docs/run-llm.zh.md", 42)
        message = str(raised.value)
        assert message.startswith("docs/run-llm.zh.md:42: ")
        assert reason in message


class TestFindDirectives:
    def test_in_order_with_line_numbers(self) -> None:
        """Directives are returned in page order with their 1-based line numbers."""
        page = "# T\n\n<!-- llmdocs a:one -->\n\ntext\n<!-- llmdocs a:two show=code -->\n"
        found = find_directives(page, "p.md")
        assert [(d.ref, d.line) for d in found] == [("a:one", 3), ("a:two", 6)]

    def test_other_comments_are_not_directives(self) -> None:
        """Ordinary HTML comments and prose mentioning llmdocs are left alone."""
        page = "<!-- a note -->\nllmdocs a:b\n<!--llmdocsish -->\n"
        assert find_directives(page, "p.md") == []

    @pytest.mark.parametrize("fence", ["```", "~~~", "````markdown"])
    def test_inside_fenced_code_ignored(self, fence: str) -> None:
        """A directive shown as an example inside a fenced block is not executed, even malformed."""
        closing = fence.rstrip("markdown")
        page = (
            f"{fence}\n<!-- llmdocs a:inside -->\n<!-- llmdocs broken -->\n{closing}\n"
            "<!-- llmdocs a:after -->\n"
        )
        found = find_directives(page, "p.md")
        assert [(d.ref, d.line) for d in found] == [("a:after", 5)]

    def test_longer_fence_holds_shorter_fences(self) -> None:
        """A four-backtick block showing a three-backtick block keeps its directive as text."""
        page = (
            "````markdown\n```python\n<!-- llmdocs a:example -->\n```\n"
            "<!-- llmdocs a:example-two -->\n````\n"
            "<!-- llmdocs a:real -->\n"
        )
        assert [d.ref for d in find_directives(page, "p.md")] == ["a:real"]

    def test_fence_with_info_string_does_not_close(self) -> None:
        """A ```python line inside an open ``` block opens nothing and closes nothing."""
        page = "```\n```python\n<!-- llmdocs a:hidden -->\n```\n<!-- llmdocs a:shown -->\n"
        assert [d.ref for d in find_directives(page, "p.md")] == ["a:shown"]

    def test_malformed_outside_fence_raises_with_line(self) -> None:
        """The first malformed directive outside code stops parsing, naming page and line."""
        page = "# T\n\n```\n<!-- llmdocs ok:in-code -->\n```\n\n<!-- llmdocs nope -->\n"
        with pytest.raises(DirectiveError, match=r"^docs/x\.en\.md:7: malformed"):
            find_directives(page, "docs/x.en.md")


class TestOutputHtml:
    def test_special_tokens_escaped_in_stream(self) -> None:
        """<s>, </s> and <|im_start|> in printed text reach the reader as text, not as tags."""
        fragment = output_html([stream(TOKENS)], "run-llm:tokens", "zh")
        assert "&lt;s&gt;" in fragment and "&lt;/s&gt;" in fragment
        assert "&lt;|im_start|&gt;" in fragment
        text, tags = shown(fragment)
        assert TOKENS in text
        assert "s" not in tags and "script" not in tags

    def test_error_and_result_text_escaped(self) -> None:
        """Tracebacks and text/plain results are escaped like streams."""
        outputs = [
            {"error": {"ename": "ValueError", "evalue": "<s>",
                       "traceback": ["ValueError: <s> is not </s>\n"]}},
            {"data": {"text/plain": ["'<|assistant|>'"]}},
        ]
        fragment = output_html(outputs, "a:b", "en")
        text, tags = shown(fragment)
        assert "ValueError: <s> is not </s>" in text
        assert "'<|assistant|>'" in text
        assert tags.count("pre") == 2 and "s" not in tags
        assert 'class="llmdocs-error"' in fragment

    def test_wrapper_is_no_copy_with_language_label(self) -> None:
        """Outputs sit in div.llmdocs-output.no-copy labelled in the page's language."""
        zh = output_html([stream("x\n")], "a:b", "zh")
        en = output_html([stream("x\n")], "a:b", "en")
        assert zh.startswith(
            '<div class="llmdocs-output no-copy" data-search-exclude data-cell="a:b" '
            'data-label="输出">'
        )
        assert 'data-label="Output"' in en

    def test_nothing_printed_renders_nothing(self) -> None:
        """A cell without outputs renders an empty string (no empty box)."""
        assert output_html([], "a:b", "zh") == ""

    def test_html_output_sanitized(self) -> None:
        """Captured HTML keeps markup and classes but loses script, handlers and remote images."""
        raw = (
            '<b class="tok" onclick="steal()">bold</b><script>alert(1)</script>'
            '<img src="https://example.com/track.png" alt="x">'
            '<span style="color: red; background-image: url(https://example.com/a.png)">r</span>'
        )
        fragment = output_html([{"data": {"text/html": [raw], "text/plain": ["<HTML>"]}}],
                               "a:b", "en")
        assert '<div class="llmdocs-html"><b class="tok">bold</b>' in fragment
        assert "script" not in fragment and "alert" not in fragment
        assert "onclick" not in fragment
        assert "example.com" not in fragment
        assert 'style="color:red"' in fragment

    def test_sanitize_keeps_tables(self) -> None:
        """Ordinary table markup (pandas-style outputs) survives sanitizing."""
        cleaned = sanitize("<table><tr><th>id</th></tr><tr><td>42</td></tr></table>")
        assert "<table>" in cleaned and "<td>42</td>" in cleaned

    def test_image_alt_from_directive(self) -> None:
        """A PNG becomes an <img> whose alt is the directive's alt, attribute-escaped."""
        encoded = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(60))).decode()
        png = {"data": {"image/png": [encoded[:40], encoded[40:]]}}
        fragment = output_html([png], "basics:figure", "zh", alt='两根"柱子"')
        assert 'alt="两根&quot;柱子&quot;"' in fragment
        assert f'src="data:image/png;base64,{encoded}"' in fragment

    def test_image_source_is_pluggable(self) -> None:
        """The page decides where image bytes go; the <img> points there and loads lazily."""
        seen: list[tuple[str, bytes]] = []

        def to_file(mimetype: str, payload: bytes) -> str:
            seen.append((mimetype, payload))
            return "../assets/llmdocs/figure.png"

        png = {"data": {"image/png": [base64.b64encode(b"\x89PNG-bytes").decode()]}}
        fragment = output_html([png], "a:b", "en", image_src=to_file)
        assert seen == [("image/png", b"\x89PNG-bytes")]
        assert 'src="../assets/llmdocs/figure.png" loading="lazy"' in fragment

    @pytest.mark.parametrize(
        ("language", "alt"),
        [("zh", "代码单元 basics:figure 生成的图"),
         ("en", "Figure produced by cell basics:figure")],
    )
    def test_image_default_alt_in_page_language(self, language: str, alt: str) -> None:
        """Without alt=, the image is described in the page's language."""
        fragment = output_html([{"data": {"image/png": ["AAAA"]}}], "basics:figure", language)
        assert f'alt="{alt}"' in fragment

    def test_svg_as_image_not_inline(self) -> None:
        """An SVG output is an <img> data URI, so any script inside it cannot run."""
        svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
        fragment = output_html([{"data": {"image/svg+xml": [svg]}}], "a:b", "en", alt="plot")
        assert fragment.count("<img") == 1
        assert 'src="data:image/svg+xml;base64,' in fragment
        assert "<svg" not in fragment and "<script" not in fragment


class TestCodeMarkdown:
    @staticmethod
    def rendered_code(block: str) -> str:
        """The code text that Markdown (with superfences, as the site uses) shows."""
        out = markdown.markdown(block, extensions=["pymdownx.superfences"])
        match = re.search(r"<code[^>]*>(.*?)</code>", out, re.S)
        assert match is not None, out
        return html.unescape(re.sub(r"<[^>]+>", "", match.group(1)))

    def test_plain_code_uses_three_backticks(self) -> None:
        """Code without backticks gets the usual ```python fence."""
        assert code_markdown("x = 1\n\n") == "```python\nx = 1\n```"

    @pytest.mark.parametrize("run", [3, 4, 6])
    def test_fence_longer_than_backticks_in_code(self, run: int) -> None:
        """The fence outgrows the longest backtick run, so the block renders whole."""
        source = f'doc = """\n{"`" * run}python\nprint(1)\n{"`" * run}\n"""'
        block = code_markdown(source)
        fence = block.split("python", 1)[0]
        assert fence == "`" * (run + 1)
        assert self.rendered_code(block).rstrip("\n") == source


class TestProvenanceAndNotice:
    def test_provenance_zh(self) -> None:
        """The provenance line names model, device, versions and date, in Chinese."""
        line = provenance_html(stored_chapter(), "zh")
        text, _ = shown(line)
        assert line.startswith('<p class="llmdocs-provenance" data-search-exclude>')
        assert text == (
            "输出来自 SmolLM2-135M-Instruct · CPU · Python 3.11.7 · torch 2.13.0 · "
            "捕获于 2026-01-02"
        )

    def test_provenance_en_escaped(self) -> None:
        """Provenance in English, with markup in recorded fields escaped."""
        stored = stored_chapter()
        stored.device = "<b>GPU</b>"
        line = provenance_html(stored, "en")
        text, tags = shown(line)
        assert text.startswith("Output from SmolLM2-135M-Instruct · <b>GPU</b> · ")
        assert "captured 2026-01-02" in text
        assert tags == ["p"]

    def test_stale_notice_is_a_warning_admonition(self) -> None:
        """The stale notice is a Material warning box titled in the page's language."""
        box = notice_html("run it again", "zh")
        assert 'class="admonition warning llmdocs-stale"' in box
        assert "此输出可能已过期" in box
        assert "This output may be out of date" in notice_html("x", "en")


def test_device_note_only_for_outputs_that_differ_by_device() -> None:
    from llmdocs.render import device_note_html

    why = {"en": "sampling <follows> the device's RNG", "zh": "采样随设备而变"}
    english = device_note_html({"devices": "kinds", "why": why}, "en")
    assert english == ('<p class="llmdocs-device-note" data-search-exclude>A CPU and a GPU '
                       "print this output differently: sampling &lt;follows&gt; the device&#x27;s "
                       "RNG.</p>")
    assert "采样随设备而变。" in device_note_html({"devices": "kinds", "why": why}, "zh")
    assert "plain reason." in device_note_html({"devices": "kinds", "why": "plain reason"}, "en")
    assert device_note_html({"atol": 0.05, "why": "noise"}, "en") == ""
    assert device_note_html({}, "zh") == ""

