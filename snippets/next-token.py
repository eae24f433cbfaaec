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
ax.set_xlabel("probability")
ax.set_title(f"Next token after {prompt!r}", fontsize=11)
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
ax.set_ylabel("probability")
ax.set_title("The same logits at three temperatures", fontsize=11)
ax.legend(frameon=False)
ax.spines[["top", "right"]].set_visible(False)
fig.tight_layout()
plt.show()
