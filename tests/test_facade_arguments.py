"""The original's Python API checks what it is given (issue 27): every wrong type or value
is one :class:`UserError` naming the argument, before anything is written; ``prediction``
on the other model's folder names both models."""

import os
import pathlib

import numpy as np
import pytest

from common.errors import UserError
from genface.facade import WGAN_GPModel
from genmnist.facade import GANModel, WGANModel

DIGITS = np.zeros((16, 28, 28, 1), np.uint8)


@pytest.mark.parametrize("make, argument", [
    (lambda: GANModel("28", 28), "image_height"),
    (lambda: GANModel(28.0, 28), "image_height"),
    (lambda: GANModel(28, 28, channels=True), "channels"),
    (lambda: GANModel(28, 28, 1, z_dim="100"), "z_dim"),
    (lambda: GANModel(28, 28, 1, z_dim=0), "z_dim"),
    (lambda: GANModel(28, 28, seed="abc"), "seed"),
    (lambda: GANModel(28, 28, seed=-1), "seed"),
    (lambda: GANModel(28, 28, seed=2 ** 31), "seed"),
    (lambda: GANModel(28, 28, fidelity="Fixed"), "fidelity"),
    (lambda: WGANModel(28, 28, batch_size="64"), "batch_size"),
    (lambda: WGANModel(28, 28, batch_size=0), "batch_size"),
    (lambda: WGAN_GPModel(96, 96, batch_size=6.5), "batch_size"),
    (lambda: WGAN_GPModel(96, 96, channel_order="BGR"), "channel_order"),
])
def test_a_constructor_argument_of_the_wrong_type_or_value_is_named(make, argument):
    with pytest.raises(UserError, match=rf"__init__: {argument} must be"):
        make()


@pytest.mark.parametrize("arguments, argument", [
    (dict(learning_rate="0.0005"), "learning_rate"),
    (dict(learning_rate=0.0), "learning_rate"),
    (dict(learning_rate=float("nan")), "learning_rate"),
    (dict(batch_size="8"), "batch_size"),
    (dict(batch_size=8.0), "batch_size"),
    (dict(train_epochs=2.5), "train_epochs"),
    (dict(train_epochs=0), "train_epochs"),
    (dict(train_epochs=10 ** 12), "train_epochs"),
    (dict(beta1=1.0), "beta1"),
    (dict(beta1="0.5"), "beta1"),
    (dict(logs_path=None), "logs_path"),
    (dict(logs_path=""), "logs_path"),
    (dict(model_path=3), "model_path"),
])
def test_a_train_argument_of_the_wrong_type_or_value_is_named_and_nothing_is_written(tmp_path, arguments,
                                                                                    argument):
    call = dict(train_images=DIGITS, model_path=str(tmp_path / "model"), logs_path=str(tmp_path / "logs"))
    call.update(arguments)
    with pytest.raises(UserError, match=rf"GANModel.train: {argument} must be"):
        GANModel(28, 28).train(**call)
    assert os.listdir(tmp_path) == []


def test_a_batch_larger_than_the_images_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(UserError, match="batch_size 64 is larger than train_images"):
        WGANModel(28, 28, batch_size=64).train(DIGITS, str(tmp_path / "model"), str(tmp_path / "logs"))
    assert os.listdir(tmp_path) == []


def test_a_model_path_that_is_no_run_is_refused_and_left_as_it_was(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="model_path .*not a run folder"):
        GANModel(28, 28).train(DIGITS, str(tmp_path), str(tmp_path / "logs"), train_epochs=1, batch_size=8)
    assert os.listdir(tmp_path) == ["notes.txt"]


def test_train_takes_path_objects_and_numpy_whole_numbers(tmp_path):
    GANModel(28, 28, seed=np.int64(3)).train(DIGITS, tmp_path / "model", pathlib.Path(tmp_path / "logs"),
                                             learning_rate=np.float32(5e-4), train_epochs=np.int32(1),
                                             batch_size=np.int64(8))
    assert (tmp_path / "model" / "checkpoints").is_dir()


@pytest.fixture(scope="module")
def gan_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("facade") / "gan"
    GANModel(28, 28, seed=1).train(DIGITS, str(out), str(out.parent / "logs"), train_epochs=1, batch_size=8)
    return str(out)


def test_prediction_on_the_other_models_folder_names_both(gan_run):
    with pytest.raises(UserError, match=r"holds a 'gan' run \(trained by GANModel\), not the 'wgan' run "
                                        r"WGANModel generates from.*use GANModel"):
        WGANModel(28, 28).prediction(gan_run, 4)
    with pytest.raises(UserError, match=r"holds a 'gan' run, not the 'face' run WGAN_GPModel"):
        WGAN_GPModel(96, 96).prediction(gan_run)


@pytest.mark.parametrize("count", [0, -1, "4", 2.0, 10 ** 9])
def test_a_prediction_count_of_the_wrong_type_or_size_is_named(gan_run, count):
    with pytest.raises(UserError, match="GANModel.prediction: batch_size must be"):
        GANModel(28, 28).prediction(gan_run, count)


def test_prediction_still_gives_the_originals_array(gan_run):
    assert GANModel(28, 28).prediction(gan_run, 3).shape == (3, 28, 28)


@pytest.mark.parametrize("scale_factor", ["2", 0, float("inf"), 1000.0])
def test_a_face_scale_factor_of_the_wrong_type_or_size_is_refused_before_generating(tmp_path, scale_factor):
    with pytest.raises(UserError, match="scale.factor"):
        WGAN_GPModel(96, 96).prediction(str(tmp_path / "no-run"), scale_factor=scale_factor)
