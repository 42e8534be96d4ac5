#!/usr/bin/env python3
"""PyTorch peer of configs/multimnist-hps.yaml: MultiLeNet with hard sharing and equal weighting.

Reads mtl's own MultiMNIST (datasets/cache/multimnist.bin, written by any mtl run on multimnist), holds
out 10% of train for validation, and trains the same network (shared conv 1→10→20 + fc 320→50, heads
50→50→10) with Adam 1e-3 (eps 1e-7), batch 256, pixels scaled to [0, 1]; Glorot init by default
(`--init torch` for PyTorch's own). Prints one JSON line per epoch (test accuracy of both tasks and
seconds of the training pass), then a summary line in torch_mnist.py's format, which `mtl bench --peers`
reads (the first --warmup epochs are left out of its statistics; --limit trains on the first N shuffled
examples, as the bench's `multimnist-hps@N` workload trains on N).

  /usr/bin/python3 bench/peers/torch_multimnist.py --epochs 3 --threads 1
  /usr/bin/python3 bench/peers/torch_multimnist.py --epochs 3 --warmup 1 --limit 6000
"""
import argparse, json, os, struct, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.path.join(os.environ.get("MTL_DATA_DIR") or os.path.join(ROOT, "datasets", "cache"), "multimnist.bin")
MAGIC = b"MTLDATA\n"


def read_cache():
    buf = open(CACHE, "rb").read()
    assert buf[:8] == MAGIC, "not an mtl dataset cache"
    (n,) = struct.unpack("<I", buf[8:12])
    header = json.loads(buf[12:12 + n])
    arrays, off = [], 12 + n
    for length in header["lengths"]:
        arrays.append(np.frombuffer(buf, np.uint8, length, off))
        off += length
    xtr, ytr, xte, yte = arrays
    return xtr.reshape(-1, 1, 28, 28), ytr, xte.reshape(-1, 1, 28, 28), yte


class MultiLeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 10, 5), nn.Conv2d(10, 20, 5)
        self.fc = nn.Linear(320, 50)
        self.heads = nn.ModuleList([nn.Sequential(nn.Linear(50, 50), nn.ReLU(), nn.Linear(50, 10)) for _ in range(2)])

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        z = F.relu(self.fc(x.permute(0, 2, 3, 1).reshape(len(x), -1)))
        return [h(z) for h in self.heads]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--init", choices=["glorot", "torch"], default="glorot")
    p.add_argument("--limit", type=int, default=0, help="train on the first N shuffled examples (0 = all)")
    p.add_argument("--warmup", type=int, default=0, help="leave the first N epochs out of the timing statistics")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xtr, ytr, xte, yte = read_cache()
    perm = np.random.RandomState(a.seed).permutation(len(xtr))
    tr = perm[round(len(xtr) * 0.1):]
    if a.limit:
        tr = tr[:a.limit]
    f = lambda x: torch.from_numpy(x.astype(np.float32) / 255.0)
    lab = lambda y: (torch.from_numpy((y // 10).astype(np.int64)), torch.from_numpy((y % 10).astype(np.int64)))
    xtr_t, (ltr, rtr) = f(xtr[tr]), lab(ytr[tr])
    xte_t, (lte, rte) = f(xte), lab(yte)
    net = MultiLeNet()
    if a.init == "glorot":
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    epoch_seconds, acc = [], [0.0, 0.0]
    for epoch in range(1, a.epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(len(xtr_t))
        net.train()
        for s in range(0, len(order), 256):
            i = order[s:s + 256]
            out = net(xtr_t[i])
            loss = F.cross_entropy(out[0], ltr[i]) + F.cross_entropy(out[1], rtr[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
        seconds = time.perf_counter() - start
        epoch_seconds.append(seconds)
        net.eval()
        with torch.no_grad():
            out = net(xte_t)
        acc = [float((o.argmax(1) == y).float().mean()) for o, y in zip(out, (lte, rte))]
        print(json.dumps({"epoch": epoch, "seconds": round(seconds, 2), "left": acc[0], "right": acc[1], "init": a.init}), flush=True)
    measured = epoch_seconds[a.warmup:] or epoch_seconds
    median = float(np.median(measured))
    print(json.dumps({
        "engine": f"pytorch-{torch.__version__}", "model": "multilenet", "threads": a.threads, "epochs": a.epochs,
        "warmup": a.warmup, "samples": len(tr), "epochSecondsAll": epoch_seconds,
        "epochSeconds": {"median": median, "min": min(measured), "max": max(measured)},
        "samplesPerSecond": round(len(tr) / median), "testAccuracy": (acc[0] + acc[1]) / 2,
    }))


if __name__ == "__main__":
    main()
