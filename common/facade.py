"""What the original's model classes have in common, over the port's run folders.

``GANModel``, ``WGANModel`` (:mod:`genmnist.facade`) and ``WGAN_GPModel``
(:mod:`genface.facade`) keep their constructors and their ``train`` / ``prediction``
signatures. Their ``model_path`` becomes a run folder, the one the command line writes,
so a model trained through the old API can be generated from, exported or resumed from
the command line, and the other way round.
"""

import os

import numpy as np

from common import data
from common.errors import require
from common.run import RunConfig, RunFolder, random_seed
from common.training import sample_latents, train


class OriginalAPI:
    """Base of the facades: a subclass names its ``recipes`` and its ``model_name``."""

    recipes = None
    model_name = None
    size_note = ""

    def __init__(self, image_height, image_width, channels, z_dim, fidelity="legacy", seed=None):
        recipe = self.recipes[self.model_name]
        require((image_height, image_width, channels) == tuple(recipe.image_shape),
                f"{type(self).__name__} is built for {recipe.image_shape} images{self.size_note}, "
                f"got {(image_height, image_width, channels)}")
        self.image_height, self.image_width, self.channels = image_height, image_width, channels
        self.z_dim = z_dim
        self.fidelity = fidelity
        self.seed = seed

    def _as_images(self, train_images):
        """The caller's images as uint8 [N, H, W, C] in the port's channel order."""
        recipe = self.recipes[self.model_name]
        return data._as_image_batch(np.asarray(train_images), recipe.image_shape, "train_images")

    def _train(self, train_images, model_path, logs_path, learning_rate, train_epochs, batch_size, **extra):
        recipe = self.recipes[self.model_name]
        images = self._as_images(train_images)
        seed = self.seed if self.seed is not None else random_seed()
        config = RunConfig(model=self.model_name, fidelity=self.fidelity, z_dim=self.z_dim,
                           image_shape=tuple(recipe.image_shape), seed=seed, batch_size=batch_size,
                           learning_rate=learning_rate, steps=train_epochs,
                           logs_dir=os.path.abspath(logs_path), **extra).check("the training settings")
        run = RunFolder.create(model_path, config)
        train(run, self.recipes, images, train_epochs, checkpoint_every=0)
        print("Model saved in file:", model_path)

    def _generate_uint8(self, model_path, count):
        """``count`` generated images as the original's prediction scaled them.

        z ~ N(0, 1), batch statistics in legacy fidelity, then ``clip(x * 255, 0, 255)``
        truncated to uint8; uint8 [count, H, W, C].
        """
        model = RunFolder.open(model_path, self.recipes).load_model(self.recipes)
        z = sample_latents(count, model.recipe.z_dim, self.seed)
        result = np.asarray(model.generate(z)) * 255.0
        return np.clip(result, 0, 255).astype(np.uint8)
