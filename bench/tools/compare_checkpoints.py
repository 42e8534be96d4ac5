#!/usr/bin/env python3
"""Compare two TF.js Layers checkpoints weight by weight, independently of mtl and of TF.js.

Reads each folder's model.json weightsManifest and weights.bin with numpy only, and prints, for every
weight both checkpoints hold, whether the bytes are identical (and the largest absolute difference
when not). Used to check that a frozen backbone (the `linear-probe` / `freeze-conv` transfer
strategies) leaves every kernel, bias and BatchNormalization statistic bit-identical.

  /usr/bin/python3 bench/tools/compare_checkpoints.py SOURCE_CKPT_DIR TARGET_CKPT_DIR [--expect-identical REGEX]

With --expect-identical, exits 1 unless every weight whose name matches REGEX is bit-identical
(and at least one matched).
"""
import argparse, json, os, re, sys
import numpy as np

DTYPES = {"float32": np.float32, "int32": np.int32}


def load(folder):
    with open(os.path.join(folder, "model.json")) as f:
        manifest = json.load(f)["weightsManifest"]
    weights = {}
    for group in manifest:
        blob = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            dtype = DTYPES[w["dtype"]]
            count = int(np.prod(w["shape"])) if w["shape"] else 1
            size = count * np.dtype(dtype).itemsize
            weights[w["name"]] = np.frombuffer(blob[offset:offset + size], dtype=dtype).reshape(w["shape"])
            offset += size
        if offset != len(blob):
            sys.exit(f"{folder}: manifest describes {offset} bytes, weights.bin has {len(blob)}")
    return weights


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--expect-identical", default=None)
    args = ap.parse_args()
    a, b = load(args.a), load(args.b)
    pattern = re.compile(args.expect_identical) if args.expect_identical else None
    matched, failed = 0, []
    for name in sorted(set(a) & set(b)):
        x, y = a[name], b[name]
        if x.shape != y.shape:
            status = f"shape {list(x.shape)} vs {list(y.shape)}"
        elif x.tobytes() == y.tobytes():
            status = "identical"
        else:
            status = f"differs (max |diff| {np.max(np.abs(x.astype(np.float64) - y.astype(np.float64))):.3g})"
        print(f"{name:48s} {str(list(x.shape)):18s} {status}")
        if pattern and pattern.search(name):
            matched += 1
            if status != "identical":
                failed.append(name)
    only = sorted(set(a) ^ set(b))
    if only:
        print("in one checkpoint only:", ", ".join(only))
    if pattern:
        if matched == 0:
            sys.exit(f"no weight matched {args.expect_identical!r}")
        if failed:
            sys.exit(f"{len(failed)} of {matched} weights matching {args.expect_identical!r} differ: {', '.join(failed)}")
        print(f"all {matched} weights matching {args.expect_identical!r} are bit-identical")


if __name__ == "__main__":
    main()
