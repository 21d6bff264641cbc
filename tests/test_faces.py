"""The faces WGAN-GP (spec section 3): networks, data, command line and the original's API.

The face networks are large (the critic's dense layer alone is 18432x1024), so the models
are built once per session (conftest.py's ``face_models``). The command line and the
original's API are run on conftest.py's ``face_run``: ``genface train`` for two iterations
on batches of 2, with the faces recipe's layers narrowed (``fixtures/tiny_models.py``);
the same run of the full-size model is ``slow``.
"""

import dataclasses
import json
import os
import warnings

import cv2
import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from common import cli, data
from common import images as image_io
from common.errors import UserError
from common.naming import tf1_variables
from common.run import RunFolder
from genface import cartoon, cli as genface_cli
from genface import data as face_data
from genface.facade import WGAN_GPModel
from genface.models import FACE, RECIPES
from tests.fixtures.tiny_models import TINY_FACE_RECIPES
from tests.wgan_reference import direct_critic_loss

BATCH = 2

# Spec section 3: every variable of WGAN_GPModel's graph but the optimisers'.
FACE_GENERATOR = {
    "generator/g_w1": (128, 1024), "generator/g_b1": (1024,),
    "generator/g_w2": (1024, 18432), "generator/g_b2": (18432,),
    "generator/g_w3": (5, 5, 256, 512), "generator/g_b3": (256,),
    "generator/g_w4": (5, 5, 128, 256), "generator/g_b4": (128,),
    "generator/g_w5": (5, 5, 64, 128), "generator/g_b5": (64,),
    "generator/g_w6": (5, 5, 32, 64), "generator/g_b6": (32,),
    "generator/g_w7": (1, 1, 32, 3), "generator/g_b7": (3,),
}
FACE_CRITIC = {
    "discriminator/d_w1": (5, 5, 3, 64), "discriminator/d_b1": (64,),
    "discriminator/d_w2": (5, 5, 64, 128), "discriminator/d_b2": (128,),
    "discriminator/d_w2_2": (5, 5, 128, 256), "discriminator/d_b2_2": (256,),
    "discriminator/d_w2_3": (5, 5, 256, 512), "discriminator/d_b2_3": (512,),
    "discriminator/d_w3": (18432, 1024), "discriminator/d_b3": (1024,),
    "discriminator/d_w4": (1024, 3), "discriminator/d_b4": (3,),  # Q5: one per channel
}


@pytest.fixture
def models(face_models):
    return face_models


def shapes(network):
    return {name: tuple(v.shape) for name, v in tf1_variables(network).items()}


def count(table):
    return sum(int(np.prod(shape)) for shape in table.values())


# --- the networks --------------------------------------------------------------------------


def test_face_variables_and_parameter_counts_are_the_originals(models):
    legacy, fixed = models["legacy"], models["fixed"]
    assert shapes(legacy.generator) == FACE_GENERATOR
    assert shapes(legacy.discriminator) == FACE_CRITIC
    assert legacy.generator.count_params() == count(FACE_GENERATOR) == 23_377_475
    assert legacy.discriminator.count_params() == count(FACE_CRITIC) == 23_185_027
    # Fixed fidelity: the same networks but a single critic score (Q5).
    fixed_critic = dict(FACE_CRITIC, **{"discriminator/d_w4": (1024, 1), "discriminator/d_b4": (1,)})
    assert shapes(fixed.generator) == FACE_GENERATOR
    assert shapes(fixed.discriminator) == fixed_critic


def test_shapes_through_the_networks(models):
    z = np.random.default_rng(0).standard_normal((BATCH, 128)).astype(np.float32) * 30
    images = np.asarray(models["legacy"].generator(z))
    assert images.shape == (BATCH, 96, 96, 3)
    assert images.min() >= 0 and images.max() <= 1  # sigmoid
    assert models["legacy"].discriminator(images).shape == (BATCH, 3)
    assert models["fixed"].discriminator(images).shape == (BATCH, 1)
    sizes = {layer.name: tuple(layer.output.shape[1:3]) for layer in models["legacy"].discriminator.layers
             if layer.name.startswith("d2") or layer.name == "d1"}
    assert sizes == {"d1": (48, 48), "d2": (24, 24), "d2_2": (12, 12), "d2_3": (6, 6)}


