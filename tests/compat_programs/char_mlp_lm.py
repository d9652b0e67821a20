"""A character-level MLP language model in the style of a popular lecture series: embedding
table indexed by a context tensor, tanh hidden layer, F.cross_entropy, hand-written SGD on
``p.data``, then sampling names with torch.multinomial from a seeded Generator."""
import json

import torch
import torch.nn.functional as F

words = ("emma olivia ava isabella sophia charlotte mia amelia harper evelyn abigail emily "
         "elizabeth mila ella avery sofia camila aria scarlett victoria madison luna grace "
         "chloe penelope layla riley zoey nora lily eleanor hannah lillian addison aubrey "
         "ellie stella natalie zoe leah hazel violet aurora savannah audrey brooklyn bella "
         "claire skylar lucy paisley everly anna caroline nova genesis emilia kennedy").split()
chars = sorted(set("".join(words)))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
itos = {i: s for s, i in stoi.items()}
block = 3

X, Y = [], []
for w in words:
    context = [0] * block
    for ch in w + ".":
        X.append(context)
        Y.append(stoi[ch])
        context = context[1:] + [stoi[ch]]
X, Y = torch.tensor(X), torch.tensor(Y)

g = torch.Generator().manual_seed(2147483647)
V = len(stoi)
C = torch.randn((V, 10), generator=g)
W1 = torch.randn((30, 100), generator=g) * 0.2
b1 = torch.randn(100, generator=g) * 0.01
W2 = torch.randn((100, V), generator=g) * 0.01
b2 = torch.zeros(V)
parameters = [C, W1, b1, W2, b2]
for p in parameters:
    p.requires_grad = True

for i in range(1500):
    ix = torch.randint(0, X.shape[0], (32,), generator=g)
    emb = C[X[ix]]                                   # (32, 3, 10)
    h = torch.tanh(emb.view(-1, 30) @ W1 + b1)       # (32, 100)
    logits = h @ W2 + b2
    loss = F.cross_entropy(logits, Y[ix])
    for p in parameters:
        p.grad = None
    loss.backward()
    lr = 0.1 if i < 1000 else 0.01
    for p in parameters:
        p.data += -lr * p.grad

with torch.no_grad():
    emb = C[X]
    h = torch.tanh(emb.view(-1, 30) @ W1 + b1)
    full_loss = F.cross_entropy(h @ W2 + b2, Y).item()

    names = []
    for _ in range(5):
        out, context = [], [0] * block
        while True:
            emb = C[torch.tensor([context])]
            h = torch.tanh(emb.view(1, -1) @ W1 + b1)
            probs = F.softmax(h @ W2 + b2, dim=1)
            ix = torch.multinomial(probs, num_samples=1, generator=g).item()
            context = context[1:] + [ix]
            if ix == 0 or len(out) > 20:
                break
            out.append(itos[ix])
        names.append("".join(out))
print(" ".join(names))
print(json.dumps({"final_loss": full_loss}))
