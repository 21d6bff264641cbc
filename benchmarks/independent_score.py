"""Score generated digits with a classifier the project's metrics do not use: a check on
``evaluate``'s numbers that shares none of its network.

A multi-layer perceptron (the project's scorer is a CNN) is trained, seeded, on the training
split of the embedded MNIST sample and scores each given ``.npz`` of images (as
``genmnist generate -n N --out FILE.npz`` writes them) and the held-out real digits: the
classifier score, exp(E KL(p(y|x) || p(y))), and the share of each predicted digit::

    python -m genmnist generate --run runs/best -n 5000 --seed 7 --out best.npz
    python -m benchmarks.independent_score best.npz --json docs/preset/independent.json
"""

import os
import sys

import keras
import numpy as np

from benchmarks import shared


def train_classifier(seed, epochs):
    from genmnist.classifier import embedded_split

    keras.utils.set_random_seed(seed)
    train_x, train_y, held_x, held_y = embedded_split()
    model = keras.Sequential([
        keras.Input((784,)),
        keras.layers.Dense(512, activation="relu"), keras.layers.Dropout(0.3),
        keras.layers.Dense(256, activation="relu"), keras.layers.Dropout(0.3),
        keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(flat(train_x / 255.0), train_y, epochs=epochs, batch_size=128, verbose=0)
    accuracy = float(model.evaluate(flat(held_x / 255.0), held_y, verbose=0)[1])
    return model, accuracy, held_x / 255.0


def flat(images):
    return np.asarray(images, np.float32).reshape(len(images), -1)


def read_images(path):
    with np.load(path) as archive:
        images = archive["images"]
    return images / 255.0 if images.dtype == np.uint8 else np.clip(images, 0.0, 1.0)


def score(model, images):
    p = model.predict(flat(images), batch_size=1000, verbose=0).astype(np.float64)
    marginal = p.mean(axis=0)
    kl = np.sum(p * (np.log(p + 1e-12) - np.log(marginal + 1e-12)), axis=1)
    shares = np.bincount(p.argmax(axis=1), minlength=10) / len(p)
    return {"samples": len(images), "classifier_score": round(float(np.exp(kl.mean())), 3),
            "class_fractions": [round(float(s), 4) for s in shares]}


def main(argv=None):
    args = shared.scorer_arguments(argv, "benchmarks.independent_score", __doc__, epochs=20)
    started = shared.moment()
    model, accuracy, held_out = train_classifier(args.seed, args.epochs)
    results = {"classifier": "MLP 784-512-256-10 on the embedded sample's training split",
               "held_out_accuracy": round(accuracy, 4), "real_held_out": score(model, held_out),
               "scored": {os.path.basename(path): score(model, read_images(path)) for path in args.images}}
    return shared.print_and_write(results, args, started)


if __name__ == "__main__":
    if __package__ in (None, ""):
        sys.exit(f"run it from the repository root as: python -m benchmarks.{os.path.basename(__file__)[:-3]}")
    sys.exit(main())
