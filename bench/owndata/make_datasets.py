#!/usr/bin/env python3
"""Write real public data sets shipped by Debian's python3-sklearn as mtl's own-data forms.

Nothing here is made up: the rows are the UCI tables and the 8x8 digits that scikit-learn ships in
/usr/lib/python3/dist-packages/sklearn/datasets/data/ (apt-get install python3-sklearn), read with
sklearn's own loaders. The only things added are column names and class names (from sklearn's
feature_names / target_names), one derived label (wine's alcohol level, below) and a fixed split.

  datasets/owndata/iris/{train,test}.csv           Fisher's iris: 4 measurements, `species` as text
  datasets/owndata/breast-cancer/{train,test}.csv  Wisconsin diagnostic: 30 measurements, `diagnosis`
  datasets/owndata/wine/{train,test}.csv           UCI wine: 13 measurements, two label columns:
        cultivar  (class_0..class_2, the data set's own label)
        alcohol_level  (low / medium / high: the `alcohol` column cut at its tertiles over all 178 rows;
                        the alcohol column itself is then NOT a feature: configs/wine-multitask.yaml
                        lists it under data.ignore)
  datasets/owndata/digits/{train,test}/<digit>/<n>.png   the 1,797 8x8 digits, 0-16 scaled to 0-255

Every split is sklearn's train_test_split(test_size=0.2, stratify=<label>, random_state=0), shared by
mtl (data.test: <file>, or the train/ and test/ folders) and by sklearn_mlp.py, so both are scored
on exactly the same test rows.
"""
import csv
import os
import sys

import numpy as np
from PIL import Image
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.model_selection import train_test_split

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join('datasets', 'owndata')
SEED = 0


def clean(name):
    """sklearn's 'sepal length (cm)' -> 'sepal_length_cm' (plain CSV headers)."""
    return name.replace(' (', '_').replace(')', '').replace(' ', '_').replace('/', '_')


def write_table(folder, header, rows_train, rows_test):
    os.makedirs(folder, exist_ok=True)
    for part, rows in (('train', rows_train), ('test', rows_test)):
        with open(os.path.join(folder, f'{part}.csv'), 'w', newline='') as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)


def one_label_table(name, bunch, label):
    x, y = bunch.data, bunch.target
    names = [str(n) for n in bunch.target_names]
    header = [clean(c) for c in bunch.feature_names] + [label]
    idx_train, idx_test = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=SEED)
    rows = lambda idx: [[repr(float(v)) for v in x[i]] + [names[y[i]]] for i in idx]
    write_table(os.path.join(OUT, name), header, rows(idx_train), rows(idx_test))
    print(f'{name}: {len(idx_train)} train / {len(idx_test)} test rows, classes {names}')


def wine():
    b = load_wine()
    x, y = b.data, b.target
    alcohol = x[:, list(b.feature_names).index('alcohol')]
    cuts = np.quantile(alcohol, [1 / 3, 2 / 3])
    level = np.where(alcohol <= cuts[0], 'low', np.where(alcohol <= cuts[1], 'medium', 'high'))
    header = [clean(c) for c in b.feature_names] + ['cultivar', 'alcohol_level']
    idx_train, idx_test = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=SEED)
    rows = lambda idx: [[repr(float(v)) for v in x[i]] + [str(b.target_names[y[i]]), str(level[i])] for i in idx]
    write_table(os.path.join(OUT, 'wine'), header, rows(idx_train), rows(idx_test))
    print(f'wine: {len(idx_train)} train / {len(idx_test)} test rows; alcohol tertile cuts {cuts.round(3).tolist()}')


def digits():
    b = load_digits()
    x, y = b.images, b.target
    idx_train, idx_test = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=SEED)
    for part, idx in (('train', idx_train), ('test', idx_test)):
        for i in idx:
            folder = os.path.join(OUT, 'digits', part, str(y[i]))
            os.makedirs(folder, exist_ok=True)
            pixels = np.rint(x[i] * 255.0 / 16.0).astype(np.uint8)
            Image.fromarray(pixels, mode='L').save(os.path.join(folder, f'{i:04d}.png'))
    print(f'digits: {len(idx_train)} train / {len(idx_test)} test 8x8 PNGs in class folders')


if __name__ == '__main__':
    one_label_table('iris', load_iris(), 'species')
    one_label_table('breast-cancer', load_breast_cancer(), 'diagnosis')
    wine()
    digits()
