"""Old scripts keep working: the original's GANModel / WGANModel API over the port."""

import json
import os

import numpy as np
import pytest

from common.errors import UserError
from genmnist.cli import EMBEDDED
from genmnist.facade import GANModel, WGANModel


@pytest.fixture(scope="module")
def train_images():
    with np.load(EMBEDDED) as archive:
        # As gantrain() prepared them: flat rows of 784 floats in [0, 1].
        return archive["x"][:64].reshape(-1, 784).astype(np.float64) / 255.0


def test_gan_train_then_prediction_like_the_original(tmp_path, train_images):
    model_path, logs_path = str(tmp_path / "model" / "gan"), str(tmp_path / "log")
    GANModel(28, 28, seed=1).train(train_images, model_path, logs_path, 0.0005, train_epochs=2, batch_size=8)
    config = json.load(open(os.path.join(model_path, "config.json")))
    assert config["beta1"] == 0.9 and config["learning_rate"] == 0.0005 and config["steps_done"] == 2
    assert os.listdir(logs_path)  # TensorBoard events where the original wrote them
    digits = GANModel(28, 28, 1, 100).prediction(model_path, 50)
    assert digits.shape == (50, 28, 28) and digits.dtype == np.uint8


def test_wgan_train_then_prediction(tmp_path, train_images):
    model_path = str(tmp_path / "wgan")
    WGANModel(28, 28, batch_size=8, seed=2).train(train_images.reshape(-1, 28, 28, 1), model_path,
                                                  str(tmp_path / "log"), 0.0001, train_epochs=1)
    assert WGANModel(28, 28, 1, 100).prediction(model_path, 5).shape == (5, 28, 28)


def test_the_facade_refuses_sizes_the_architecture_cannot_take():
    with pytest.raises(UserError, match="28, 28, 1"):
        GANModel(32, 32)
