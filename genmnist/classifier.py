"""The MNIST classifier behind the quality metrics, trained here, never downloaded.

A small CNN trained on 8,000 digits of the embedded sample (a fixed, seeded split; the
other 2,000 are held out). It is trained at first use and cached (see
:mod:`common.classifier_cache`). Its held-out accuracy is printed and must reach 98%, or
the metrics are refused.

:class:`MnistScorer` turns images into what :mod:`common.metrics` needs: class
probabilities and the 128 features of the layer before the softmax.
"""

import hashlib

import keras
import numpy as np
import tensorflow as tf

from common import data, metrics
from common.classifier_cache import load_or_train
from common.errors import require
from genmnist import EMBEDDED

VERSION = 1
HELD_OUT = 2000
MIN_ACCURACY = 0.98


def embedded_split():
    """(train_x, train_y, held_out_x, held_out_y): the fixed split of the embedded sample."""
    with np.load(EMBEDDED, allow_pickle=False) as archive:
        x, y = archive["x"][..., None], archive["y"].astype(np.int64)
    order = np.random.default_rng(20181013).permutation(len(x))
    train, held = order[HELD_OUT:], order[:HELD_OUT]
    return x[train], y[train], x[held], y[held]


def build_classifier():
    inputs = keras.Input((28, 28, 1))
    h = keras.layers.Conv2D(32, 3, activation="relu")(inputs)
    h = keras.layers.Conv2D(64, 3, activation="relu")(h)
    h = keras.layers.MaxPooling2D()(h)
    h = keras.layers.Conv2D(64, 3, activation="relu")(h)
    h = keras.layers.MaxPooling2D()(h)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Dropout(0.4)(h)
    features = keras.layers.Dense(128, activation="relu", name="features")(h)
    h = keras.layers.Dropout(0.4)(features)
    outputs = keras.layers.Dense(10, activation="softmax", name="probabilities")(h)
    return keras.Model(inputs, outputs, name="mnist_classifier")


def train_classifier(seed=0, epochs=12, print_fn=print):
    """Train the classifier on the embedded split; returns (model, held-out accuracy)."""
    keras.utils.set_random_seed(seed)
    train_x, train_y, held_x, held_y = embedded_split()
    model = build_classifier()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    # Small shifts and rotations: 8,000 digits alone stop short of 98% held out.
    augment = keras.Sequential([keras.layers.RandomTranslation(0.1, 0.1, seed=seed),
                                keras.layers.RandomRotation(0.04, seed=seed)])
    stream = (data.without_autotuning(tf.data.Dataset.from_tensor_slices((train_x.astype(np.float32) / 255.0,
                                                                           train_y)))
              .shuffle(len(train_x), seed=seed).batch(64)
              .map(lambda x, y: (augment(x, training=True), y)).prefetch(tf.data.AUTOTUNE))
    model.fit(stream, epochs=epochs, shuffle=False, verbose=0)  # the stream is shuffled already
    accuracy = float(np.mean(model.predict(held_x / 255.0, verbose=0).argmax(1) == held_y))
    print_fn(f"MNIST classifier trained: held-out accuracy {accuracy:.4f} on {len(held_x)} digits")
    return model, accuracy


def load_classifier(print_fn=print):
    """The cached classifier (trained now if missing); returns (model, held-out accuracy)."""
    with open(EMBEDDED, "rb") as handle:
        data_hash = hashlib.sha256(handle.read()).hexdigest()[:12]

    def train():
        model, accuracy = train_classifier(print_fn=print_fn)
        return model, {"held_out_accuracy": accuracy}, {}

    cached = load_or_train(f"mnist_classifier_v{VERSION}_{data_hash}", train)
    accuracy = cached.info["held_out_accuracy"]
    if not cached.trained_now:
        print_fn(f"MNIST classifier {cached.path}: held-out accuracy {accuracy:.4f}")
    require(accuracy >= MIN_ACCURACY, f"the MNIST classifier reached only {accuracy:.4f} held-out "
                                      f"accuracy (< {MIN_ACCURACY}); delete {cached.path} to retrain it")
    return cached.model, accuracy


class MnistScorer:
    """Classifier score, Frechet distance and class fractions of [N, 28, 28, 1] images in [0, 1]."""

    def __init__(self, print_fn=print):
        self.classifier, self.accuracy = load_classifier(print_fn)
        self.features_model = keras.Model(self.classifier.inputs,
                                          [self.classifier.get_layer("features").output,
                                           self.classifier.output])
        train_x, _, held_x, _ = embedded_split()
        self.reference = metrics.feature_statistics(self.outputs(train_x / 255.0)[0])
        self.held_out = held_x / 255.0

    def outputs(self, images):
        features, probabilities = self.features_model.predict(
            np.asarray(images, np.float32), batch_size=500, verbose=0)
        return features, probabilities

    def score(self, images):
        features, probabilities = self.outputs(images)
        return {
            "samples": int(len(images)),
            "classifier_score": metrics.classifier_score(probabilities),
            "frechet_distance": metrics.frechet_distance(*metrics.feature_statistics(features), *self.reference),
            "class_fractions": [round(f, 4) for f in metrics.class_fractions(probabilities, 10)],
        }

    def ceiling(self):
        """The same numbers for the 2,000 held-out real digits: what a perfect generator gets."""
        return self.score(self.held_out)

    def about(self):
        return {"classifier_accuracy": self.accuracy}

    @staticmethod
    def scalars(result):
        """The numbers ``train --eval-every`` logs: name -> value."""
        return {"classifier_score": result["classifier_score"], "frechet_distance": result["frechet_distance"],
                "largest_class_fraction": max(result["class_fractions"])}
