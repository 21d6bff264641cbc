"""Old scripts keep working: the original's GANModel / WGANModel API over the port.

``prediction`` is checked against the original's recipe computed here in NumPy: z from
``np.random.default_rng(seed)``, the generator with batch statistics
(``tests.helpers.numpy_generator``), then ``clip(x * 255, 0, 255)`` truncated to uint8.
"""

import json
import os

import numpy as np
import pytest

from common.errors import UserError
from common.run import RunFolder
from genmnist.facade import GANModel, WGANModel
from genmnist.models import RECIPES
from tests.helpers import network_state, numpy_generator


@pytest.fixture(scope="module")
def train_images(digits):
    # As gantrain() prepared them: flat rows of 784 floats in [0, 1].
    return digits[:64].reshape(-1, 784).astype(np.float64) / 255.0


def expected_prediction(model_path, count, seed):
    """The original's prediction, in NumPy, from the run's generator weights."""
    z = np.random.default_rng(seed).standard_normal((count, 100)).astype(np.float32)
    weights = network_state(RunFolder.open(model_path, RECIPES).load_model(RECIPES).generator)
    return np.clip(numpy_generator(weights, z) * 255, 0, 255).astype(np.uint8)[..., 0]


def assert_same_digits(got, want):
    assert got.shape == want.shape and got.dtype == np.uint8
    # float32 against float64: a value within rounding of an integer may truncate one lower.
    off = np.abs(got.astype(int) - want.astype(int))
    assert off.max() <= 1 and np.mean(off > 0) < 1e-3


def test_gan_train_then_prediction_like_the_original(tmp_path, train_images):
    model_path, logs_path = str(tmp_path / "model" / "gan"), str(tmp_path / "log")
    GANModel(28, 28, seed=1).train(train_images, model_path, logs_path, 0.0005, train_epochs=2, batch_size=8)
    config = json.load(open(os.path.join(model_path, "config.json")))
    assert config["beta1"] == 0.9 and config["learning_rate"] == 0.0005 and config["steps_done"] == 2
    assert config["batch_size"] == 8 and config["global_step"] == 32
    assert os.listdir(logs_path)  # TensorBoard events where the original wrote them
    digits = GANModel(28, 28, 1, 100, seed=7).prediction(model_path, 50)
    assert_same_digits(digits, expected_prediction(model_path, 50, seed=7))
    assert digits.std() > 1  # not a blank page: the check above compares real pictures


def test_wgan_train_then_prediction(tmp_path, train_images):
    model_path = str(tmp_path / "wgan")
    WGANModel(28, 28, batch_size=8, seed=2).train(train_images.reshape(-1, 28, 28, 1), model_path,
                                                  str(tmp_path / "log"), 0.0001, train_epochs=1)
    assert json.load(open(os.path.join(model_path, "config.json")))["batch_size"] == 8
    digits = WGANModel(28, 28, 1, 100, seed=4).prediction(model_path, 5)
    assert_same_digits(digits, expected_prediction(model_path, 5, seed=4))
    assert digits.std() > 1


def test_the_facade_refuses_sizes_the_architecture_cannot_take():
    with pytest.raises(UserError, match="28, 28, 1"):
        GANModel(32, 32)
