"""The original's Python API, ``GANModel`` and ``WGANModel``, over the port.

Old scripts keep working with one changed import::

    from genmnist.facade import GANModel          # was: from GAN.mnist_model import GANModel
    gan = GANModel(28, 28)
    gan.train(train_images, "model/gan", "log", 0.0005, train_epochs=10000, batch_size=128)
    digits = GANModel(28, 28, 1, 100).prediction("model/gan", 50)   # uint8 (50, 28, 28)

``model_path`` becomes a run folder (the same one ``python -m genmnist`` writes), so a run
trained here can be generated from, exported or resumed from the command line.
"""

import os

import numpy as np

from common import data
from common.errors import require
from common.run import RunFolder
from common.training import sample_latents, train
from genmnist.models import RECIPES


class _OriginalAPI:
    model_name = None

    def __init__(self, image_height, image_width, channels=1, z_dim=100, fidelity="legacy", seed=None):
        recipe = RECIPES[self.model_name]
        require((image_height, image_width, channels) == recipe.image_shape,
                f"{type(self).__name__} is built for {recipe.image_shape} images (its 7x7 reshape "
                f"fixes the size), got {(image_height, image_width, channels)}")
        self.image_height, self.image_width, self.channels = image_height, image_width, channels
        self.z_dim = z_dim
        self.fidelity = fidelity
        self.seed = seed

    def _train(self, train_images, model_path, logs_path, learning_rate, train_epochs, batch_size, **extra):
        recipe = RECIPES[self.model_name]
        images = data._as_image_batch(np.asarray(train_images), recipe.image_shape, "train_images")
        seed = self.seed if self.seed is not None else int.from_bytes(os.urandom(4), "little") % 2 ** 31
        config = {"model": self.model_name, "fidelity": self.fidelity, "z_dim": self.z_dim,
                  "image_shape": list(recipe.image_shape), "seed": seed, "batch_size": batch_size,
                  "learning_rate": learning_rate, "data": None, "steps": train_epochs,
                  "logs_dir": os.path.abspath(logs_path), **extra}
        run = RunFolder.create(model_path, config)
        train(run, RECIPES, images, train_epochs, checkpoint_every=0)
        print("Model saved in file:", model_path)

    def prediction(self, model_path, batch_size=1):
        """``batch_size`` generated images, uint8 (n, 28, 28), as the original returned them.

        Like the original: z ~ N(0, 1), batch statistics in legacy fidelity, then
        ``clip(x * 255, 0, 255)`` truncated to uint8.
        """
        model = RunFolder.open(model_path, RECIPES).load_model(RECIPES)
        seed = self.seed if self.seed is not None else None
        z = sample_latents(batch_size, model.recipe.z_dim, seed)
        result = np.asarray(model.generate(z)) * 255.0
        return np.clip(result, 0, 255).astype(np.uint8).reshape(-1, 28, 28)


class GANModel(_OriginalAPI):
    """The vanilla GAN: ``GANModel(image_height, image_width, channels=1, z_dim=100)``."""

    model_name = "gan"

    def train(self, train_images, model_path, logs_path, learning_rate=1e-4, beta1=0.9,
              train_epochs=100, batch_size=128):
        """Train on ``train_images`` ([N, 784] or [N, 28, 28, 1], floats in [0, 1] or uint8)."""
        self._train(train_images, model_path, logs_path, learning_rate, train_epochs, batch_size,
                    beta1=beta1)


class WGANModel(_OriginalAPI):
    """The MNIST WGAN-GP: ``WGANModel(image_height, image_width, channels=1, z_dim=100, batch_size=64)``."""

    model_name = "wgan"

    def __init__(self, image_height, image_width, channels=1, z_dim=100, batch_size=64, **kwargs):
        super().__init__(image_height, image_width, channels, z_dim, **kwargs)
        self.batch_size = batch_size

    def train(self, train_images, model_path, logs_path, learning_rate=1e-4, train_epochs=100):
        """Train on ``train_images`` ([N, 28, 28, 1], floats in [0, 1] or uint8)."""
        self._train(train_images, model_path, logs_path, learning_rate, train_epochs, self.batch_size)
