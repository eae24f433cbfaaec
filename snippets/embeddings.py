# %% [markdown]
# # Word embeddings and contextual embeddings

# %% embedding-matrix
import os

from transformers import AutoModel, AutoTokenizer

# The source tutorial uses GPT-2 here; any model's input embeddings work the same way.
model_id = os.environ.get("LLM_BASICS_EMBED_MODEL", "gpt2")
tokenizer = AutoTokenizer.from_pretrained(model_id)
model = AutoModel.from_pretrained(model_id)

# GPT-2 calls this layer model.wte; get_input_embeddings() finds it in any architecture.
word_embeddings = model.get_input_embeddings().weight  # (vocab_size, hidden_size)
print(word_embeddings.shape)
print("vocab_size:", model.config.vocab_size, " hidden_size:", model.config.hidden_size)

# %% token-vector
token = "hello"
token_id = tokenizer.convert_tokens_to_ids(token)
embedding = word_embeddings[token_id]
print("token id:", token_id)
print(embedding.shape)
print(embedding[:10])

# %% bank-contextual
import torch
from transformers import AutoModel, AutoTokenizer

bert_id = os.environ.get("LLM_BASICS_BERT_MODEL", "bert-base-uncased")
bert_tokenizer = AutoTokenizer.from_pretrained(bert_id)
bert = AutoModel.from_pretrained(bert_id)
bert.eval()  # inference mode: no dropout

sentences = [
    "I went to the bank to deposit money.",
    "The river bank was covered with lush vegetation.",
]

bank_vectors = []
for sentence in sentences:
    inputs = bert_tokenizer(sentence, return_tensors="pt")
    with torch.no_grad():
        outputs = bert(**inputs)
    token_embeddings = outputs.last_hidden_state.squeeze(0)  # (seq_length, hidden_size)
    tokens = bert_tokenizer.convert_ids_to_tokens(inputs.input_ids.squeeze(0))
    bank_index = tokens.index("bank")  # "bank" is a single WordPiece token
    bank_vectors.append(token_embeddings[bank_index])
    print("sentence:", sentence)
    print("tokens:  ", tokens)
    print("'bank', first 10 values:", bank_vectors[-1][:10].numpy().round(4), "\n")

# %% bank-similarity
import torch.nn.functional as F

contextual = F.cosine_similarity(bank_vectors[0], bank_vectors[1], dim=0)
bank_id = bert_tokenizer.convert_tokens_to_ids("bank")
static = bert.get_input_embeddings().weight[bank_id]  # the same row for both sentences
static_similarity = F.cosine_similarity(static, static, dim=0)
print(f"contextual 'bank' vectors: cosine similarity {contextual.item():.3f}")
print(f"static input embedding:    cosine similarity {static_similarity.item():.3f}")
