# %% [markdown]
# # The LM head and the next token

# %% load
import os

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

model_id = os.environ.get("LLM_BASICS_CHAT_MODEL", "microsoft/Phi-3-mini-4k-instruct")
device = os.environ.get("LLM_BASICS_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
model = AutoModelForCausalLM.from_pretrained(model_id, dtype="auto").to(device)
tokenizer = AutoTokenizer.from_pretrained(model_id)
print(model.lm_head)

# %% lm-head-output
prompt = "The capital of France is"
input_ids = tokenizer(prompt, return_tensors="pt").input_ids.to(device)

with torch.no_grad():
    model_output = model.model(input_ids)  # hidden states, before the LM head
    lm_head_output = model.lm_head(model_output[0])  # one score per vocabulary entry

print(model_output[0].shape, "->", lm_head_output.shape)
print(lm_head_output[0, -1])

# %% top-token
next_token_id = lm_head_output[0, -1].argmax()
print(next_token_id.item(), repr(tokenizer.decode(next_token_id)))

# %% tied-weights
# SmolLM2 ties its LM head to the embedding matrix: one tensor for both ends of the model.
embedding_matrix = model.get_input_embeddings().weight
print("lm_head.weight:", tuple(model.lm_head.weight.shape),
      " embed_tokens.weight:", tuple(embedding_matrix.shape))
print("the same tensor:", model.lm_head.weight is embedding_matrix)
print("config.tie_word_embeddings:", model.config.tie_word_embeddings)

# So a token's logit is the dot product of the last hidden state with that token's own
# embedding row (the LM head has no bias).
hidden = model_output[0][0, -1]
token_id = next_token_id.item()
print(f"hidden · row {token_id}: {(hidden @ embedding_matrix[token_id]).item():.3f}")
print(f"logit of {token_id}:     {lm_head_output[0, -1, token_id].item():.3f}")

# %% top-k
logits = lm_head_output[0, -1]
probabilities = torch.softmax(logits.float(), dim=-1)
topk = torch.topk(logits, k=10)
for rank, (score, token_id) in enumerate(zip(topk.values, topk.indices), start=1):
    print(f"{rank:>2}. {tokenizer.decode(token_id)!r:<12} logit {score.item():6.2f}"
          f"  p={probabilities[token_id].item():.3f}")

# %% second-token
# Ranks count from 0: indices[1] is the second most likely token (indices[9] is the tenth).
second_token_id = topk.indices[1]
print(repr(tokenizer.decode(second_token_id)))
