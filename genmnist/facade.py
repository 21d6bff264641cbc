"""The original's Python API, ``GANModel`` and ``WGANModel``, over the port.

Old scripts keep working with one changed import::

    from genmnist.facade import GANModel          # was: from GAN.mnist_model import GANModel
    gan = GANModel(28, 28)
    gan.train(train_images, "model/gan", "log", 0.0005, train_epochs=10000, batch_size=128)
    digits = GANModel(28, 28, 1, 100).prediction("model/gan", 50)   # uint8 (50, 28, 28)

``model_path`` becomes a run folder (the same one ``python -m genmnist`` writes), so a run
trained here can be generated from, exported or resumed from the command line.
"""

from common.facade import OriginalAPI, check_whole
from genmnist.models import RECIPES


class _OriginalAPI(OriginalAPI):
    recipes = RECIPES
    size_note = " (its 7x7 reshape fixes the size)"
    class_names = {"gan": "GANModel", "wgan": "WGANModel"}

    def __init__(self, image_height, image_width, channels=1, z_dim=100, fidelity="legacy", seed=None):
        super().__init__(image_height, image_width, channels, z_dim, fidelity=fidelity, seed=seed)

    def prediction(self, model_path, batch_size=1):
        """``batch_size`` generated images, uint8 (n, 28, 28), as the original returned them.

        Like the original: z ~ N(0, 1), batch statistics in legacy fidelity, then
        ``clip(x * 255, 0, 255)`` truncated to uint8.
        """
        return self._generate_uint8(model_path, batch_size).reshape(-1, 28, 28)


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
        self.batch_size = check_whole("WGANModel.__init__", "batch_size", batch_size)

    def train(self, train_images, model_path, logs_path, learning_rate=1e-4, train_epochs=100):
        """Train on ``train_images`` ([N, 28, 28, 1], floats in [0, 1] or uint8)."""
        self._train(train_images, model_path, logs_path, learning_rate, train_epochs, self.batch_size)
