# %% [markdown]
# # Inside the model
#
# The layers of a decoder-only transformer, its size in numbers, and what one layer's
# attention looks like for a short sentence.

# %% load
import os

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

model_id = os.environ.get("LLM_BASICS_CHAT_MODEL", "microsoft/Phi-3-mini-4k-instruct")
device = os.environ.get("LLM_BASICS_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
# "eager" computes attention step by step, so the model can hand back its attention weights
# (the fused default, sdpa, never materializes them).
model = AutoModelForCausalLM.from_pretrained(
    model_id, dtype="auto", attn_implementation="eager"
).to(device)
tokenizer = AutoTokenizer.from_pretrained(model_id)

# %% print-model
print(model)

# %% sizes
config = model.config
total = sum(p.numel() for p in model.parameters())
embedding = model.get_input_embeddings().weight.numel()
print(f"parameters:        {total:,}")
print(f"  token embedding: {embedding:,} ({embedding / total:.0%})")
print(f"hidden size:       {config.hidden_size}")
print(f"layers:            {config.num_hidden_layers}")
print(f"attention heads:   {config.num_attention_heads}"
      f" (key/value heads: {config.num_key_value_heads})")
print(f"MLP size:          {config.intermediate_size}")
print(f"vocabulary:        {config.vocab_size:,}")
print(f"LM head shares the embedding matrix: {config.tie_word_embeddings}")

# %% attentions
sentence = "The animal didn't cross the street because it was too tired."
inputs = tokenizer(sentence, return_tensors="pt").to(device)
with torch.no_grad():
    outputs = model(**inputs, output_attentions=True)

# One tensor per layer: (batch, heads, query position, key position).
print(len(outputs.attentions), "layers of", tuple(outputs.attentions[0].shape))
row_sums = outputs.attentions[0][0, 0].sum(dim=-1)
print("each row sums to 1:", [round(x, 4) for x in row_sums.tolist()[:4]])

# %% heatmap
import matplotlib.pyplot as plt
from matplotlib.colors import PowerNorm

layer = config.num_hidden_layers // 2
weights = outputs.attentions[layer][0].mean(dim=0).float().cpu()  # average over the heads
labels = [tokenizer.decode(token_id) for token_id in inputs.input_ids[0]]

fig, ax = plt.subplots(figsize=(6.4, 5.6), facecolor="white")
# A square-root colour scale, so that small weights stay visible next to large ones.
image = ax.imshow(weights, cmap="Blues", norm=PowerNorm(gamma=0.5, vmin=0, vmax=1))
ax.set_xticks(range(len(labels)), labels, rotation=90)
ax.set_yticks(range(len(labels)), labels)
# No words on the chart (the page explains it in its own language): rows are the tokens
# that look (queries), columns the tokens they look at (keys).
fig.colorbar(image, ax=ax, shrink=0.8)
fig.tight_layout()
plt.show()

# %% it-attends
# Where does "it" look, in that layer? (Causal: only itself and earlier tokens.)
position = [label.strip() for label in labels].index("it")
row = weights[position]
for index in row.argsort(descending=True)[:5].tolist():
    print(f"{labels[index]!r:<10} {row[index].item():.3f}")
