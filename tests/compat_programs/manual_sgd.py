"""An MLP regressor trained by the classic hand-written SGD loop on ``p.data`` (the idiom of
countless older tutorials), on data made with NumPy so both frameworks see the same numbers."""
import json

import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(0)
X = torch.from_numpy(rng.standard_normal((512, 8)).astype(np.float32))
w_true = torch.from_numpy(rng.standard_normal((8, 1)).astype(np.float32))
Y = torch.tanh(X @ w_true) + 0.05 * torch.from_numpy(rng.standard_normal((512, 1)).astype(np.float32))

device = "cuda" if torch.cuda.is_available() else "cpu"
model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1)).to(device)
with torch.no_grad():  # the same start in any framework: weights drawn by NumPy
    for p in model.parameters():
        p.copy_(torch.from_numpy(0.3 * rng.standard_normal(tuple(p.shape)).astype(np.float32)))
X, Y = X.to(device), Y.to(device)
lr = 0.05
for step in range(400):
    loss = ((model(X) - Y) ** 2).mean()
    model.zero_grad()
    loss.backward()
    for i, p in enumerate(model.parameters()):
        if i % 2:
            p.data.add_(p.grad, alpha=-lr)   # in-place method on .data
        else:
            p.data += -lr * p.grad           # += on .data
print(json.dumps({"final_loss": loss.item()}))
