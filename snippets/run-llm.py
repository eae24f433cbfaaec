# %% [markdown]
# # Downloading and running an LLM
#
# Load a chat model and its tokenizer, generate a reply, and look at the token ids
# going in and coming out. Run it as a script (`python snippets/run-llm.py`) or open it
# as a notebook with jupytext.

# %% load compare={"devices": "kinds", "why": {"en": "it names the device the model was loaded on", "zh": "它会说出模型加载到了哪个设备上"}}
import os

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

# The one line that picks the model: the Hub id of the source tutorial by default;
# `llmdocs run` points it at the embedded offline model instead.
model_id = os.environ.get("LLM_BASICS_CHAT_MODEL", "microsoft/Phi-3-mini-4k-instruct")
device = os.environ.get("LLM_BASICS_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")

model = AutoModelForCausalLM.from_pretrained(model_id, dtype="auto").to(device)
tokenizer = AutoTokenizer.from_pretrained(model_id)

print(type(model).__name__, type(tokenizer).__name__)
print(f"{sum(p.numel() for p in model.parameters()):,} parameters on {device}")

# %% chat-prompt
messages = [
    {
        "role": "user",
        "content": "Write an email apologizing to Sarah for the tragic gardening mishap. "
        "Explain how it happened.",
    }
]
# The chat template wraps the message in the model's own role markers and ends with the
# marker that opens the assistant's turn (Phi-3: <|assistant|>, SmolLM2: <|im_start|>assistant).
prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
print(prompt)

# %% generate
input_ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).input_ids.to(device)

generation_output = model.generate(input_ids=input_ids, max_new_tokens=20, do_sample=False)

print(tokenizer.decode(generation_output[0]))

# %% input-ids
print(input_ids)

# %% ids-to-tokens
for token_id in input_ids[0]:
    print(f"{token_id.item():>6}  {tokenizer.decode(token_id)!r}")

# %% generated-ids
print(generation_output)

# %% new-tokens
new_ids = generation_output[0, input_ids.shape[1]:]
for token_id in new_ids[:6]:
    print(f"{token_id.item():>6}  {tokenizer.decode(token_id)!r}")
print("---")
print(tokenizer.decode(new_ids, skip_special_tokens=True))
