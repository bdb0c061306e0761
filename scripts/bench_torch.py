"""PyTorch reference for `dtwn bench train`: the paper's CNN (the same layers as src/fl/cnn.ts), SGD steps on random
data, on the CPU with the given thread count.

Usage: python scripts/bench_torch.py HEIGHT WIDTH CHANNELS BATCH STEPS THREADS [--barrier]
After 5 warm-up steps it prints {"ready": true}; with --barrier it then waits for a line on stdin before timing, so
that several processes measure at the same time. Prints one JSON line
{"samplesPerSecond": ..., "threads": ..., "torch": "2.13.0+cpu", "parameters": ...}.
Install PyTorch 2.13 (CPU) with `npm run setup:torch` (a venv in .venv-torch)."""
import json
import sys
import time

import torch
from torch import nn

h, w, c, batch, steps, threads = (int(a) for a in sys.argv[1:7])
barrier = "--barrier" in sys.argv[7:]
torch.set_num_threads(threads)
torch.set_num_interop_threads(1)
torch.manual_seed(1)
model = nn.Sequential(
    nn.Conv2d(c, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(64 * (h // 4) * (w // 4), 512), nn.ReLU(), nn.Linear(512, 10),
)
opt = torch.optim.SGD(model.parameters(), lr=0.01)
loss_fn = nn.CrossEntropyLoss()
x = torch.rand(batch, c, h, w)
y = torch.randint(0, 10, (batch,))


def step():
    opt.zero_grad()
    loss_fn(model(x), y).backward()
    opt.step()


for _ in range(5):
    step()
print(json.dumps({"ready": True}), flush=True)
if barrier:
    sys.stdin.readline()
t0 = time.perf_counter()
for _ in range(steps):
    step()
dt = time.perf_counter() - t0
print(json.dumps({"samplesPerSecond": batch * steps / dt, "threads": threads, "torch": torch.__version__, "parameters": sum(p.numel() for p in model.parameters())}), flush=True)
