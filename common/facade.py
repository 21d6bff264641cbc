"""What the original's model classes have in common, over the port's run folders.

``GANModel``, ``WGANModel`` (:mod:`genmnist.facade`) and ``WGAN_GPModel``
(:mod:`genface.facade`) keep their constructors and their ``train`` / ``prediction``
signatures. Their ``model_path`` becomes a run folder, the one the command line writes,
so a model trained through the old API can be generated from, exported or resumed from
the command line, and the other way round.
"""

import math
import numbers
import os

import numpy as np

from common import data
from common.recipes import FIDELITIES
from common.errors import UserError, require
from common.run import RunFolder
from common.settings import MAX_STEPS, RunConfig, random_seed
from common.latents import sample_latents
from common.training import train


# --- what each argument takes: one error naming the argument, as the command line gives --


def _where(api, method):
    return f"{type(api).__name__}.{method}"


def check_whole(where, name, value, low=1, high=None):
    """``value`` as an int, or :class:`UserError` naming ``name``: a whole number in ``low..high``."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
    require(ok and low <= value and (high is None or value <= high),
            f"{where}: {name} must be a whole number {bounds}, got {value!r}"
            + ("" if ok else f" ({type(value).__name__})"))
    return int(value)


def check_number(where, name, value, low=0.0, high=math.inf, low_included=False, high_included=False):
    """``value`` as a float, or :class:`UserError` naming ``name``: a finite real number in the range."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    inside = ok and (low <= value if low_included else low < value) and \
        (value <= high if high_included else value < high)
    if high == math.inf:
        bounds = f"{'at least' if low_included else 'greater than'} {low:g}"
    else:
        bounds = f"in {'[' if low_included else '('}{low:g}, {high:g}{']' if high_included else ')'}"
    require(inside, f"{where}: {name} must be a finite number {bounds}, got {value!r}"
                    + ("" if ok else f" ({type(value).__name__})"))
    return float(value)


def check_path(where, name, value):
    """``value`` as a path string, or :class:`UserError`: a folder path (str or os.PathLike)."""
    require(isinstance(value, (str, os.PathLike)) and str(os.fspath(value)).strip(),
            f"{where}: {name} must be a folder path (a str or pathlib.Path), got {value!r}")
    return os.fspath(value)


def check_choice(where, name, value, choices):
    require(isinstance(value, str) and value in choices, f"{where}: {name} must be one of {choices}, got {value!r}")
    return value


def check_seed(where, value):
    return None if value is None else check_whole(where, "seed", value, 0, 2 ** 31 - 1)


# Far beyond the original's 100 and 128, small enough that a generator stays buildable.
MAX_Z_DIM = 100_000
# prediction's images are one batch (the original normalised them together): a bound that
# fits in memory for every model.
MAX_PREDICTION = 100_000


class OriginalAPI:
    """Base of the facades: a subclass names its ``recipes`` and its ``model_name``."""

    recipes = None
    model_name = None
    size_note = ""
    class_names = {}  # model name -> the facade class that trains it, for messages

    def __init__(self, image_height, image_width, channels, z_dim, fidelity="legacy", seed=None):
        recipe = self.recipes[self.model_name]
        where = _where(self, "__init__")
        shape = tuple(check_whole(where, name, value) for name, value in
                      (("image_height", image_height), ("image_width", image_width), ("channels", channels)))
        require(shape == tuple(recipe.image_shape),
                f"{type(self).__name__} is built for {recipe.image_shape} images{self.size_note}, "
                f"got {shape}")
        self.image_height, self.image_width, self.channels = shape
        self.z_dim = check_whole(where, "z_dim", z_dim, 1, MAX_Z_DIM)
        self.fidelity = check_choice(where, "fidelity", fidelity, FIDELITIES)
        self.seed = check_seed(where, seed)

    def _as_images(self, train_images):
        """The caller's images as uint8 [N, H, W, C] in the port's channel order."""
        recipe = self.recipes[self.model_name]
        return data._as_image_batch(np.asarray(train_images), recipe.image_shape, "train_images")

    def _train(self, train_images, model_path, logs_path, learning_rate, train_epochs, batch_size, **extra):
        """Every argument checked, then a new run in ``model_path``; nothing is left there if
        training stops before its first checkpoint."""
        where = _where(self, "train")
        model_path = check_path(where, "model_path", model_path)
        logs_path = check_path(where, "logs_path", logs_path)
        learning_rate = check_number(where, "learning_rate", learning_rate)
        train_epochs = check_whole(where, "train_epochs", train_epochs, 1, MAX_STEPS)
        batch_size = check_whole(where, "batch_size", batch_size)
        if "beta1" in extra:
            extra["beta1"] = check_number(where, "beta1", extra["beta1"], 0.0, 1.0, low_included=True)
        recipe = self.recipes[self.model_name]
        images = self._as_images(train_images)
        require(batch_size <= len(images),
                f"{where}: batch_size {batch_size} is larger than train_images ({len(images)} images)")
        seed = self.seed if self.seed is not None else random_seed()
        config = RunConfig(model=self.model_name, fidelity=self.fidelity, z_dim=self.z_dim,
                           image_shape=tuple(recipe.image_shape), seed=seed, batch_size=batch_size,
                           learning_rate=learning_rate, steps=train_epochs,
                           logs_dir=os.path.abspath(logs_path), **extra).check("the training settings")
        existed = os.path.exists(model_path)
        run = RunFolder.create(model_path, config, option="model_path")
        try:
            train(run, self.recipes, images, train_epochs, checkpoint_every=0)
        except BaseException:
            if not RunFolder.holds_checkpoint(model_path):
                RunFolder.remove_untrained(model_path, existed)
            raise
        print("Model saved in file:", model_path)

    def _open_run(self, model_path, method):
        """The run in ``model_path``, refused where it holds the other model."""
        where = _where(self, method)
        model_path = check_path(where, "model_path", model_path)
        run = RunFolder.open(model_path, None)
        held = run.config.model
        if held != self.model_name:
            raise UserError(f"{where}: {model_path} holds a {held!r} run"
                            + (f" (trained by {self.class_names[held]})" if held in self.class_names else "")
                            + f", not the {self.model_name!r} run {type(self).__name__} generates from; give "
                            + f"the model_path of a {self.model_name!r} run, or use "
                            + (self.class_names.get(held) or "the class that trained it") + " for this one")
        return run

    def _generate_uint8(self, model_path, count, method="prediction"):
        """``count`` generated images as the original's prediction scaled them.

        z ~ N(0, 1), batch statistics in legacy fidelity, then ``clip(x * 255, 0, 255)``
        truncated to uint8; uint8 [count, H, W, C].
        """
        count = check_whole(_where(self, method), "batch_size", count, 1, MAX_PREDICTION)
        model = self._open_run(model_path, method).load_model(self.recipes)
        z = sample_latents(count, model.recipe.z_dim, self.seed)
        result = np.asarray(model.generate(z)) * 255.0
        return np.clip(result, 0, 255).astype(np.uint8)

