"""The tokenizer playground in a page: `<!-- tokenizer-playground -->` on a line of its own.

The marker is an HTML comment (a page without the plugin shows nothing). The plugin replaces
it with a hidden, collapsed widget whose labels are in the page's language and whose presets
are the inputs of snippets/playground.py (the stored truth cases). Only a small loader script
comes with the page; it shows the widget, and on opening fetches the bundle and the tokenizer
file from docs/assets/playground/. Without JavaScript the page is the chapter as before.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import escape

from mkdocs.utils import get_relative_url

from ..playground import ASSETS, TOKENIZERS, Truth, problems, python_truth, tokenizer_file
from ..project import Project

MARKER = re.compile(r"^<!--\s*tokenizer-playground\s*-->$", re.M)
FOLDER = "assets/playground/"

TEXT = {
    "zh": {
        "summary": "动手试试：在浏览器里分词",
        "intro": "输入任意文字，看它被切成哪些词元。分词完全在你的浏览器里进行，用的是本站提供的、"
                 "与本章相同模型导出的分词器文件（首次打开时下载约 {size}），不会请求其他网站。",
        "text": "文本",
        "tokenizer": "分词器",
        "presets": "示例",
        "chat": "SmolLM2 · 字节级 BPE（对话模型）",
        "bert": "all-MiniLM-L6-v2 · WordPiece（BERT）",
        "stats": "{tokens} 个词元 · {bytes} 字节 · {chars} 个字符",
        "loading": "正在加载分词器…",
        "failed": "分词器加载失败：",
        "bytes": "字节",
        "noscript": "本页的分词演示需要 JavaScript；上面的示例不受影响。",
        "note": "词元不含特殊词元（与本章的彩色词块相同）；每块下方是 id，"
                "字节级 BPE 还显示它代表的 UTF-8 字节。",
    },
    "en": {
        "summary": "Try it: tokenize in your browser",
        "intro": "Type any text and see the tokens it is cut into. Tokenization runs entirely in "
                 "your browser, on tokenizer files this site serves, exported from the same "
                 "models as this chapter (about {size} on first open); no other site is contacted.",
        "text": "Text",
        "tokenizer": "Tokenizer",
        "presets": "Examples",
        "chat": "SmolLM2 · byte-level BPE (chat model)",
        "bert": "all-MiniLM-L6-v2 · WordPiece (BERT)",
        "stats": "{tokens} tokens · {bytes} bytes · {chars} characters",
        "loading": "Loading the tokenizer…",
        "failed": "Could not load the tokenizer: ",
        "bytes": "bytes",
        "noscript": "The tokenizer playground on this page needs JavaScript; "
                    "the examples above are unaffected.",
        "note": "Without special tokens (as the chapter's chips); under each chip its id and, "
                "for byte-level BPE, the UTF-8 bytes it stands for.",
    },
}
PRESETS = {  # truth case → button label; the chapters' own examples
    "email": ("邮件", "Email"),
    "english": ("英文", "English"),
    "chinese": ("中文", "Chinese"),
    "code": ("代码", "Code"),
    "emoji": ("表情符号", "Emoji"),
    "numbers": ("数字", "Numbers"),
    "love": ("爱", "爱"),
    "cost-zh": ("中文句子", "Chinese sentence"),
    "cost-en": ("英文句子", "English sentence"),
    "whitespace": ("空白", "Whitespace"),
    "name": ("名字", "Names"),
}


class Playground:
    """Expands playground markers; reads the stored truth cases once per build."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._truth: Truth | None = None

    def problems(self) -> list[str]:
        """Where Python and the browser's files or results disagree (see llmdocs.playground)."""
        return problems(self.project)

    def page_html(self, html: str, language: str, page_url: str, warn: Callable[[str], None]
                  ) -> str:
        """``html`` with each marker replaced by the widget (unchanged without markers)."""
        if "tokenizer-playground" not in html or not MARKER.search(html):
            return html
        if self._truth is None:
            try:
                self._truth = python_truth(self.project)
            except Exception as exc:  # presets are a convenience: the widget works without
                warn(f"llmdocs: playground presets unavailable: {exc}")
                self._truth = Truth({}, {})
        widget = self.widget(language, get_relative_url(FOLDER, page_url))
        return MARKER.sub(lambda _: widget, html)

    def widget(self, language: str, base: str) -> str:
        """The widget's HTML for one page; ``base`` is the assets folder relative to it."""
        assert self._truth is not None
        text = TEXT.get(language, TEXT["en"])
        index = 0 if language == "zh" else 1
        folder = self.project.root / ASSETS
        sizes = [(folder / tokenizer_file(n)).stat().st_size
                 for n in TOKENIZERS if (folder / tokenizer_file(n)).is_file()]
        size = f"{max(sizes, default=0) / 1e6:.1f} MB"
        cases = self._truth.cases
        presets = "".join(
            f'<button type="button" class="md-button" data-text="{escape(cases[key]["text"])}">'
            f"{escape(labels[index])}</button>"
            for key, labels in PRESETS.items() if key in cases
        )
        first = cases.get("email", {}).get("text", "Hello world!")
        options = "".join(f'<option value="{n}">{escape(text[n])}</option>' for n in TOKENIZERS)
        strings = {k: text[k] for k in ("stats", "loading", "failed", "bytes")}
        return (
            f'<div class="llmdocs-playground" hidden data-search-exclude '
            f'data-base="{escape(base)}" data-strings="{escape(json.dumps(strings))}">'
            f'<details class="example"><summary>{escape(text["summary"])}</summary>'
            f'<p>{escape(text["intro"].format(size=size))}</p>'
            f'<div class="llmdocs-playground__form">'
            f'<label>{escape(text["text"])}'
            f'<textarea rows="3" spellcheck="false">{escape(first)}</textarea></label>'
            f'<div role="group" class="llmdocs-playground__presets" '
            f'aria-label="{escape(text["presets"])}">{presets}</div>'
            f'<label>{escape(text["tokenizer"])} <select>{options}</select></label>'
            f"</div>"
            f'<p class="llmdocs-playground__stats" aria-live="polite"></p>'
            f'<ol class="llmdocs-playground__chips"></ol>'
            f'<p class="llmdocs-playground__note">{escape(text["note"])}</p>'
            f"</details></div>"
            f'<noscript><p class="llmdocs-playground__noscript">{escape(text["noscript"])}</p>'
            f"</noscript>"
            f'<script src="{escape(base)}loader.js" defer></script>'
        )
