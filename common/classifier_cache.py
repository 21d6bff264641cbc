"""Where the classifiers behind the quality metrics live once trained.

Both scorers (:class:`genmnist.classifier.MnistScorer`, :class:`genface.scorer.FaceScorer`)
rest on a small CNN the project trains itself, seeded, at first use; nothing is
downloaded. Training takes minutes, so the result is kept in the user's cache folder
(``$XDG_CACHE_HOME`` or ``~/.cache``, ``tf2-gan-port/``; ``GAN_PORT_CACHE`` overrides it)
under a name that carries a version and a hash of what it was trained from, so changing
either trains a new one instead of reusing a stale one.
"""

import dataclasses
import json
import os

import numpy as np

from common.files import replace_atomically, write_json_atomically


def cache_folder():
    base = os.environ.get("GAN_PORT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "tf2-gan-port")
    os.makedirs(base, exist_ok=True)
    return base


@dataclasses.dataclass
class CachedClassifier:
    model: object  # keras.Model
    info: dict
    arrays: dict
    path: str  # the .keras file
    trained_now: bool


def load_or_train(name, train):
    """The classifier cached as ``name``, or the one ``train()`` makes now, then cached.

    ``train()`` returns ``(model, info, arrays)``: the Keras model, a JSON-able dict
    (held-out accuracy and the like) and a dict of NumPy arrays worth keeping with it
    (reference statistics), possibly empty. They are stored as ``name.keras``,
    ``name.keras.npz`` and ``name.keras.json``, each written whole and renamed into place,
    the JSON last: a training interrupted or run twice at once leaves either a complete
    classifier or none. Returns a :class:`CachedClassifier`.
    """
    import keras

    path = os.path.join(cache_folder(), f"{name}.keras")
    info_path, arrays_path = path + ".json", path + ".npz"
    if os.path.exists(path) and os.path.exists(info_path):
        with open(info_path) as handle:
            info = json.load(handle)
        arrays = {}
        if os.path.exists(arrays_path):
            with np.load(arrays_path, allow_pickle=False) as archive:
                arrays = {key: archive[key] for key in archive.files}
        return CachedClassifier(keras.saving.load_model(path, safe_mode=True), info, arrays, path, False)
    model, info, arrays = train()
    if arrays:  # the partials end in .npz and .keras: np.savez and Keras require them
        replace_atomically(arrays_path, lambda partial: np.savez(partial, **arrays), suffix=".partial.npz")
    replace_atomically(path, model.save, suffix=".partial.keras")
    write_json_atomically(info_path, info, sort_keys=True)
    return CachedClassifier(model, info, arrays, path, True)