def test_face_layers_use_channel_count_xavier_01_biases_and_leaky_02(models):
    variables = {**tf1_variables(models["legacy"].generator), **tf1_variables(models["legacy"].discriminator)}
    for name, n_in, n_out in [("discriminator/d_w2_3", 256, 512), ("generator/g_w3", 512, 256)]:
        w = np.asarray(variables[name])
        r = np.sqrt(6.0 / (n_in + n_out))  # channels only, no 5x5 kernel area
        assert 0.97 * r < np.abs(w).max() <= r
    assert np.all(np.asarray(variables["generator/g_b7"]) == np.float32(0.1))
    assert np.all(np.asarray(variables["discriminator/d_b2_2"]) == np.float32(0.1))
    slopes = {layer.negative_slope for layer in models["legacy"].discriminator.layers
              if hasattr(layer, "negative_slope")}
    assert slopes == {0.2}


def test_face_recipe_is_the_originals_training_setup(models):
    assert (FACE.z_dim, FACE.image_shape, FACE.discriminator_steps, FACE.pretrain_steps) == (128, (96, 96, 3), 5, 0)
    assert not FACE.share_z and FACE.loss == "wasserstein" and FACE.penalty_weight == 10.0
    assert (FACE.default_steps, FACE.default_batch_size, FACE.sample_prefix) == (50000, 64, "sampleface")
    for optimizer in (models["legacy"].d_optimizer, models["legacy"].g_optimizer):
        assert np.isclose(float(optimizer.learning_rate), 1e-4)
        assert (optimizer.beta_1, optimizer.beta_2, optimizer.epsilon) == (0.5, 0.9, 1e-8)


@pytest.mark.parametrize("fidelity, norm_axes", [("legacy", (1,)), ("fixed", (1, 2, 3))])
def test_the_face_critic_loss_and_penalty_against_a_direct_computation(models, fidelity, norm_axes):
    model = models[fidelity]
    rng = np.random.default_rng(6)
    real = tf.constant(rng.uniform(size=(BATCH, 96, 96, 3)), tf.float32)
    fake = model.generator(tf.constant(rng.normal(size=(BATCH, 128)), tf.float32))
    alpha = model.penalty_alpha(real, step=0, stream=0)
    assert alpha.shape == ((BATCH, 96, 96, 3) if fidelity == "legacy" else (BATCH, 1, 1, 1))
    ours, _ = model.discriminator_loss(real, fake, alpha)
    # Means over all critic outputs (3 of them in legacy); the gradient of their sum.
    np.testing.assert_allclose(float(ours), direct_critic_loss(model, real, fake, alpha, norm_axes), rtol=1e-4)


# --- the data ------------------------------------------------------------------------------


def write_bgr(path, rgb):
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return str(path)


@pytest.fixture(scope="module")
def faces():
    return cartoon.draw_faces(8, seed=1)


@pytest.fixture()
def face_folder(tmp_path, faces):
    folder = tmp_path / "faces"
    folder.mkdir()
    for k, face in enumerate(faces):
        write_bgr(folder / f"face_{k}.{('png', 'bmp')[k % 2]}", face)
    return folder


def test_a_folder_of_png_and_bmp_reads_as_rgb_uint8_in_name_order(face_folder, faces):
    images = face_data.read_faces(str(face_folder))
    assert images.dtype == np.uint8 and images.shape == (8, 96, 96, 3)
    np.testing.assert_array_equal(images, faces)  # lossless files, true RGB order


def test_the_colour_order_is_rgb_after_reading_a_bgr_file(tmp_path):
    red = np.zeros((96, 96, 3), np.uint8)
    red[..., 0] = 255  # pure red in RGB
    path = write_bgr(tmp_path / "red.png", red)
    np.testing.assert_array_equal(face_data.decode_face(path)[0, 0], [255, 0, 0])
    jpeg = tmp_path / "red.jpg"
    assert cv2.imwrite(str(jpeg), cv2.cvtColor(red, cv2.COLOR_RGB2BGR))
    pixel = face_data.decode_face(str(jpeg))[48, 48].astype(int)
    assert pixel[0] > 240 and pixel[1] < 15 and pixel[2] < 15


@pytest.mark.parametrize("header", [True, False])
def test_the_originals_csv_with_or_without_header_relative_to_its_folder(face_folder, faces, header):
    names = sorted(os.listdir(face_folder))
    csv_path = face_folder / "list.csv"
    csv_path.write_text(("path,label\n" if header else "") + "".join(f"{n},0\n" for n in reversed(names)))
    images = face_data.read_faces(str(csv_path))
    np.testing.assert_array_equal(images, faces[::-1])  # CSV order, nothing lost to the header


def test_write_face_folder_csv_is_read_back_exactly(tmp_path):
    csv_path = cartoon.write_face_folder(str(tmp_path / "set"), 4, seed=2)
    np.testing.assert_array_equal(face_data.read_faces(csv_path), cartoon.draw_faces(4, seed=2))


