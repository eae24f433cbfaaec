"""Captured output that tries everything, and a helper that stores it for the fixture chapter
tests/fixtures/hostile (as `llmdocs run` would have, with a matching source key)."""

from __future__ import annotations

from pathlib import Path

from llmdocs.capture import split_lines
from llmdocs.keys import source_key
from llmdocs.project import Project
from llmdocs.store import StoredCell, StoredChapter, store_path, write_store

EVIL = "http://evil.example"
HTML = f"""<b>kept bold</b><script>window.__pwned = "script"; fetch("{EVIL}/script")</script>
<img src="{EVIL}/img.png" onerror="window.__pwned = 'onerror'">
<a id="jslink" href="javascript:window.__pwned = 'href'">click me</a>
<div class="mermaid">graph TD; A-->B</div>
<b onmouseover="window.__pwned = 'hover'"
   style="background-image:url({EVIL}/bg.png);color:red">hover</b>
<iframe src="{EVIL}/frame"></iframe><link rel="stylesheet" href="{EVIL}/style.css">
<svg><script>window.__pwned = "inline-svg"</script></svg>
<form action="{EVIL}/form"><input name="q" autofocus onfocus="window.__pwned = 'focus'"></form>
<style>@import url({EVIL}/import.css); body {{ display: none }}</style>
<div data-md-component="source" data-md-source="github">GitHub facts</div>
<video poster="{EVIL}/poster.png" src="{EVIL}/v.mp4" autoplay></video>
<object data="{EVIL}/o.swf"></object><embed src="{EVIL}/e.swf">
<meta http-equiv="refresh" content="0;url={EVIL}/refresh"><base href="{EVIL}/">
"""
SVG = f"""<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     width="120" height="60" viewBox="0 0 120 60" onload="window.__pwned = 'svg-onload'">
  <script>window.__pwned = "svg-script"; fetch("{EVIL}/svg-script")</script>
  <style>@import url({EVIL}/svg.css); rect {{ fill: url({EVIL}/fill) }}</style>
  <foreignObject width="10" height="10"><iframe xmlns="http://www.w3.org/1999/xhtml"
     src="{EVIL}/foreign"></iframe></foreignObject>
  <image href="{EVIL}/image.png" width="10" height="10"/>
  <a xlink:href="javascript:window.__pwned = 'svg-link'"><rect width="20" height="20"/></a>
  <rect x="30" width="20" height="20" style="fill:url({EVIL}/style-fill)" onclick="x()"/>
  <use href="{EVIL}/sprite.svg#x"/>
  <animate attributeName="href" to="javascript:alert(1)"/>
  <rect id="kept" x="60" width="40" height="40" fill="green"/>
</svg>
"""
TEXT = "<script>window.__pwned = 'stream'</script> 12345678901234567890 tensor([[1, 2, 3]])\n"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "hostile"


def store_hostile_outputs(project: Project) -> Path:
    """Write snippets/outputs/hostile.json for the fixture chapter; its path."""
    chapter = project.chapter("hostile")
    stored = StoredChapter(
        chapter="hostile", source_key=source_key(chapter), profile="offline", device="CPU",
        versions={"python": "3.11", "torch": "2.13.0", "transformers": "5.0.0"},
        models={"chat": {"id": "HuggingFaceTB/SmolLM2-135M-Instruct", "digest": "sha256:0"}},
        captured="2026-01-01",
        cells={
            "html": StoredCell([{"data": {"text/html": split_lines(HTML),
                                          "text/plain": ["<IPython.core.display.HTML>"]}}]),
            "svg": StoredCell([{"data": {"image/svg+xml": split_lines(SVG)}}]),
            "text": StoredCell([{"stream": "stdout", "text": split_lines(TEXT)}]),
        },
    )
    path = store_path(project.store_dir, "hostile")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_store(path, stored)
    return path
