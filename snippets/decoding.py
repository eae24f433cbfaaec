# %% [markdown]
# # Decoding — turning probabilities into text
#
# Greedy decoding, sampling with temperature, top-k and top-p, repetition, length limits
# and the end-of-turn token. Every sampled run starts with torch.manual_seed, so it
# reproduces on the same machine and library versions.

# %% load
import os

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

model_id = os.environ.get("LLM_BASICS_CHAT_MODEL", "microsoft/Phi-3-mini-4k-instruct")
device = os.environ.get("LLM_BASICS_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
model = AutoModelForCausalLM.from_pretrained(model_id, dtype="auto").to(device)
tokenizer = AutoTokenizer.from_pretrained(model_id)

# %% prompt
messages = [{"role": "user", "content": "Write a one-sentence story about a cat."}]
# return_dict=True: a BatchEncoding with input_ids and attention_mask, ready for generate().
inputs = tokenizer.apply_chat_template(
    messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
).to(device)
prompt_length = inputs.input_ids.shape[1]


def reply(output):
    """Only the new tokens, as text."""
    return tokenizer.decode(output[0, prompt_length:], skip_special_tokens=True)


print(prompt_length, "prompt tokens")

# %% generation-config
# What the checkpoint's generation_config.json sets …
print(model.generation_config)
# … and what generate() fills in for every setting that neither it nor the call sets.
defaults = GenerationConfig._get_default_generation_params()
keys = ("do_sample", "temperature", "top_k", "top_p", "max_length")
print({key: defaults[key] for key in keys})

# %% greedy
# Greedy: always the most probable token. No randomness, so no seed is needed.
output = model.generate(**inputs, max_new_tokens=60, do_sample=False)
print(reply(output))

# %% greedy-loop
# Greedy decoding by hand: run the model, take the highest score, append it, repeat.
ids = inputs.input_ids
with torch.no_grad():
    for _ in range(20):
        next_id = model(ids).logits[0, -1].argmax()
        ids = torch.cat([ids, next_id.view(1, 1)], dim=1)
        if next_id.item() == tokenizer.eos_token_id:
            break

output = model.generate(**inputs, max_new_tokens=20, do_sample=False)
print("loop:      ", ids[0, prompt_length:].tolist())
print("generate():", output[0, prompt_length:].tolist())
print("identical: ", torch.equal(ids, output))
print(reply(ids))

# %% temperature compare={"devices": "kinds", "why": {"en": "sampling draws from the device's random number generator, and for the same seed CUDA's numbers differ from the CPU's", "zh": "采样用的是设备自己的随机数生成器，同一个种子在 CUDA 上和在 CPU 上给出的随机数并不相同"}}
# top_k=0 switches off the top-k of 50 that generate() applies when nothing sets it:
# only the temperature reshapes the distribution ("pure" temperature sampling).
sampled = {}
for temperature in [0.7, 1.5]:
    torch.manual_seed(0)
    output = model.generate(
        **inputs, max_new_tokens=60, do_sample=True, temperature=temperature, top_k=0
    )
    sampled[temperature] = reply(output)
    print(f"T={temperature}: {sampled[temperature]}\n")

# %% same-seed compare={"devices": "kinds", "why": {"en": "sampling draws from the device's random number generator, and for the same seed CUDA's numbers differ from the CPU's", "zh": "采样用的是设备自己的随机数生成器，同一个种子在 CUDA 上和在 CPU 上给出的随机数并不相同"}}
# The same seed gives the same "random" choices; another seed gives another reply.
for seed in [0, 1]:
    torch.manual_seed(seed)
    output = model.generate(
        **inputs, max_new_tokens=60, do_sample=True, temperature=0.7, top_k=0
    )
    print(f"seed {seed}, same as before: {reply(output) == sampled[0.7]}")
    print(reply(output) + "\n")

# %% top-k compare={"devices": "kinds", "why": {"en": "sampling draws from the device's random number generator, and for the same seed CUDA's numbers differ from the CPU's", "zh": "采样用的是设备自己的随机数生成器，同一个种子在 CUDA 上和在 CPU 上给出的随机数并不相同"}}
# Sample only among the k most probable tokens.
torch.manual_seed(0)
output = model.generate(**inputs, max_new_tokens=60, do_sample=True, top_k=5)
print(reply(output))

# %% top-p compare={"devices": "kinds", "why": {"en": "sampling draws from the device's random number generator, and for the same seed CUDA's numbers differ from the CPU's", "zh": "采样用的是设备自己的随机数生成器，同一个种子在 CUDA 上和在 CPU 上给出的随机数并不相同"}}
# Sample among the fewest tokens whose probabilities add up to at least p ("nucleus");
# top_k=0 again, so that the default top-k of 50 does not cut the nucleus short.
torch.manual_seed(0)
output = model.generate(**inputs, max_new_tokens=60, do_sample=True, top_p=0.9, top_k=0)
print(reply(output))

# %% repetition
# A plain continuation (no chat template) on which greedy decoding gets stuck in a loop.
text = tokenizer("I like apples. I like bananas. I like", return_tensors="pt").to(device)
start = text.input_ids.shape[1]

output = model.generate(**text, max_new_tokens=40, do_sample=False)
print("greedy:            ", repr(tokenizer.decode(output[0, start:])))

# repetition_penalty > 1 lowers the logits of tokens already in the sequence.
output = model.generate(**text, max_new_tokens=40, do_sample=False, repetition_penalty=1.3)
print("repetition_penalty:", repr(tokenizer.decode(output[0, start:])))

# %% max-new-tokens
# max_new_tokens counts only generated tokens; the reply simply stops when it is reached.
for limit in [5, 15]:
    output = model.generate(**inputs, max_new_tokens=limit, do_sample=False)
    print(f"{limit:>2} new tokens: {reply(output)!r}")

# %% end-of-turn
# The chat template closes every turn with a special token: <|im_end|> for SmolLM2,
# <|end|> for Phi-3. Generation stops as soon as the model produces it.
end_of_turn = "<|im_end|>" if "<|im_end|>" in tokenizer.get_vocab() else "<|end|>"
end_id = tokenizer.convert_tokens_to_ids(end_of_turn)

output = model.generate(**inputs, max_new_tokens=200, do_sample=False, eos_token_id=end_id)
new_ids = output[0, prompt_length:]
print(f"stop token: {end_of_turn} (id {end_id})")
print(f"generated {len(new_ids)} of at most 200 new tokens")
print("last tokens:", tokenizer.convert_ids_to_tokens(new_ids[-3:]))
