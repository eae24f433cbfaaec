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


def bank_vector(sentence):
    """The contextual vector of "bank" in a sentence (last hidden state)."""
    inputs = bert_tokenizer(sentence, return_tensors="pt")
    with torch.no_grad():
        hidden = bert(**inputs).last_hidden_state.squeeze(0)
    tokens = bert_tokenizer.convert_ids_to_tokens(inputs.input_ids.squeeze(0))
    return hidden[tokens.index("bank")]


# Two more sentences, one for each sense, next to the two above.
money = [bank_vectors[0], bank_vector("She took her savings to the bank this morning.")]
river = [bank_vectors[1], bank_vector("We had a picnic on the grassy bank of the stream.")]


def cosine(a, b):
    return F.cosine_similarity(a, b, dim=0).item()


print(f"same sense,  money / money: {cosine(money[0], money[1]):.3f}")
print(f"same sense,  river / river: {cosine(river[0], river[1]):.3f}")
for i, m in enumerate(money, start=1):
    for j, r in enumerate(river, start=1):
        print(f"cross sense, money {i} / river {j}: {cosine(m, r):.3f}")
