"""The face classifier behind ``genface evaluate``, trained here on cartoon faces, never downloaded.

A small CNN with one softmax head per factor the cartoon drawer draws from
(:data:`genface.cartoon.FACTORS`: face shape, skin tone, hair colour and style, eye
colour, expression, glasses, background colour). It is trained at first use on 8,000
cartoon faces of a fixed seed, checked on 2,000 more against a held-out accuracy floor
per factor (:data:`MIN_ACCURACY`), and cached with the statistics it scores against
(see :mod:`common.classifier_cache`); a change to the drawer trains a new one.

:class:`FaceScorer` gives, for generated faces: the Frechet distance, in the 128 features
before the heads, to a reference set of real faces (4,000 further cartoon faces, or the
user's own faces); per factor, the share of samples in each predicted class with two
summaries, the number of classes shown and the normalized entropy (collapse at a
glance); and, given InceptionV3 weights, the Kernel Inception Distance. ``ceiling()``
gives the same numbers for held-out real faces: what a perfect generator gets.
"""

import hashlib
import math
import time

import keras
import numpy as np

from common import data, metrics
from common.classifier_cache import load_or_train
from common.errors import require
from genface import cartoon

VERSION = 1
FACTORS = cartoon.FACTORS
IMAGE_SHAPE = (96, 96, 3)
# The classifier's faces are cartoon faces of their own seed (training on cartoon faces
# uses seed 0): faces 0..7999 train it, the next 2,000 are held out, the 4,000 after
# them are the reference set of real faces.
SEED = 1
TRAIN_FACES, HELD_OUT, REFERENCE = 8000, 2000, 4000
EPOCHS, BATCH_SIZE, LEARNING_RATE = 12, 128, 2e-3
# Held-out accuracy each head must reach, a few points below what it reaches (docs/evaluation.md,
# "Evaluating faces"). Glasses: 91% of faces have none, so 0.93 means glasses are seen.
MIN_ACCURACY = {"face_shape": 0.80, "skin_tone": 0.88, "hair_colour": 0.94, "hair_style": 0.92,
                "eye_colour": 0.75, "expression": 0.76, "glasses": 0.93, "background": 0.85}
# Of the user's own faces at most this many are used, held-out ones included.
MAX_REAL_FACES = 12000
KID_SAMPLES = 1000


def build_classifier():
    """96x96x3 faces in [0, 1] -> one softmax per factor, after 128 shared ``features``."""
    conv = keras.layers.Conv2D
    inputs = keras.Input(IMAGE_SHAPE)
    h = keras.layers.Rescaling(2.0, -1.0)(inputs)  # centred inputs: colours are learnt much faster
    # A strided first layer rather than a downscaled input: it still sees the thin lines
    # (glasses, mouths, closed eyes) that averaging to 48x48 would blur away.
    h = conv(16, 4, strides=2, padding="same", activation="relu")(h)  # 48x48
    h = keras.layers.MaxPooling2D()(h)
    h = conv(32, 3, padding="same", activation="relu")(h)
    h = conv(32, 3, padding="same", activation="relu")(h)
    h = keras.layers.MaxPooling2D()(h)  # 12x12
    h = conv(64, 3, padding="same", activation="relu")(h)
    h = keras.layers.MaxPooling2D()(h)  # 6x6
    h = conv(128, 3, padding="same", activation="relu")(h)
    h = keras.layers.Flatten()(h)  # position matters: the background is what lies around the head
    h = keras.layers.Dropout(0.3)(h)
    features = keras.layers.Dense(128, activation="relu", name="features")(h)
    heads = [keras.layers.Dense(len(classes), activation="softmax", name=factor)(features)
             for factor, classes in FACTORS.items()]
    return keras.Model(inputs, heads, name="face_classifier")