def bad_files(folder, faces):
    """One of each kind of bad file, with a CSV listing them among good ones."""
    write_bgr(folder / "small.png", cv2.resize(faces[0], (64, 64)))
    cv2.imwrite(str(folder / "gray.png"), cv2.cvtColor(faces[1], cv2.COLOR_RGB2GRAY))
    (folder / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10)
    names = ["face_0.png", "small.png", "gray.png", "corrupt.png", "missing.png", "face_1.bmp"]
    csv_path = folder / "face_data.csv"
    csv_path.write_text("path\n" + "\n".join(names) + "\n")
    return str(csv_path)


@pytest.mark.parametrize("name, message", [
    ("missing.png", "missing.png: no such file"),
    ("corrupt.png", "corrupt.png: not a readable image"),
    ("small.png", "small.png: image is 64x64, the faces model needs 96x96; pass --resize"),
    ("gray.png", "gray.png: grayscale image"),
])
def test_each_bad_file_is_an_error_naming_it(face_folder, faces, name, message):
    bad_files(face_folder, faces)
    csv_path = face_folder / "one.csv"
    csv_path.write_text(f"path\nface_0.png\n{name}\n")
    with pytest.raises(UserError, match=message):
        face_data.read_faces(str(csv_path))


def test_skip_bad_leaves_bad_files_out_and_counts_them(face_folder, faces):
    csv_path = bad_files(face_folder, faces)
    messages = []
    images = face_data.read_faces(csv_path, skip_bad=True, print_fn=messages.append)
    np.testing.assert_array_equal(images, faces[:2])
    assert len(messages) == 1 and "skipped 4 of 6 files" in messages[0]
    # With --resize the 64x64 face is usable too, and comes out 96x96.
    images = face_data.read_faces(csv_path, skip_bad=True, resize=True, print_fn=messages.append)
    assert images.shape == (3, 96, 96, 3) and "skipped 3 of 6 files" in messages[-1]


def test_resize_brings_other_sizes_to_96x96(tmp_path, faces):
    path = write_bgr(tmp_path / "big.png", cv2.resize(faces[2], (192, 160)))
    with pytest.raises(UserError, match=r"big.png: image is 192x160"):
        face_data.decode_face(path)
    resized = face_data.decode_face(path, resize=True)
    assert resized.shape == (96, 96, 3) and resized.dtype == np.uint8
    assert np.abs(resized.astype(int) - faces[2].astype(int)).mean() < 12  # the same face


def test_a_set_over_the_memory_budget_streams_and_gives_the_same_batches(face_folder, faces):
    messages = []
    streamed = face_data.read_faces(str(face_folder), memory_budget_mb=0.1, print_fn=messages.append)
    assert isinstance(streamed, data.ImageFiles) and len(streamed) == 8
    assert "streaming them from disk" in messages[0]
    held = face_data.read_faces(str(face_folder))
    for start in (0, 5):  # from the beginning, and resumed mid-stream
        a = list(data.batches(held, 3, seed=4, start_step=start, steps=4))
        b = list(data.batches(streamed, 3, seed=4, start_step=start, steps=4))
        for x, y in zip(a, b):
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_the_default_data_is_seeded_cartoon_faces(monkeypatch):
    monkeypatch.setattr(face_data, "DEFAULT_CARTOON_FACES", 3)
    default = face_data.read_faces(None)
    np.testing.assert_array_equal(default, cartoon.draw_faces(3, seed=face_data.CARTOON_SEED))
    assert face_data.read_faces("cartoon:2").shape == (2, 96, 96, 3)
    with pytest.raises(UserError, match="cartoon:N"):
        face_data.read_faces("cartoon:many")


def test_paths_that_are_not_face_data_are_explained(tmp_path):
    with pytest.raises(UserError, match="no such file or folder"):
        face_data.read_faces(str(tmp_path / "nowhere"))
    with pytest.raises(UserError, match="holds no png/jpg/jpeg/bmp images"):
        face_data.read_faces(str(tmp_path))
    (tmp_path / "empty.csv").write_text("path\n")
    with pytest.raises(UserError, match="lists no images"):
        face_data.read_faces(str(tmp_path / "empty.csv"))


# --- the command line and the original's API ---------------------------------------------


def narrow_genface():
    return dataclasses.replace(genface_cli.family(), recipes=TINY_FACE_RECIPES)


class NarrowFaces(WGAN_GPModel):
    """The original's API over the narrow faces recipe."""

    recipes = TINY_FACE_RECIPES


