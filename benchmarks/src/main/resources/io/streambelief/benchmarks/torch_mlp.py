"""PyTorch on the same GPU, doing what a Streambelief worker's CUDA engine does per mini-batch:
copy the batch in from pinned host memory, forward, backward, and bring the flat gradient (with
the loss and the hit count) back to pinned host memory. Same MLP (Linear + ReLU, softmax
cross-entropy or sigmoid binary cross-entropy), same batches (read from the files GpuBenchmark
wrote), FP32 matrix products (TF32 off, as cuBLAS's default math mode in our engine).
Prints one line: examples_per_s=<n>."""
import argparse
import time

import numpy as np
import torch

parser = argparse.ArgumentParser()
parser.add_argument("--layers", required=True, help="sizes, e.g. 784,256,128,10")
parser.add_argument("--batch", type=int, required=True)
parser.add_argument("--pool", type=int, required=True, help="batches in the data files")
parser.add_argument("--features", required=True, help="float32 little-endian, pool x batch x inputs")
parser.add_argument("--labels", required=True, help="int32 little-endian, pool x batch")
parser.add_argument("--seconds", type=float, default=3.0)
parser.add_argument("--device", type=int, default=0)
args = parser.parse_args()

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
device = torch.device("cuda", args.device)
sizes = [int(s) for s in args.layers.split(",")]
layers = []
for i in range(len(sizes) - 1):
    layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
    if i < len(sizes) - 2:
        layers.append(torch.nn.ReLU())
model = torch.nn.Sequential(*layers).to(device)
params = list(model.parameters())
binary = sizes[-1] == 1
loss_fn = torch.nn.BCEWithLogitsLoss() if binary else torch.nn.CrossEntropyLoss()

features = torch.from_numpy(np.fromfile(args.features, dtype="<f4").reshape(args.pool, args.batch, sizes[0])).pin_memory()
labels = torch.from_numpy(np.fromfile(args.labels, dtype="<i4").reshape(args.pool, args.batch).astype(np.int64)).pin_memory()
gradient_host = torch.empty(sum(p.numel() for p in params), dtype=torch.float32).pin_memory()
stats_host = torch.empty(2, dtype=torch.float32).pin_memory()


def step(i):
    x = features[i % args.pool].to(device, non_blocking=True)
    y = labels[i % args.pool].to(device, non_blocking=True)
    out = model(x)
    if binary:
        out = out.squeeze(1)
        loss = loss_fn(out, y.float())
        correct = ((out >= 0).long() == y).sum()
    else:
        loss = loss_fn(out, y)
        correct = (out.argmax(1) == y).sum()
    grads = torch.autograd.grad(loss, params)
    gradient_host.copy_(torch.cat([g.reshape(-1) for g in grads]), non_blocking=True)
    stats_host.copy_(torch.stack([loss.detach(), correct.float()]), non_blocking=True)
    torch.cuda.synchronize(device)


for i in range(5):
    step(i)
steps = 0
start = time.perf_counter()
while True:
    step(steps)
    steps += 1
    elapsed = time.perf_counter() - start
    if elapsed >= args.seconds and steps >= 3:
        break
print("examples_per_s=%.1f" % (steps * args.batch / elapsed))
