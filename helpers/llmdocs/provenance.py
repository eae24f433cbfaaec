"""Say which model produced each output, from the stored provenance (never typed by hand).

Three things: the models a cell had loaded by the time it ran (the roles its chapter's
code has used up to that cell), the notice at the top of a page naming the models and
device behind its outputs and what changes with the source's models, and the labels of the
two tabs every page uses: the offline model's output, the source's reference.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from .chapters import Chapter
from .profiles import ROLES
from .store import StoredChapter

TAB_LABELS = {
    "zh": {"offline": "离线模型", "reference": "原文参考"},
    "en": {"offline": "Offline model", "reference": "Source reference"},
}
"""One label per kind of output, the same on every page, so that one click (Material's
content.tabs.link) switches every tab set on a page."""

WHAT_CHANGES = {
    "zh": {
        "chat": "换成源教程的 Phi-3-mini（38 亿参数，词表 32064，隐藏维度 3072），代码不变，"
                "但词元 id、词表大小、logits 和生成的文字都会不同",
        "embed": "换成源教程的 GPT-2（词表 50257，向量 768 维），向量和相似度的数值会不同",
        "bert": "换成源教程的 bert-base-uncased（同一套 WordPiece 词表，向量 768 维而非 384 维），"
                "分词相同，但向量和相似度的数值会不同",
    },
    "en": {
        "chat": "with the source's Phi-3-mini (3.8 billion parameters, a 32064-entry vocabulary, "
                "hidden size 3072) the code stays the same, but token ids, vocabulary size, "
                "logits and generated text differ",
        "embed": "with the source's GPT-2 (a 50257-entry vocabulary, 768-dimensional vectors) "
                 "the vectors and similarities differ",
        "bert": "with the source's bert-base-uncased (the same WordPiece vocabulary, vectors of "
                "768 instead of 384 dimensions) the tokens are the same but vectors and "
                "similarities differ",
    },
}

ROLE_NAMES = {
    "zh": {"chat": "对话模型", "embed": "词嵌入", "bert": "BERT 类模型"},
    "en": {"chat": "chat model", "embed": "word embeddings", "bert": "BERT-style model"},
}

WORDS = {
    "zh": {
        "title": "本页输出来自哪个模型",
        "intro": "本页的输出由 {models}在 {device} 上运行代码得到（离线模型，无需访问 Hub）。",
        "reference": "“原文参考”标签页里是源教程模型 {models}在 {device} 上的输出。",
        "join": "、",
        "end": "。",
        "space": "",
    },
    "en": {
        "title": "Which model produced these outputs",
        "intro": "The outputs on this page come from running the code with {models} on {device} "
                 "(the offline models, no Hub needed).",
        "reference": "The “Source reference” tabs show the source's models {models} on {device}.",
        "join": ", ",
        "end": ".",
        "space": " ",
    },
}


def _words(table: dict[str, dict[str, str]], language: str) -> dict[str, str]:
    return table.get(language, table["en"])


VERSION_NAMES = {"python": "Python", "cuda": "CUDA"}


def versions_text(versions: dict[str, str]) -> str:
    """'Python 3.11.7 · torch 2.13.0+cpu · transformers 5.24.0' (CUDA too on a GPU)."""
    return " · ".join(f"{VERSION_NAMES.get(name, name)} {version}"
                      for name, version in versions.items())


def short_id(model_id: str) -> str:
    return model_id.rsplit("/", 1)[-1]


def cell_models(chapter: Chapter, stored: StoredChapter, cell: str) -> dict[str, dict[str, str]]:
    """The models of ``stored`` that ``cell`` could use: the roles its chapter's code has
    named up to and including that cell (a tokenizer cell before BERT is loaded shows only
    the chat model)."""
    names = chapter.cell_names
    upto = names.index(cell) + 1 if cell in names else len(names)
    code = "\n".join(c.source for c in chapter.cells[:upto])
    return {role.name: stored.models[role.name] for role in ROLES
            if role.env in code and role.name in stored.models}


def model_notice_html(
    offline: Iterable[StoredChapter], reference: Iterable[StoredChapter], language: str
) -> str:
    """The box at the top of a page: which models on which device produced its outputs, and
    in one sentence per role what changes with the source's model. '' when nothing is shown."""
    notice = model_notice(offline, reference, language)
    if notice is None:
        return ""
    title, body = (html.escape(part, quote=False) for part in notice)
    return (
        '<div class="admonition info llmdocs-models" data-search-exclude>'
        f'<p class="admonition-title">{title}</p><p>{body}</p></div>'
    )


def model_notice_markdown(
    offline: Iterable[StoredChapter], reference: Iterable[StoredChapter], language: str
) -> str:
    """The same notice as a Markdown block quote, for notebooks ('' when nothing is shown)."""
    notice = model_notice(offline, reference, language)
    if notice is None:
        return ""
    title, body = notice
    return f"> **{title}**\n>\n> {body}"


def model_notice(
    offline: Iterable[StoredChapter], reference: Iterable[StoredChapter], language: str
) -> tuple[str, str] | None:
    """(title, text) of the model notice, as plain text; None when no output is stored."""
    offline, reference = list(offline), list(reference)
    if not offline:
        return None
    words = _words(WORDS, language)
    roles = _roles(offline)
    sentences = [words["intro"].format(
        models=_models_text(offline, roles, language), device=_devices(offline, language),
    )]
    if reference:
        sentences.append(words["reference"].format(
            models=_models_text(reference, _roles(reference), language),
            device=_devices(reference, language),
        ))
    changes = _words(WHAT_CHANGES, language)
    what = [changes[role] for role in roles if role in changes]
    if what:
        sentence = words["join"].join(what)
        sentences.append(sentence[0].upper() + sentence[1:] + words["end"])
    return words["title"], words["space"].join(sentences)


def _roles(stored: list[StoredChapter]) -> list[str]:
    found = {role for chapter in stored for role in chapter.models}
    return [role.name for role in ROLES if role.name in found]


def _models_text(stored: list[StoredChapter], roles: list[str], language: str) -> str:
    names = _words(ROLE_NAMES, language)
    seen: dict[str, list[str]] = {}
    for role in roles:
        model = next(c.models[role]["id"] for c in stored if role in c.models)
        seen.setdefault(short_id(model), []).append(names.get(role, role))
    joiner = _words(WORDS, language)["join"]
    if language == "zh":
        return joiner.join(f"{model}（{joiner.join(r)}）" for model, r in seen.items())
    return joiner.join(f"{model} ({joiner.join(r)})" for model, r in seen.items())


def _devices(stored: list[StoredChapter], language: str) -> str:
    devices = sorted({chapter.device for chapter in stored})
    return _words(WORDS, language)["join"].join(devices)
