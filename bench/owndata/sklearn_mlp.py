#!/usr/bin/env python3
"""A plain scikit-learn MLP on the same splits as mtl's configs (bench/owndata/make_datasets.py).

Same recipe as the mtl configs: one hidden ReLU layer (64 units for the tables, 128 for the digits),
Adam with learning rate 1e-3, the same batch size and number of epochs, no L2 penalty, no early
stopping, the final model. Tables are standardized with statistics of the training rows (mtl's
data.normalize: standardize); digit pixels are divided by 255 (scale01). Prints test accuracy per seed
and the mean, as JSON lines.

  /usr/bin/python3 bench/owndata/sklearn_mlp.py [--seeds 5] [--root datasets/owndata]
"""
import argparse
import csv
import json
import os
import warnings

import numpy as np
from PIL import Image
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

# (hidden, batch, epochs) of configs/<name>.yaml
RECIPES = {
    'iris': ((64,), 16, 200),
    'breast-cancer': ((64,), 16, 100),
    'wine': ((64,), 16, 200),
    'digits': ((128,), 32, 50),
}


def read_table(path, labels, ignore=()):
    with open(path, newline='') as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    feats = [j for j, h in enumerate(header) if h not in labels and h not in ignore]
    x = np.array([[float(r[j]) for j in feats] for r in rows])
    ys = {l: np.array([r[header.index(l)] for r in rows]) for l in labels}
    return x, ys


def read_images(folder):
    xs, ys = [], []
    for cls in sorted(os.listdir(folder)):
        for name in sorted(os.listdir(os.path.join(folder, cls))):
            xs.append(np.asarray(Image.open(os.path.join(folder, cls, name)), dtype=np.float64).ravel() / 255.0)
            ys.append(cls)
    return np.array(xs), np.array(ys)


def mlp(recipe, seed):
    hidden, batch, epochs = recipe
    return MLPClassifier(hidden_layer_sizes=hidden, activation='relu', solver='adam', learning_rate_init=1e-3,
                         batch_size=batch, max_iter=epochs, alpha=0.0, n_iter_no_change=epochs + 1,
                         tol=0.0, shuffle=True, random_state=seed)


def score(name, xtr, ytr, xte, yte, seeds, task=None):
    accs = []
    for seed in seeds:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', ConvergenceWarning)  # max_iter is the epoch budget, on purpose
            model = mlp(RECIPES[name], seed).fit(xtr, ytr)
        accs.append(float((model.predict(xte) == yte).mean()))
    out = {'dataset': name, 'task': task, 'accuracy': accs, 'mean': float(np.mean(accs)), 'std': float(np.std(accs))}
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seeds', type=int, default=5)
    ap.add_argument('--root', default=os.path.join('datasets', 'owndata'))
    a = ap.parse_args()
    seeds = list(range(a.seeds))
    for name, label in (('iris', 'species'), ('breast-cancer', 'diagnosis')):
        xtr, ytr = read_table(os.path.join(a.root, name, 'train.csv'), [label])
        xte, yte = read_table(os.path.join(a.root, name, 'test.csv'), [label])
        sc = StandardScaler().fit(xtr)
        score(name, sc.transform(xtr), ytr[label], sc.transform(xte), yte[label], seeds)
    labels = ['cultivar', 'alcohol_level']
    xtr, ytr = read_table(os.path.join(a.root, 'wine', 'train.csv'), labels, ignore=['alcohol'])
    xte, yte = read_table(os.path.join(a.root, 'wine', 'test.csv'), labels, ignore=['alcohol'])
    sc = StandardScaler().fit(xtr)
    for label in labels:  # a plain MLP per label column: the single-task reference for both tasks
        score('wine', sc.transform(xtr), ytr[label], sc.transform(xte), yte[label], seeds, task=label)
    xtr, ytr = read_images(os.path.join(a.root, 'digits', 'train'))
    xte, yte = read_images(os.path.join(a.root, 'digits', 'test'))
    score('digits', xtr, ytr, xte, yte, seeds)


if __name__ == '__main__':
    main()