def predict(model, images, batch_size=500):
    """``model``'s outputs (a list) for uint8 or [0, 1] float faces, converted a batch at a time."""
    images = np.asarray(images)
    scale = 1.0 / 255.0 if images.dtype == np.uint8 else 1.0
    batches = [model.predict_on_batch(images[k:k + batch_size].astype(np.float32) * scale)
               for k in range(0, len(images), batch_size)]
    return [np.concatenate([np.asarray(b[i]) for b in batches]) for i in range(len(batches[0]))]


def train_classifier(seed=0, faces=TRAIN_FACES, held_out=HELD_OUT, reference=REFERENCE,
                     epochs=EPOCHS, print_fn=print):
    """Train on cartoon faces; returns (model, held-out accuracy per factor, arrays to cache).

    The arrays are what scoring needs and would otherwise redraw the faces for: the
    reference set's feature mean and covariance, and the held-out faces' features and
    class probabilities (all heads side by side).
    """
    import tensorflow as tf

    started = time.monotonic()
    keras.utils.set_random_seed(seed)
    train_x, train_y = cartoon.draw_labelled_faces(faces, SEED)
    model = build_classifier()
    steps = epochs * math.ceil(faces / BATCH_SIZE)
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(LEARNING_RATE, steps)),
                  loss=["sparse_categorical_crossentropy"] * len(FACTORS))
    # Mirrored faces are faces too, with the same factors: twice the variety for nothing.
    flip = keras.layers.RandomFlip("horizontal", seed=seed)
    labels = tuple(train_y[f] for f in FACTORS)
    stream = (data.without_autotuning(tf.data.Dataset.from_tensor_slices((train_x, labels)))
              .shuffle(faces, seed=seed).batch(BATCH_SIZE)
              .map(lambda x, y: (flip(tf.cast(x, tf.float32) / 255.0, training=True), y))
              .prefetch(tf.data.AUTOTUNE))
    model.fit(stream, epochs=epochs, shuffle=False, verbose=0)  # the stream is shuffled already
    del train_x, stream

    held_x, held_y = cartoon.draw_labelled_faces(held_out, SEED, start=faces)
    features_model = feature_extractor(model)
    held_features, *held_probabilities = predict(features_model, held_x)
    accuracy = {factor: round(float(np.mean(p.argmax(1) == held_y[factor])), 4)
                for factor, p in zip(FACTORS, held_probabilities)}
    reference_x, _ = cartoon.draw_labelled_faces(reference, SEED, start=faces + held_out)
    mean, cov = metrics.feature_statistics(predict(features_model, reference_x)[0])
    seconds = time.monotonic() - started
    print_fn(f"face classifier trained on {faces} cartoon faces in {seconds:.0f} s; held-out accuracy "
             f"on {held_out}: " + ", ".join(f"{f} {a:.3f}" for f, a in accuracy.items()))
    arrays = {"reference_mean": mean, "reference_cov": cov, "held_out_features": held_features,
              "held_out_probabilities": np.concatenate(held_probabilities, axis=1)}
    return model, accuracy, arrays


def feature_extractor(model):
    """The classifier with the 128 features as a first output, before the heads."""
    return keras.Model(model.inputs, [model.get_layer("features").output, *model.outputs])


def cache_name():
    """Version, and a hash of the drawer's source and the recipe: either changing trains anew."""
    with open(cartoon.__file__, "rb") as handle:
        source = handle.read()
    recipe = repr((SEED, TRAIN_FACES, HELD_OUT, REFERENCE, EPOCHS, BATCH_SIZE, LEARNING_RATE)).encode()
    return f"face_classifier_v{VERSION}_{hashlib.sha256(source + recipe).hexdigest()[:12]}"


