# %% [markdown]
# # The tokenizer playground's truth cases
#
# The playground on the tokenizer pages tokenizes in the reader's browser (Tokenizers.js) from
# tokenizer files exported from the same models as the chapters (see playground/README.md).
# This chapter records what Python's 🤗 tokenizers makes of a fixed set of inputs, so that the
# build and the browser tests can hold the two together, token by token and id by id.

# %% load
import os

from transformers import AutoTokenizer

chat_id = os.environ.get("LLM_BASICS_CHAT_MODEL", "microsoft/Phi-3-mini-4k-instruct")
bert_id = os.environ.get("LLM_BASICS_BERT_MODEL", "bert-base-uncased")
tokenizers = {
    "chat": AutoTokenizer.from_pretrained(chat_id),
    "bert": AutoTokenizer.from_pretrained(bert_id),
}
for name, tokenizer in tokenizers.items():
    print(name, type(tokenizer.backend_tokenizer.model).__name__, tokenizer.vocab_size)

# %% files
# The tokenizer.json the browser loads is the backend tokenizer exactly as Python uses it
# (its compact serialisation); the playground's files must have these digests.
import hashlib

for name, tokenizer in tokenizers.items():
    serialized = tokenizer.backend_tokenizer.to_str().encode("utf-8")
    print(name, "sha256:" + hashlib.sha256(serialized).hexdigest(), len(serialized))

# %% cases
# The fixed inputs: the chapters' own examples, then whitespace runs, names, accents, emoji.
# One JSON line per input (ASCII-escaped), without special tokens, as the chapters' chips.
import json

cases = {
    "email": "Write an email apologizing to Sarah for the tragic gardening mishap.",
    "hello": "Hello world!",
    "english": "Tokenizers split unbelievable words into pieces.",
    "chinese": "我爱自然语言处理。",
    "code": "def add(a, b):\n    return a + b",
    "emoji": "I love 🤗 and 🐍!",
    "numbers": "In 2024, π ≈ 3.14159 and 1,000,000 tokens.",
    "love": "爱",
    "cost-zh": "我喜欢自然语言处理，它很有趣。",
    "cost-en": "I like natural language processing; it is fun.",
    "whitespace": "a  b\t\tc\n\n\n   d    \n",
    "indent": "if x:\n\tif y:\n        return [1,  2]\r\n",
    "name": "My name is Zhang Wei (张伟), Zoë O'Brien-Müller.",
    "accents": "Café naïve résumé – ½ ﬁ Ⅻ",
    "emoji-zwj": "👩‍💻 👍🏽 🇨🇳 ❤️",
    "digits": "3.14e-10 0x1F 007 ١٢٣ 12345678901234567890",
    "mixed": "GPT-4o 的上下文是 128k tokens；中文 English 混排。",
    "special": "<|im_start|>user\nHi<|im_end|> [CLS] [SEP]",
}
for key, text in cases.items():
    line = {"case": key, "text": text}
    for name, tokenizer in tokenizers.items():
        ids = tokenizer(text, add_special_tokens=False).input_ids
        line[name] = {"ids": ids, "tokens": tokenizer.convert_ids_to_tokens(ids)}
    print(json.dumps(line))