def assert_a_two_iteration_face_run(run, recipes):
    assert sorted(os.listdir(os.path.join(run, "samples"))) == ["sampleface_0_epoch.png", "sampleface_1_epoch.png"]
    grid = Image.open(os.path.join(run, "samples", "sampleface_1_epoch.png"))
    assert grid.size == (8 * 96, 8 * 96) and grid.mode == "RGB"
    config = json.load(open(os.path.join(run, "config.json")))
    assert (config["model"], config["z_dim"], config["steps_done"]) == ("face", 128, 2)
    model = RunFolder.open(run, recipes).load_model(recipes)
    assert model.d_optimizer.iterations.numpy() == 10  # five critic updates an iteration
    assert model.g_optimizer.iterations.numpy() == 2


def test_genface_train_writes_the_run_folder_with_sampleface_grids(face_run):
    assert_a_two_iteration_face_run(face_run, TINY_FACE_RECIPES)


@pytest.mark.slow
def test_the_full_size_faces_model_trains_generates_and_predicts(full_face_run, tmp_path):
    assert_a_two_iteration_face_run(full_face_run, RECIPES)
    out = str(tmp_path / "faces.npz")
    assert genface_cli.main(["generate", "--run", full_face_run, "-n", "2", "--scale-factor", "2", "--out", out]) == 0
    with np.load(out) as archive:
        assert archive["images"].shape == (2, 192, 192, 3) and archive["raw"].shape == (2, 96, 96, 3)
    face, big = WGAN_GPModel(96, 96, seed=0).prediction(full_face_run, scale_factor=2)
    assert face.shape == (96, 96, 3) and big.shape == (192, 192, 3)


def test_genface_generate_upscales_with_scale_factor(face_run, tmp_path, capsys):
    out = str(tmp_path / "faces.npz")
    assert cli.main(narrow_genface(), ["generate", "--run", face_run, "-n", "4", "--scale-factor", "2",
                                       "--out", out]) == 0
    with np.load(out) as archive:
        assert archive["images"].shape == (4, 192, 192, 3) and archive["raw"].shape == (4, 96, 96, 3)
        np.testing.assert_array_equal(archive["images"], image_io.resize(image_io.to_uint8(archive["raw"]), 2))
    assert "wrote 4 images" in capsys.readouterr().out


def test_bad_face_data_is_one_line_and_leaves_no_run_folder(tmp_path, capsys, faces):
    folder = tmp_path / "faces"
    folder.mkdir()
    write_bgr(folder / "a.png", faces[0])
    write_bgr(folder / "b.png", cv2.resize(faces[1], (64, 64)))
    out = tmp_path / "run"
    assert genface_cli.main(["train", "--data", str(folder), "--steps", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "b.png: image is 64x64" in err and "--resize" in err
    assert not out.exists()


def test_the_facade_takes_bgr_images_and_trains_in_rgb(tmp_path, monkeypatch, faces):
    import common.facade

    captured = {}
    monkeypatch.setattr(common.facade, "train", lambda run, recipes, images, steps, **kw:
                        captured.update(config=run.config, images=images, steps=steps))
    bgr = faces[..., ::-1].astype(np.float64) / 255.0  # as face_gantest.py prepared them
    WGAN_GPModel(96, 96, 3, 128, 4, seed=1).train(bgr, str(tmp_path / "m"), str(tmp_path / "log"),
                                                   learning_rate=1e-4, train_epochs=7)
    np.testing.assert_array_equal(captured["images"], faces)
    assert captured["steps"] == 7 and captured["config"].batch_size == 4
    with pytest.raises(UserError, match="96, 96, 3"):
        WGAN_GPModel(512, 512)


def test_the_facade_prediction_returns_bgr_faces_and_their_upscaling(face_run):
    face, big = NarrowFaces(96, 96, seed=0).prediction(face_run, scale_factor=2)
    assert face.shape == (96, 96, 3) and big.shape == (192, 192, 3) and face.dtype == np.uint8
    rgb, rgb_big = NarrowFaces(96, 96, seed=0, channel_order="rgb").prediction(face_run, scale_factor=2)
    np.testing.assert_array_equal(face, rgb[..., ::-1])
    np.testing.assert_array_equal(big, rgb_big[..., ::-1])
    assert np.any(face != rgb)  # a face whose channels differ, so the flip is seen
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        faces, bigs = NarrowFaces(96, 96, seed=0).prediction(
            face_run, np.zeros((256, 256), np.uint8), scale_factor=1.5, batch_size=3)
    assert faces.shape == (3, 96, 96, 3) and bigs.shape == (3, 144, 144, 3)
    assert any("test_image has no effect" in str(w.message) for w in caught)