def load_classifier(print_fn=print):
    """The cached classifier (trained now if missing): (model, accuracy per factor, arrays)."""

    def train():
        print_fn("training the face classifier on cartoon faces (first use; cached afterwards)")
        started = time.monotonic()
        model, accuracy, arrays = train_classifier(print_fn=print_fn)
        return model, {"held_out_accuracy": accuracy,
                       "training_seconds": round(time.monotonic() - started, 1)}, arrays

    cached = load_or_train(cache_name(), train)
    stored = cached.info["held_out_accuracy"]  # in FACTORS order, as JSON stores keys sorted
    accuracy = {factor: stored[factor] for factor in FACTORS if factor in stored}
    if not cached.trained_now:
        print_fn(f"face classifier {cached.path}: held-out accuracy " +
                 ", ".join(f"{f} {a:.3f}" for f, a in accuracy.items()))
    short = [f"{f} {accuracy.get(f, 0.0):.3f} < {floor}" for f, floor in MIN_ACCURACY.items()
             if accuracy.get(f, 0.0) < floor]
    require(not short, f"the face classifier fell short of its held-out accuracy floors ({'; '.join(short)}); "
                       f"delete {cached.path} to retrain it")
    return cached.model, accuracy, cached.arrays


def split_by_factor(probabilities):
    """[N, sum of class counts] -> one [N, classes] array per factor, in FACTORS order."""
    bounds = np.cumsum([len(classes) for classes in FACTORS.values()])[:-1]
    return np.split(probabilities, bounds, axis=1)


def factor_coverage(probabilities, classes):
    """Share of samples per predicted class of one factor, the classes shown, the entropy."""
    fractions = metrics.class_fractions(probabilities, len(classes))
    return {"classes_shown": metrics.classes_shown(fractions), "classes": len(classes),
            "entropy": round(metrics.normalized_entropy(fractions), 4),
            "fractions": {name: round(f, 4) for name, f in zip(classes, fractions)}}


