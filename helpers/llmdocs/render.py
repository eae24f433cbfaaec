"""Render a stored cell into page content: the code as Markdown, the output as HTML.

`published` is the one path from stored output to anything we publish (page HTML, notebook
outputs, figure files): captured HTML passes nh3's allow-list, SVG an allow-list of drawing
elements, and any other rich format is dropped. Captured text is always escaped (`<s>`
stays `<s>` on the page); images become <img> with alt text in the page's language.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable, Mapping
from typing import Any

from .capture import join_lines
from .provenance import short_id, versions_text
from .store import Output, StoredChapter

LABELS = {
    "zh": {
        "output": "输出",
        "from": "输出来自",
        "captured": "捕获于",
        "stale_title": "此输出可能已过期",
        "stale_code": "代码在捕获之后已修改，运行 <code>llmdocs run {chapter}</code> 可重新捕获。",
        "missing": "尚无存储的输出，运行 <code>llmdocs run {chapter}</code> 以捕获。",
        "unknown": "找不到 <code>{ref}</code>：{reason}",
        "broken": "存储的输出无法读取：{reason}",
        "figure": "代码单元 {ref} 生成的图",
        "notebook": "以 Jupyter 笔记本查看和下载本章",
        "device_note": "这段输出在 CPU 和 GPU 上并不相同：{why}。",
    },
    "en": {
        "output": "Output",
        "from": "Output from",
        "captured": "captured",
        "stale_title": "This output may be out of date",
        "stale_code": "The code changed after this output was captured; "
        "run <code>llmdocs run {chapter}</code> to capture it again.",
        "missing": "No stored output yet; run <code>llmdocs run {chapter}</code> to capture it.",
        "unknown": "Cannot find <code>{ref}</code>: {reason}",
        "broken": "The stored output cannot be read: {reason}",
        "figure": "Figure produced by cell {ref}",
        "notebook": "View and download this chapter as a Jupyter notebook",
        "device_note": "A CPU and a GPU print this output differently: {why}.",
    },
}


def labels(language: str) -> dict[str, str]:
    return LABELS.get(language, LABELS["en"])


def code_markdown(source: str) -> str:
    """A fenced Python block whose fence is longer than any backtick run inside the code."""
    longest = max((len(run) for run in re.findall(r"`+", source)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}python\n{source.rstrip()}\n{fence}"


def _pre(css: str, text: str) -> str:
    return f'<pre class="{css}"><code>{html.escape(text, quote=False)}</code></pre>'


# Captured HTML may style itself (token chips, tables) but never run script or load anything.
SAFE_ATTRIBUTES = {"*": {"class", "title", "role", "aria-label", "style", "lang"}}
SAFE_STYLE = {
    "color", "background-color", "border", "border-radius", "padding", "margin",
    "font-weight", "font-family", "font-size", "display", "white-space", "text-align",
}


# Class names that make the theme load code: Material fetches mermaid.js from a CDN for
# any `.mermaid` element; `md-*` and `arithmatex` classes are the theme's own hooks.
THEME_CLASSES = re.compile(r"^(mermaid|arithmatex|md-.*|jp-.*|language-mermaid)$")
PUBLISHED_MIMETYPES = ("text/plain", "text/html", "image/png", "image/svg+xml")


def sanitize(fragment: str) -> str:
    """Allow-list sanitizing of captured HTML (nh3/ammonia): no script, no event handlers,
    no remote sources, no data-* attributes and no class that wakes a theme script."""
    import nh3

    attributes = {**{k: set(v) for k, v in nh3.ALLOWED_ATTRIBUTES.items()}}
    for tag, extra in SAFE_ATTRIBUTES.items():
        attributes[tag] = attributes.get(tag, set()) | extra
    return nh3.clean(
        fragment, attributes=attributes, filter_style_properties=SAFE_STYLE,
        attribute_filter=_no_remote_sources,
    )


def _no_remote_sources(tag: str, attribute: str, value: str) -> str | None:
    """Drop image sources (nh3 keeps http(s) ones, a third-party request at view time) and
    theme hook classes."""
    if attribute in ("src", "srcset", "poster", "background", "cite", "longdesc"):
        return None
    if attribute == "class":
        kept = [name for name in value.split() if not THEME_CLASSES.match(name)]
        return " ".join(kept) or None
    return value


def published(outputs: list[Output]) -> list[Output]:
    """Stored outputs as they may be published anywhere: the one sanitizing step.

    Streams and errors are text (escaped where they become HTML); rich data keeps only
    PUBLISHED_MIMETYPES, with HTML and SVG cleaned by their allow-lists. An SVG that cannot
    be cleaned is dropped (its PNG or text alternative, if any, remains).
    """
    from .capture import split_lines
    from .svg import UnsafeSvg, sanitize_svg

    result: list[Output] = []
    for output in outputs:
        if "data" not in output:
            result.append(output)
            continue
        data: dict[str, list[str]] = {}
        for mimetype in PUBLISHED_MIMETYPES:
            if mimetype not in output["data"]:
                continue
            value = output["data"][mimetype]
            if mimetype == "text/html":
                value = split_lines(sanitize(join_lines(value)))
            elif mimetype == "image/svg+xml":
                try:
                    value = split_lines(sanitize_svg(join_lines(value)))
                except UnsafeSvg:
                    continue
            data[mimetype] = list(value)
        if data:
            result.append({"data": data})
    return result


ImageSource = Callable[[str, bytes], str]
"""Turns (mimetype, image bytes) into an <img> src."""


def data_uri(mimetype: str, payload: bytes) -> str:
    """The image inline, as a data: URI (self-contained, but it weighs on every page load)."""
    return f"data:{mimetype};base64,{base64.b64encode(payload).decode()}"


def output_html(
    outputs: list[Output], ref: str, language: str, alt: str = "",
    image_src: ImageSource = data_uri,
) -> str:
    """One cell's outputs as HTML, or '' when it printed nothing (sanitized by `published`)."""
    parts: list[str] = []
    for output in published(outputs):
        if "stream" in output:
            css = f"llmdocs-stream llmdocs-{output['stream']}"
            parts.append(_pre(css, join_lines(output["text"])))
        elif "error" in output:
            error = output["error"]
            parts.append(_pre("llmdocs-error", join_lines(error["traceback"])))
        elif "data" in output:
            data = output["data"]
            if "image/png" in data or "image/svg+xml" in data:
                # As an <img>, even an SVG cannot run script or reach the page.
                if "image/png" in data:
                    mimetype, payload = "image/png", base64.b64decode("".join(data["image/png"]))
                else:
                    mimetype = "image/svg+xml"
                    payload = join_lines(data["image/svg+xml"]).encode("utf-8")
                text = alt or labels(language)["figure"].format(ref=ref)
                src = html.escape(image_src(mimetype, payload))
                parts.append(
                    f'<img class="llmdocs-image" alt="{html.escape(text)}" src="{src}" '
                    'loading="lazy">'
                )
            elif "text/html" in data:
                fragment = join_lines(data["text/html"])  # sanitized by published()
                parts.append(f'<div class="llmdocs-html">{fragment}</div>')
            elif "text/plain" in data:
                parts.append(_pre("llmdocs-stream llmdocs-result", join_lines(data["text/plain"])))
    if not parts:
        return ""
    label = html.escape(labels(language)["output"])
    return (
        # Outputs stay out of the search index: vocabulary dumps and tensors are not prose.
        f'<div class="llmdocs-output no-copy" data-search-exclude data-cell="{html.escape(ref)}" '
        f'data-label="{label}">' + "".join(parts) + "</div>"
    )


