"""The original's Python API for faces, ``WGAN_GPModel``, over the port.

Old scripts keep working with one changed import::

    from genface.facade import WGAN_GPModel     # was: from GAN.face_model import WGAN_GPModel
    faces = np.asarray([cv2.imread(p, cv2.IMREAD_COLOR) for p in paths]) / 255.
    WGAN_GPModel(96, 96, 3, 128, 64).train(faces, "model/ganface", "log", 1e-4, train_epochs=50000)
    face, big = WGAN_GPModel(96, 96).prediction("model/ganface", scale_factor=2)
    cv2.imwrite("face.png", face); cv2.imwrite("face_x2.png", big)

``model_path`` becomes a run folder, the one ``python -m genface train`` writes.

Colour order: the old scripts read and wrote images with OpenCV, in BGR order. The
facade speaks that order by default (``channel_order="bgr"``): ``train`` takes BGR images,
``prediction`` returns BGR images ready for ``cv2.imwrite``. Inside, the model works in
RGB like the rest of the port, so its sample grids show true colours (quirk Q7). Pass
``channel_order="rgb"`` to hand over and get back RGB arrays.

``prediction`` in the original could not run (spec section 3): it fed an upscaled input
image to a generator that depends on z alone. Here it does what it was for: it generates
faces from z and, in the role ``imresize`` had, upscales them by ``scale_factor``.
"""

import warnings

import numpy as np

from common import images as image_io
from common.facade import OriginalAPI, check_choice, check_number, check_whole
from genface.models import RECIPES

CHANNEL_ORDERS = ("bgr", "rgb")


class WGAN_GPModel(OriginalAPI):  # noqa: N801  (the original's class name)
    """``WGAN_GPModel(image_height, image_width, channels=3, z_dim=128, batch_size=64)``."""

    recipes = RECIPES
    model_name = "face"
    size_note = (" (its 6x6 reshape fixes the size; for larger pictures use "
                 "prediction(..., scale_factor=K))")

    def __init__(self, image_height, image_width, channels=3, z_dim=128, batch_size=64,
                 channel_order="bgr", fidelity="legacy", seed=None):
        super().__init__(image_height, image_width, channels, z_dim, fidelity=fidelity, seed=seed)
        self.batch_size = check_whole("WGAN_GPModel.__init__", "batch_size", batch_size)
        self.channel_order = check_choice("WGAN_GPModel.__init__", "channel_order", channel_order, CHANNEL_ORDERS)

    def _flip(self, images):
        # Contiguous, so the arrays go straight into cv2.imwrite.
        return np.ascontiguousarray(images[..., ::-1]) if self.channel_order == "bgr" else images

    def _as_images(self, train_images):
        return self._flip(super()._as_images(train_images))

    def train(self, train_images, model_path, logs_path, learning_rate=1e-4, train_epochs=1000):
        """Train on ``train_images`` ([N, 96, 96, 3], floats in [0, 1] or uint8, BGR by default)."""
        self._train(train_images, model_path, logs_path, learning_rate, train_epochs, self.batch_size)

    def prediction(self, model_path, test_image=None, scale_factor=2, batch_size=1):
        """Generated faces and their ``scale_factor`` upscaling: ``(result, intermediate_img)``.

        As the original's pair: ``result`` is what the generator made (uint8, 96x96x3,
        ``clip(x * 255)``), ``intermediate_img`` what its ``imresize`` step made of it
        (bilinear, ``96 * scale_factor`` square). One image each, as the original
        returned, or ``[batch_size, ...]`` arrays for ``batch_size > 1``. ``test_image``
        is accepted for old call sites and has no effect: the original's generator never
        depended on it.
        """
        if test_image is not None:
            warnings.warn("WGAN_GPModel.prediction: test_image has no effect; faces are generated "
                          "from z (the original's generator never depended on its input image)",
                          stacklevel=2)
        scale_factor = check_number("WGAN_GPModel.prediction", "scale_factor", scale_factor)
        image_io.check_scale_factor(self.recipes[self.model_name].image_shape, scale_factor)
        faces = self._generate_uint8(model_path, batch_size)
        upscaled = image_io.resize(faces, scale_factor=scale_factor)
        faces, upscaled = self._flip(faces), self._flip(upscaled)
        if batch_size == 1:
            return faces[0], upscaled[0]
        return faces, upscaled
