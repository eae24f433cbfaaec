# %% [markdown]
# # Chat templates
#
# What apply_chat_template turns a list of messages into, and why role markers written
# by hand only fit the model they were written for.

# %% load
import os

from transformers import AutoTokenizer

model_id = os.environ.get("LLM_BASICS_CHAT_MODEL", "microsoft/Phi-3-mini-4k-instruct")
tokenizer = AutoTokenizer.from_pretrained(model_id)

# %% one-message
messages = [{"role": "user", "content": "What is a token?"}]
print(tokenizer.apply_chat_template(messages, tokenize=False))

# %% generation-prompt
with_prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
without = tokenizer.apply_chat_template(messages, tokenize=False)
print(with_prompt)
print("added at the end:", repr(with_prompt[len(without):]))

# %% system
messages = [
    {"role": "system", "content": "You are a patient teacher. Answer in one sentence."},
    {"role": "user", "content": "What is a token?"},
]
print(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))

# %% multi-turn
messages = [
    {"role": "user", "content": "What is a token?"},
    {"role": "assistant", "content": "A piece of text the model reads as one unit."},
    {"role": "user", "content": "How many tokens is the word 'unbelievable'?"},
]
print(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))

# %% template-ids
# Tokenized: <|im_start|> and <|im_end|> are special tokens with their own ids; the role
# names and the messages are ordinary text.
encoded = tokenizer.apply_chat_template(messages[:1], add_generation_prompt=True, return_dict=True)
ids = encoded.input_ids
tokens = tokenizer.convert_ids_to_tokens(ids)
print(len(ids), "tokens:", tokens)
special = tokenizer.all_special_tokens
print("special:", [(token, i) for token, i in zip(tokens, ids) if token in special])

# %% assistant-literal
# Phi-3 marks the assistant's turn with <|assistant|>. Is that a token for this model?
for marker in ["<|assistant|>", "<|im_start|>"]:
    ids = tokenizer(marker, add_special_tokens=False).input_ids
    print(f"{marker:<14} in vocabulary: {marker in tokenizer.get_vocab()!s:<5}"
          f" -> {len(ids)} token(s) {tokenizer.convert_ids_to_tokens(ids)}")
