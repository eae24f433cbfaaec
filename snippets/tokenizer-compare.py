# %% [markdown]
# # Comparing tokenizers
#
# The same texts through two tokenizers: the byte-level BPE of the chat model and the
# WordPiece of BERT. Tokens are shown as coloured chips; hover one to see its id.

# %% load
import os

from transformers import AutoTokenizer

chat_id = os.environ.get("LLM_BASICS_CHAT_MODEL", "microsoft/Phi-3-mini-4k-instruct")
bert_id = os.environ.get("LLM_BASICS_BERT_MODEL", "bert-base-uncased")
chat_tokenizer = AutoTokenizer.from_pretrained(chat_id)
bert_tokenizer = AutoTokenizer.from_pretrained(bert_id)

tokenizers = {"chat": chat_tokenizer, "BERT": bert_tokenizer}
for name, tokenizer in tokenizers.items():
    # The algorithm lives in the 🤗 tokenizers backend: BPE, WordPiece, Unigram …
    algorithm = type(tokenizer.backend_tokenizer.model).__name__
    print(f"{name:<5} {algorithm:<10} {tokenizer.vocab_size:>6} tokens in the vocabulary")

# %% texts
texts = {
    "English": "Tokenizers split unbelievable words into pieces.",
    "Chinese": "我爱自然语言处理。",
    "Code": "def add(a, b):\n    return a + b",
    "Emoji": "I love 🤗 and 🐍!",
    "Numbers": "In 2024, π ≈ 3.14159 and 1,000,000 tokens.",
}

# %% chips
import html

from IPython.display import HTML

# Light pastel backgrounds with near-black text: high contrast on light and dark pages alike.
PALETTE = ["#bfdbfe", "#fde68a", "#bbf7d0", "#fbcfe8", "#ddd6fe", "#fed7aa"]
CHIP = ("display:inline-block; margin:2px 1px; padding:0 4px; border-radius:4px; "
        "color:#111827; background-color:{}; font-family:monospace; white-space:pre")


def chips(tokenizer, text):
    """The text's tokens as coloured <span> chips; the title shows each token's id."""
    ids = tokenizer(text, add_special_tokens=False).input_ids
    spans = [
        f'<span title="id {token_id}" style="{CHIP.format(PALETTE[i % len(PALETTE)])}">'
        f"{html.escape(token)}</span>"
        for i, (token, token_id) in enumerate(zip(tokenizer.convert_ids_to_tokens(ids), ids))
    ]
    return len(ids), "".join(spans)


rows = []
for label, text in texts.items():
    rows.append(f'<p style="margin:0.8em 0 0.2em"><b>{label}</b> '
                f'<code style="white-space:pre">{html.escape(repr(text))}</code></p>')
    for name, tokenizer in tokenizers.items():
        count, spans = chips(tokenizer, text)
        algorithm = type(tokenizer.backend_tokenizer.model).__name__
        rows.append(f'<div><span style="display:inline-block; font-weight:bold; '
                    f'font-size:0.85em">{algorithm} · {count}</span> {spans}</div>')
HTML("\n".join(rows))

# %% counts
print(f"{'text':<9}{'chars':>6}{'bytes':>7}{'chat':>6}{'BERT':>6}")
for label, text in texts.items():
    counts = [len(t(text, add_special_tokens=False).input_ids) for t in tokenizers.values()]
    print(f"{label:<9}{len(text):>6}{len(text.encode('utf-8')):>7}{counts[0]:>6}{counts[1]:>6}")

# %% round-trip
# Does decode(encode(text)) give the text back?
for label, text in texts.items():
    for name, tokenizer in tokenizers.items():
        decoded = tokenizer.decode(tokenizer(text, add_special_tokens=False).input_ids)
        print(f"{label:<8} {name:<5} {decoded == text!s:<5} {decoded!r}")

# %% bert-chinese
# BERT's WordPiece splits Chinese into single characters; characters missing from the
# vocabulary all become the same [UNK] token.
bert_vocab = bert_tokenizer.get_vocab()
cjk = sum(1 for token in bert_vocab if len(token) == 1 and "\u4e00" <= token <= "\u9fff")
print(cjk, "single Chinese characters in the BERT vocabulary")
print("  ".join(f"{char} {char in bert_vocab}" for char in texts["Chinese"]))

# %% chinese-bytes
char = "爱"
ids = chat_tokenizer(char, add_special_tokens=False).input_ids
print("UTF-8 bytes:   ", char.encode("utf-8"))
print("ids:           ", ids)
print("tokens:        ", chat_tokenizer.convert_ids_to_tokens(ids))
print("one at a time: ", [chat_tokenizer.decode([token_id]) for token_id in ids])
print("all together:  ", chat_tokenizer.decode(ids))

# %% cost
# The same sentence in Chinese and in English, through each tokenizer we have offline.
pair = {
    "Chinese": "我喜欢自然语言处理，它很有趣。",
    "English": "I like natural language processing; it is fun.",
}
print(f"{'':<9}{'chars':>6}{'bytes':>7}" + "".join(f"{name:>7}" for name in tokenizers))
for label, text in pair.items():
    counts = "".join(f"{len(t(text, add_special_tokens=False).input_ids):>7}"
                     for t in tokenizers.values())
    print(f"{label:<9}{len(text):>6}{len(text.encode('utf-8')):>7}{counts}")

# %% cost-why
# Why: how much of each vocabulary is Chinese, and which Chinese pieces BPE has merged.
def is_cjk(char):
    return "\u4e00" <= char <= "\u9fff"


for name, tokenizer in tokenizers.items():
    pieces = [tokenizer.decode([i]) for i in range(tokenizer.vocab_size)]
    whole = sum(1 for piece in pieces if piece.strip() and all(map(is_cjk, piece.strip())))
    print(f"{name:<5} {whole:>5} of {tokenizer.vocab_size} vocabulary entries"
          " are whole Chinese characters or words")

ids = chat_tokenizer(pair["Chinese"], add_special_tokens=False).input_ids
pieces = [chat_tokenizer.decode([i]) for i in ids]
print("chat: characters that are one token each:", [p for p in pieces if is_cjk(p[:1])])
print("chat: '中文' ->", chat_tokenizer.tokenize("中文"))
