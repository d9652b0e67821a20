"""A small CNN classifier on scikit-learn's 8x8 digits: Dataset, DataLoader with shuffling,
Conv2d/MaxPool2d, Adam, cross-entropy, eval loop with torch.no_grad()."""
import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset

digits = load_digits()
X = (digits.images / 16.0).astype(np.float32)[:, None]  # (1797, 1, 8, 8)
y = digits.target.astype(np.int64)
perm = np.random.default_rng(0).permutation(len(y))
train_idx, test_idx = perm[:1400], perm[1400:]

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
torch.manual_seed(0)
train = TensorDataset(torch.tensor(X[train_idx]), torch.tensor(y[train_idx]))
test = TensorDataset(torch.tensor(X[test_idx]), torch.tensor(y[test_idx]))
train_loader = DataLoader(train, batch_size=64, shuffle=True)
test_loader = DataLoader(test, batch_size=256)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 2 * 2, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(torch.flatten(x, 1))


model = Net().to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
for epoch in range(4):
    model.train()
    for data, target in train_loader:
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(data), target)
        loss.backward()
        optimizer.step()

model.eval()
test_loss, correct = 0.0, 0
with torch.no_grad():
    for data, target in test_loader:
        output = model(data.to(device))
        test_loss += F.cross_entropy(output, target, reduction="sum").item()
        correct += (output.argmax(dim=1) == target).sum().item()
n = len(test_loader.dataset)
print(json.dumps({"final_loss": test_loss / n, "accuracy": correct / n}))