def device_note_html(compare: Mapping[str, Any], language: str) -> str:
    """Under an output that a CPU and a GPU really print differently (its cell's compare=
    setting says ``"devices": "kinds"``), the setting's reason, in the page's language: the
    reader's own run may differ from the page's in the same way."""
    if compare.get("devices") != "kinds":
        return ""
    why = compare.get("why", "")
    if isinstance(why, Mapping):
        why = why.get(language) or why.get("en", "")
    text = labels(language)["device_note"].format(why=html.escape(str(why).rstrip(".。")))
    return f'<p class="llmdocs-device-note" data-search-exclude>{text}</p>'


def provenance_html(
    stored: StoredChapter, language: str, models: dict[str, dict[str, str]] | None = None
) -> str:
    """The small line under an output: model, device, versions, capture date.

    ``models``: the models this output's cell had loaded (default: the chapter's)."""
    words = labels(language)
    chosen = stored.models if models is None else models
    models_text = ", ".join(short_id(m.get("id", "?")) for m in chosen.values())
    items = [models_text] if models_text else []
    items += [stored.device, versions_text(stored.versions),
              f"{words['captured']} {stored.captured}"]
    text = " · ".join(html.escape(item) for item in items)
    return (
        f'<p class="llmdocs-provenance" data-search-exclude>{html.escape(words["from"])} {text}</p>'
    )


class Html(str):
    """Text that is safe to insert into a page as it is: made only by `notice`."""


def notice(language: str, key: str, **fields: object) -> Html:
    """The LABELS message ``key`` with every field HTML-escaped (a reason may quote a file
    name, a cell name or a path); the labels' own markup (<code>) stays."""
    escaped = {name: html.escape(str(value)) for name, value in fields.items()}
    return Html(labels(language)[key].format(**escaped))


def notice_html(message: str, language: str) -> str:
    """A visible warning box (Material admonition markup) for stale or missing outputs.

    ``message`` is escaped unless `notice` built it, so no path inserts raw text.
    """
    title = html.escape(labels(language)["stale_title"])
    body = message if isinstance(message, Html) else html.escape(message)
    return (
        f'<div class="admonition warning llmdocs-stale"><p class="admonition-title">{title}</p>'
        f"<p>{body}</p></div>"
    )
