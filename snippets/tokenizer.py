# %% [markdown]
# # The tokenizer and its vocabulary
#
# Tokens, special tokens, ids and the vocabulary of the chat model's tokenizer.

# %% load
import os

from transformers import AutoTokenizer

model_id = os.environ.get("LLM_BASICS_CHAT_MODEL", "microsoft/Phi-3-mini-4k-instruct")
tokenizer = AutoTokenizer.from_pretrained(model_id)
print(type(tokenizer).__name__)

# %% tokenize
text = "Write an email apologizing to Sarah for the tragic gardening mishap."
tokens = tokenizer.tokenize(text)
print(tokens)
print(tokenizer.convert_tokens_to_ids(tokens))
print(tokenizer.convert_tokens_to_string(tokens))

# %% special-tokens
# Special tokens are ordinary vocabulary entries with reserved meanings.
for name in ("bos_token", "eos_token", "unk_token", "pad_token"):
    token = getattr(tokenizer, name)
    token_id = None if token is None else tokenizer.convert_tokens_to_ids(token)
    print(f"{name:<10} {token!r:<20} id={token_id}")
print(tokenizer.all_special_tokens)

# %% added-special
# Does tokenizer(text) add special tokens by itself? That depends on the tokenizer.
ids = tokenizer("Hello world!").input_ids
print(ids, tokenizer.convert_ids_to_tokens(ids))
print("starts with bos_token:", ids[0] == tokenizer.bos_token_id)
print("ends with eos_token:  ", ids[-1] == tokenizer.eos_token_id)

# %% encode-decode
encoded = tokenizer("Hello world!")
print(encoded.input_ids)
print(tokenizer.decode(encoded.input_ids))

# %% vocab-size
vocab = tokenizer.get_vocab()  # a dict: token -> id
print(len(vocab), "entries")

# %% vocab-sample
# The dict's order is not meaningful (and can change between runs), so we sample by id.
by_id = {token_id: token for token, token_id in vocab.items()}
print({by_id[i]: i for i in range(10000, 10020)})

# %% vocab-first-100
vocab_sorted = sorted(vocab.items(), key=lambda item: item[1])
print(vocab_sorted[:100])