def split_real_faces(faces, held_out=HELD_OUT, limit=MAX_REAL_FACES, seed=0):
    """The user's faces (uint8 array or :class:`common.data.ImageFiles`) as (reference, held-out).

    A seeded random split: up to ``held_out`` faces, at most half, are held out; the
    others, up to ``limit`` in all, are the reference set. Both stay in random order, so
    their first faces (those the KID uses) are a random sample too.
    """
    count = len(faces)
    require(count >= 4, f"scoring against your own faces needs at least 4 of them (2 for reference "
                        f"statistics, 2 held out), got {count}")
    order = np.random.default_rng(seed).permutation(count)[:limit]
    held = min(held_out, len(order) // 2)

    def take(indices):
        if isinstance(faces, np.ndarray):
            return faces[indices]
        return np.stack([faces.decode(faces.paths[i]) for i in indices])

    return take(order[held:]), take(order[:held])


class FaceScorer:
    """Frechet distance, per-factor coverage and (on request) KID of [N, 96, 96, 3] faces in [0, 1].

    ``real_faces`` (uint8 array or :class:`common.data.ImageFiles`) makes the user's own
    faces the reference, named ``real_name`` in the report; by default it is the
    cartoon faces. ``inception_weights`` (a file path) adds the Kernel Inception Distance
    on ``kid_samples`` faces of each set.
    """

    def __init__(self, print_fn=print, real_faces=None, real_name=None, inception_weights=None,
                 kid_samples=KID_SAMPLES):
        # Everything the user can get wrong is checked before the classifier is trained.
        real = split_real_faces(real_faces) if real_faces is not None else None
        self.inception, self.kid_samples = None, kid_samples
        if inception_weights:
            from common.inception import load_inception

            require(kid_samples >= 2, f"--kid-samples must be at least 2, got {kid_samples}")
            self.inception = load_inception(inception_weights)
        self.classifier, self.accuracy, arrays = load_classifier(print_fn)
        self.features_model = feature_extractor(self.classifier)
        if real is None:
            self.reference_name = f"cartoon faces (genface.cartoon seed {SEED}, {REFERENCE} faces)"
            self.reference = (arrays["reference_mean"], arrays["reference_cov"])
            self.held_out_outputs = (arrays["held_out_features"],
                                     split_by_factor(arrays["held_out_probabilities"]))
        else:
            reference, held = real
            self.reference_name = f"{real_name} ({len(reference)} faces; {len(held)} more held out)"
            self.reference = metrics.feature_statistics(predict(self.features_model, reference)[0])
            features, *probabilities = predict(self.features_model, held)
            self.held_out_outputs = (features, probabilities)
        self.kid_reference = self.kid_held_out = None
        if self.inception is not None:
            if real is None:  # the cartoon faces are not cached as pictures: drawn again
                start = TRAIN_FACES + HELD_OUT
                reference = _draw_cartoon(min(kid_samples, REFERENCE), start)
                held = _draw_cartoon(min(kid_samples, HELD_OUT), TRAIN_FACES)
            print_fn(f"InceptionV3 features of {min(kid_samples, len(reference))} reference and "
                     f"{min(kid_samples, len(held))} held-out faces for the KID")
            self.kid_reference = self.inception_features(reference)
            self.kid_held_out = self.inception_features(held)
        self.real_faces_are_cartoons = real is None

    def inception_features(self, images):
        from common.inception import inception_features

        return inception_features(self.inception, images[:self.kid_samples])

    def about(self):
        """What the report's numbers rest on: classifier accuracy, reference set, caveats."""
        notes = ["frechet_distance: in the 128 features of the cartoon-face classifier, to the "
                 "reference set; real_held_out is what real faces of the same kind get"]
        if not self.real_faces_are_cartoons:
            notes.append("coverage: the cartoon factors as a classifier of cartoon faces reads them; "
                         "on faces that are not cartoon faces they mean little beyond a comparison "
                         "with real_held_out")
            notes.append("frechet_distance on your own faces: the features were learnt from cartoon "
                         "faces, so they see colours, outlines and layout, not what makes a photo "
                         "look real; read it only beside real_held_out, and for a measure that does "
                         "give --inception-weights (kernel_inception_distance)")
        if self.inception is not None:
            notes.append(f"kernel_inception_distance: unbiased, on up to {self.kid_samples} faces "
                         f"of each set; about 0 for faces like the reference")
        return {"classifier_accuracy": self.accuracy, "reference": self.reference_name, "notes": notes}

    def score(self, images):
        require(len(images) >= 2, f"scoring needs at least 2 faces, got {len(images)}")
        features, *probabilities = predict(self.features_model, images)
        kid_features = self.inception_features(images) if self.inception is not None else None
        return self._summary(features, probabilities, kid_features)

    def ceiling(self):
        """The same numbers for the held-out real faces: what a perfect generator gets."""
        return self._summary(*self.held_out_outputs, self.kid_held_out)

    def _summary(self, features, probabilities, kid_features):
        result = {"samples": int(len(features)),
                  "frechet_distance": metrics.frechet_distance(*metrics.feature_statistics(features),
                                                               *self.reference)}
        if kid_features is not None:
            result["kernel_inception_distance"] = metrics.kernel_distance(kid_features, self.kid_reference)
        result["coverage"] = {factor: factor_coverage(p, classes)
                              for (factor, classes), p in zip(FACTORS.items(), probabilities)}
        return result

    @staticmethod
    def scalars(result):
        """The numbers ``train --eval-every`` logs: name -> value."""
        scalars = {"frechet_distance": result["frechet_distance"]}
        if "kernel_inception_distance" in result:
            scalars["kernel_inception_distance"] = result["kernel_inception_distance"]
        for factor, coverage in result["coverage"].items():
            scalars[f"coverage/{factor}"] = coverage["classes_shown"] / coverage["classes"]  # share shown
            scalars[f"entropy/{factor}"] = coverage["entropy"]
        return scalars


def _draw_cartoon(count, start):
    return cartoon.draw_labelled_faces(count, SEED, start=start)[0]
