"""Score generated faces with networks ``genface evaluate`` does not use: a check on its
numbers that shares none of its classifier.

A multi-layer perceptron on 24x24 downsampled faces (the project's scorer is a CNN on the
full 96x96) is trained, seeded, on cartoon faces drawn from another seed than the
scorer's, to read the same eight factors. Each given ``.npz`` of faces (as ``genface
generate -n N --out FILE.npz`` writes them) and a held-out set of real cartoon faces get:
the Frechet distance in the perceptron's last hidden layer to a reference set, and how many
classes of each factor show (a class shows when at least 1% of the faces are read as it)::

    python -m genface generate --run runs/faces-best -n 2000 --seed 7 --out faces.npz
    python -m benchmarks.independent_face_score faces.npz --json docs/faces/independent.json
"""

import os
import sys

import cv2
import keras
import numpy as np

from benchmarks import shared
from common import metrics
from genface.cartoon import FACTORS, draw_labelled_faces

SIDE = 24
SEED = 11  # the drawer's seed for the perceptron's faces (genface.scorer uses seed 1)
TRAIN, HELD_OUT, REFERENCE = 8000, 2000, 4000


def downsample(images):
    """uint8 or [0, 1] faces -> float32 [N, 24*24*3] in [0, 1] (area interpolation)."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        images = np.clip(np.rint(np.clip(images, 0.0, 1.0) * 255.0), 0, 255).astype(np.uint8)
    small = np.stack([cv2.resize(image, (SIDE, SIDE), interpolation=cv2.INTER_AREA) for image in images])
    return small.reshape(len(images), -1).astype(np.float32) / 255.0


def train_perceptron(seed, epochs, print_fn=print):
    print_fn(f"drawing {TRAIN + HELD_OUT + REFERENCE} cartoon faces (seed {SEED})")
    faces, labels = draw_labelled_faces(TRAIN + HELD_OUT + REFERENCE, SEED)
    x = downsample(faces)
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((x.shape[1],))
    h = keras.layers.Dense(512, activation="relu")(inputs)
    h = keras.layers.Dropout(0.2)(h)
    features = keras.layers.Dense(128, activation="relu", name="features")(h)
    outputs = [keras.layers.Dense(len(classes), activation="softmax", name=name)(features)
               for name, classes in FACTORS.items()]
    model = keras.Model(inputs, outputs)
    model.compile("adam", ["sparse_categorical_crossentropy"] * len(FACTORS),
                  metrics=[["accuracy"] for _ in FACTORS])
    train = slice(0, TRAIN)
    model.fit(x[train], [labels[name][train] for name in FACTORS], epochs=epochs, batch_size=128, verbose=0)
    held = slice(TRAIN, TRAIN + HELD_OUT)
    predicted = model.predict(x[held], batch_size=1000, verbose=0)
    accuracy = {name: round(float(np.mean(p.argmax(axis=1) == labels[name][held])), 4)
                for name, p in zip(FACTORS, predicted)}
    extractor = keras.Model(inputs, [features, *outputs])
    reference = metrics.feature_statistics(extractor.predict(x[TRAIN + HELD_OUT:], batch_size=1000,
                                                             verbose=0)[0])
    return extractor, accuracy, reference, faces[held]


def score(extractor, reference, images):
    features, *probabilities = extractor.predict(downsample(images), batch_size=1000, verbose=0)
    shown = {}
    for (name, classes), p in zip(FACTORS.items(), probabilities):
        fractions = np.bincount(p.argmax(axis=1), minlength=len(classes)) / len(p)
        shown[name] = f"{int(np.sum(fractions >= 0.01))} of {len(classes)}"
    distance = metrics.frechet_distance(*metrics.feature_statistics(features), *reference)
    return {"samples": len(images), "frechet_distance": round(float(distance), 2), "classes_shown": shown}


def read_images(path):
    with np.load(path) as archive:
        return archive["images"]


def main(argv=None):
    args = shared.scorer_arguments(argv, "benchmarks.independent_face_score", __doc__, epochs=15)
    started = shared.moment()
    extractor, accuracy, reference, held_out = train_perceptron(args.seed, args.epochs)
    results = {"scorer": f"MLP {SIDE}x{SIDE}x3-512-128 with a head per factor, on {TRAIN} cartoon faces of seed "
                         f"{SEED}; Frechet distance to {REFERENCE} more",
               "held_out_accuracy": accuracy, "real_held_out": score(extractor, reference, held_out),
               "scored": {os.path.basename(path): score(extractor, reference, read_images(path))
                          for path in args.images}}
    return shared.print_and_write(results, args, started)


if __name__ == "__main__":
    if __package__ in (None, ""):
        sys.exit(f"run it from the repository root as: python -m benchmarks.{os.path.basename(__file__)[:-3]}")
    sys.exit(main())
