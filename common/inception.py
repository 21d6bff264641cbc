"""InceptionV3 features for the Kernel Inception Distance, from a weights file the user gives.

Nothing is downloaded: ``--inception-weights FILE`` names Keras' InceptionV3 weights
without the classification top (``inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5``
as Keras publishes them, or any ``.weights.h5`` saved from
``keras.applications.InceptionV3(include_top=False)``). Images are resized to 299x299,
the size the weights were trained at and the one FID and KID are conventionally
computed at, and the 2048 features are the global average of the last block.
"""

import os

import numpy as np

from common.errors import UserError, require

INPUT_SIZE = 299
FEATURES = 2048


def load_inception(weights_path):
    """Images in [0, 1] of any size -> 2048 InceptionV3 features, with the weights in ``weights_path``.

    The model resizes to 299x299 and maps to Inception's [-1, 1] itself.

    Any failure (no such file, not a weights file, weights of another network) is a
    :class:`UserError` naming the file.
    """
    import keras

    require(os.path.isfile(weights_path), f"--inception-weights {weights_path}: no such file; give "
                                          f"Keras' InceptionV3 no-top weights (.h5), nothing is downloaded")
    try:
        inception = keras.applications.InceptionV3(weights=weights_path, include_top=False, pooling="avg",
                                                   input_shape=(INPUT_SIZE, INPUT_SIZE, 3))
    except Exception as exc:
        reason = " ".join(str(exc).split())[:200]
        raise UserError(f"--inception-weights {weights_path}: not InceptionV3 no-top weights "
                        f"({exc.__class__.__name__}: {reason}); give inception_v3_weights_tf_dim_"
                        f"ordering_tf_kernels_notop.h5 or a .weights.h5 saved from InceptionV3("
                        f"include_top=False)") from exc
    inputs = keras.Input((None, None, 3))
    resized = keras.layers.Resizing(INPUT_SIZE, INPUT_SIZE, interpolation="bilinear")(inputs)
    return keras.Model(inputs, inception(keras.layers.Rescaling(2.0, -1.0)(resized)), name="inception_features")


def inception_features(model, images, batch_size=50):
    """[N, 2048] features of RGB images in [0, 1] (uint8 taken as 0..255)."""
    images = np.asarray(images)
    if len(images) == 0:
        return np.zeros((0, FEATURES), np.float32)
    scale = 1.0 / 255.0 if images.dtype == np.uint8 else 1.0
    return np.concatenate([model.predict_on_batch(images[k:k + batch_size].astype(np.float32) * scale)
                           for k in range(0, len(images), batch_size)])
