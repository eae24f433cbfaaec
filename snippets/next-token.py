# %% [markdown]
# # Next-token probabilities
#
# Softmax turns the LM head's logits into a probability distribution over the vocabulary;
# temperature reshapes that distribution before a token is picked.

# %% load
import os

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

model_id = os.environ.get("LLM_BASICS_CHAT_MODEL", "microsoft/Phi-3-mini-4k-instruct")
device = os.environ.get("LLM_BASICS_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
model = AutoModelForCausalLM.from_pretrained(model_id, dtype="auto").to(device)
tokenizer = AutoTokenizer.from_pretrained(model_id)

# %% logits
prompt = "I opened the fridge and took out a"
inputs = tokenizer(prompt, return_tensors="pt").to(device)

with torch.no_grad():
    logits = model(**inputs).logits  # (batch, sequence, vocabulary)

next_logits = logits[0, -1].float()  # the scores for the token after the last one
print(logits.shape)
print(next_logits)

# %% softmax
probabilities = torch.softmax(next_logits, dim=-1)  # exp(logit) / sum of exp(all logits)
print(f"sum of all probabilities: {probabilities.sum().item():.4f}")

top = torch.topk(probabilities, k=10)
for rank, (p, token_id) in enumerate(zip(top.values, top.indices), start=1):
    token = tokenizer.decode(token_id)
    print(f"{rank:>2}. {token!r:<14} logit {next_logits[token_id].item():6.2f}   p = {p.item():.3f}")
print(f"top 10 together: {top.values.sum().item():.3f}")

# %% bar-chart
import matplotlib.pyplot as plt

labels = [repr(tokenizer.decode(token_id)) for token_id in top.indices]
fig, ax = plt.subplots(figsize=(7, 3.6), facecolor="white")
ax.barh(labels[::-1], top.values.tolist()[::-1], color="#0072B2")  # highest on top
for y, p in enumerate(top.values.tolist()[::-1]):
    ax.text(p, y, f" {p:.3f}", va="center", fontsize=9, color="#222222")
ax.set_xlabel("p")  # charts carry no words: the page says what they show, in its language
ax.set_xlim(0, top.values[0].item() * 1.2)
ax.spines[["top", "right"]].set_visible(False)
fig.tight_layout()
plt.show()

# %% temperature
temperatures = [0.5, 1.0, 2.0]
# Dividing the logits by T before softmax: T < 1 sharpens the distribution, T > 1 flattens it.
scaled = {t: torch.softmax(next_logits / t, dim=-1) for t in temperatures}

print(f"{'token':<14}" + "".join(f"{f'T={t}':>9}" for t in temperatures))
for token_id in top.indices[:6]:
    row = "".join(f"{scaled[t][token_id].item():>9.3f}" for t in temperatures)
    print(f"{tokenizer.decode(token_id)!r:<14}{row}")
print(f"{'top 6 total':<14}"
      + "".join(f"{scaled[t][top.indices[:6]].sum().item():>9.3f}" for t in temperatures))

# %% temperature-chart
import numpy as np

shown = top.indices[:8]
x = np.arange(len(shown))
width = 0.27
fig, ax = plt.subplots(figsize=(7, 3.4), facecolor="white")
for i, (t, color) in enumerate(zip(temperatures, ["#D55E00", "#0072B2", "#009E73"])):
    ax.bar(x + (i - 1) * width, scaled[t][shown].tolist(), width, label=f"T = {t}", color=color)
ax.set_xticks(x, [repr(tokenizer.decode(token_id)) for token_id in shown], rotation=30)
ax.set_ylabel("p")
ax.legend(frameon=False)
ax.spines[["top", "right"]].set_visible(False)
fig.tight_layout()
plt.show()

# %% by-hand
# The three knobs of sampling, applied by hand to the same logits.
def by_hand(logits, temperature=1.0, top_k=0, top_p=1.0):
    """The distribution that sampling draws from, after temperature, top-k and top-p."""
    probabilities = torch.softmax(logits / temperature, dim=-1)
    if top_k:  # keep the k most probable tokens
        kth = torch.topk(probabilities, top_k).values[-1]
        probabilities = torch.where(probabilities >= kth, probabilities, 0.0)
    if top_p < 1.0:  # keep the fewest tokens whose probabilities reach top_p
        ordered, order = probabilities.sort(descending=True)
        before = ordered.cumsum(0) - ordered  # the sum of all more probable tokens
        kept = ordered * (before < top_p)
        probabilities = torch.zeros_like(probabilities).scatter(0, order, kept)
    return probabilities / probabilities.sum()  # what is left, rescaled to sum to 1


settings = {"temperature=0.7": {"temperature": 0.7}, "top_k=5": {"top_k": 5},
            "top_p=0.5": {"top_p": 0.5}}
hand = {name: by_hand(next_logits, **knobs) for name, knobs in settings.items()}
for name, p in hand.items():
    print(f"{name:<16} {int((p > 0).sum()):>6} tokens can be drawn;"
          f" ' bowl' {p[top.indices[0]].item():.3f}")

# %% sampled compare={"atol": 0.05, "devices": "kinds", "why": {"en": "400 seeded draws from the device's random number generator: CUDA's numbers differ from the CPU's, and float noise alone can change a draw", "zh": "400 次带种子的抽样来自设备自己的随机数生成器：CUDA 的随机数与 CPU 的不同，仅浮点噪声也可能改变某一次抽样"}}
# generate() with the same settings, 400 times one new token (one batch, seeded);
# top_k=0 turns off the default top-k of 50 wherever a setting does not choose its own.
draws = 400
counts = {}
for name, knobs in settings.items():
    torch.manual_seed(0)
    output = model.generate(**inputs, max_new_tokens=1, do_sample=True,
                            num_return_sequences=draws, **{"top_k": 0, **knobs})
    counts[name] = torch.bincount(output[:, -1], minlength=next_logits.shape[0])

for name, p in hand.items():
    outside = int(counts[name][p == 0].sum())
    print(f"{name}: {outside} of {draws} draws outside the tokens by_hand() allows")
    for token_id in p.topk(5).indices:
        print(f"  {tokenizer.decode(token_id)!r:<10} by hand {p[token_id].item():.3f}"
              f"   generate() {counts[name][token_id].item() / draws:.3f}")

# %% sampled-chart compare={"pixel_fraction": 0.05, "devices": "kinds", "why": {"en": "the bar heights are the sampled frequencies above, which follow the device's random numbers", "zh": "柱子的高度就是上面抽样得到的频率，它们随设备的随机数而变"}}
fig, axes = plt.subplots(1, 3, figsize=(9, 3.2), facecolor="white", sharey=True)
for ax, (name, p) in zip(axes, hand.items()):
    shown = p.topk(min(6, int((p > 0).sum()))).indices  # at most 6, none excluded
    x = np.arange(len(shown))
    ax.bar(x - 0.2, p[shown].tolist(), 0.4, label="by_hand()", color="#0072B2")
    ax.bar(x + 0.2, (counts[name][shown] / draws).tolist(), 0.4, label="generate()",
           color="#E69F00")
    ax.set_xticks(x, [repr(tokenizer.decode(i)) for i in shown], rotation=45)
    ax.set_title(name, fontsize=10, family="monospace")
    ax.spines[["top", "right"]].set_visible(False)
axes[0].set_ylabel("p")
axes[0].legend(frameon=False, prop={"family": "monospace"})
fig.tight_layout()
plt.show()
