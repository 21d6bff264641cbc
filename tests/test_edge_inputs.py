"""Issue 13: edge-case inputs get a clear answer, never a silent wrong result or a crash.

Data arrays (complex, boolean, integer 0/1 masks, floats just over 1), picture limits and
paths (scale factors, grids too large for PIL, --out folders), and the SavedModel's
signature (a z of the wrong width, NaN, a batch of 0).
"""

import os
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from common import data, export
from common import images as image_io
from common.adversarial import build_model
from genface.models import RECIPES as FACE_RECIPES
from common.errors import UserError
from common.run import RunFolder
from genmnist.cli import main as genmnist
from genmnist.models import GAN, WGAN
from tests.helpers import status_of

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHAPE = (28, 28, 1)
# What TensorFlow's C++ side prints on its own before any of our output (it ignores
# TF_CPP_MIN_LOG_LEVEL until absl's logging is set up).
TF_NOISE = re.compile(r"^([IWEF]\d{4} |WARNING: All log messages before absl)")


def one_error_line(capsys):
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    return err


@pytest.fixture(scope="module")
def arrays(tmp_path_factory):
    root = tmp_path_factory.mktemp("arrays")
    digits = np.zeros((4, 28, 28), np.uint8)
    digits[:, 10:18, 12:16] = 255
    np.savez(root / "complex.npz", x=digits.astype(np.complex64) + 0.5j)
    np.savez(root / "real_complex.npz", x=digits.astype(np.complex128))
    np.savez(root / "bool.npz", x=digits > 0)
    np.savez(root / "mask.npz", x=(digits > 0).astype(np.int64))
    np.savez(root / "mask_uint8.npz", x=(digits > 0).astype(np.uint8))
    np.savez(root / "unit.npz", x=(digits > 0).astype(np.float32))
    np.savez(root / "overshoot.npz", x=(digits > 0) * np.float32(1.02))
    np.savez(root / "bytes.npz", x=digits.astype(np.int32))
    rows = [f"{k}," + ",".join(f"{v:g}" for v in image.reshape(-1)) + "\n" for k, image in enumerate(digits)]
    (root / "fractions.csv").write_text("".join(r.replace(",255", ",0.5") for r in rows))
    (root / "ones.csv").write_text("".join(r.replace(",255", ",1") for r in rows))
    return root, digits


# --- data ------------------------------------------------------------------------------------


def test_complex_data_is_refused_by_the_command_line_leaving_no_run(arrays, tmp_path):
    root, _ = arrays
    out = tmp_path / "run"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=REPO)
    done = subprocess.run([sys.executable, "-m", "genmnist", "train", "--data", str(root / "complex.npz"),
                           "--steps", "1", "--batch-size", "2", "--out", str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.strip() and not TF_NOISE.match(line)]
    assert "Traceback" not in done.stderr
    assert len(lines) == 1, lines
    assert re.match(r"genmnist: error: .*complex\.npz: complex-valued pixels \(complex64\).*x\.real", lines[0])
    assert not out.exists()


def test_complex_data_names_its_imaginary_part(arrays):
    root, _ = arrays
    with pytest.raises(UserError, match=r"largest imaginary part is 0\.5; store x\.real.*np\.abs"):
        data.read_images(str(root / "complex.npz"), SHAPE)
    with pytest.raises(UserError, match=r"imaginary parts are all 0, so store x\.real"):
        data.read_images(str(root / "real_complex.npz"), SHAPE)


def test_boolean_data_is_refused_with_both_conversions(arrays, tmp_path, capsys):
    root, _ = arrays
    argv = ["train", "--data", str(root / "bool.npz"), "--out", str(tmp_path / "run")]
    assert status_of(genmnist, argv) == 2
    err = one_error_line(capsys)
    assert re.search(r"bool\.npz: boolean pixels .*astype\('uint8'\) \* 255.*astype\('float32'\)", err), err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("name", ["mask.npz", "mask_uint8.npz", "ones.csv"])
def test_integer_data_all_0_or_1_is_read_as_0_to_255_with_a_warning(arrays, name, capsys):
    root, digits = arrays
    images = data.read_images(str(root / name), SHAPE)
    np.testing.assert_array_equal(images[..., 0], (digits > 0).astype(np.uint8))  # as documented
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"warning: {root / name}: integer pixel values all lie in 0..1")
    assert "read as 0..255" in err and "astype('float32')" in err and "multiply it by 255" in err


def test_the_warning_reaches_the_command_line(arrays, tmp_path, capsys):
    root, _ = arrays
    # The batch is larger than the 4 images: the data is read (and warned about), then refused.
    argv = ["train", "--data", str(root / "mask.npz"), "--batch-size", "8", "--out", str(tmp_path / "run")]
    assert status_of(genmnist, argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("warning: ") and "mask.npz" in lines[0] and len(lines) == 2, lines


def test_unambiguous_data_reads_silently(arrays, capsys):
    root, digits = arrays
    np.testing.assert_array_equal(data._as_image_batch(np.zeros((2, 28, 28), np.int64), SHAPE, "zeros"), 0)
    for name, expected in [("unit.npz", digits), ("bytes.npz", digits),
                           ("fractions.csv", np.where(digits > 0, 128, 0))]:
        images = data.read_images(str(root / name), SHAPE)
        np.testing.assert_array_equal(images[..., 0], expected, err_msg=name)
    assert capsys.readouterr().err == ""


def test_floats_just_over_1_are_read_as_0_to_255_with_a_warning(arrays, capsys):
    root, digits = arrays
    images = data.read_images(str(root / "overshoot.npz"), SHAPE)
    assert images.max() == 1  # 1.02 on the 0..255 scale
    err = capsys.readouterr().err
    assert err.startswith("warning: ") and "0..1.02" in err and "np.clip(x, 0, 1)" in err
    with pytest.raises(UserError, match=r"span -0\.01\.\.1; .*np\.clip\(x, 0, 1\)"):
        data._as_image_batch(np.concatenate([np.full((1, 28, 28), -0.01), np.ones((1, 28, 28))]),
                             SHAPE, "array")


@pytest.mark.parametrize("array, message", [
    (np.full((2, 28, 28), 256, np.int16), r"integer pixel values span 256\.\.256; expected 0\.\.255"),
    (np.full((2, 28, 28), -1, np.int8), r"integer pixel values span -1\.\.-1"),
    (np.zeros((2, 28, 28), "m8[s]"), r"non-numeric images \(timedelta64"),
    (np.full((2, 28, 28), "a"), r"non-numeric images"),
])
def test_other_arrays_are_refused(array, message):
    with pytest.raises(UserError, match=message):
        data._as_image_batch(array, SHAPE, "array")


# --- pictures ----------------------------------------------------------------------------------


@pytest.mark.parametrize("factor", [0.001, 1e6, 0, -2, float("nan"), float("inf")])
def test_scale_factors_outside_the_range_are_refused_naming_it(factor):
    with pytest.raises(UserError, match=r"scale factor .*must lie in 0\.01042\.\.85\.33 \(sides of 1\.\.8192"):
        image_io.check_scale_factor((96, 96, 3), factor)
    with pytest.raises(UserError, match="scale factor"):
        image_io.resize(np.zeros((1, 96, 96, 3), np.uint8), scale_factor=factor)


def test_the_printed_scale_bounds_are_accepted():
    assert image_io.check_scale_factor((96, 96, 3), 2) == (192, 192, 3)
    assert image_io.check_scale_factor((96, 96, 3), 0.01042) == (1, 1, 3)
    assert image_io.check_scale_factor((96, 96, 3), 85.33) == (8192, 8192, 3)
    assert image_io.check_scale_factor((28, 28), 1 / 28) == (1, 1)
    assert image_io.resize(np.zeros((2, 96, 96, 3), np.uint8), scale_factor=0.5).shape == (2, 48, 48, 3)


def test_a_grid_too_large_for_a_picture_is_refused_up_front():
    assert image_io.check_grid_size(64, (96, 96, 3)) == (768, 768)
    with pytest.raises(UserError, match=r"grid of 100000 images of 96x96 .*30432x30336 pixels "
                                        r"\(923\.2 million\).*\.npz.*at most 9702 images"):
        image_io.check_grid_size(100000, (96, 96, 3))
    assert image_io.check_grid_size(9702, (96, 96, 3))  # the count it suggests fits
    with pytest.raises(UserError, match="at least 1 image"):
        image_io.check_grid_size(0, (28, 28))


def test_save_grid_and_save_image_refuse_oversized_pictures_before_building_them(tmp_path):
    # Views of one pixel: the refusal must come before any pixel of the grid is made.
    many = np.broadcast_to(np.zeros((1, 1, 1, 1), np.float32), (100000, 96, 96, 3))
    with pytest.raises(UserError, match=r"\.npz"):
        image_io.save_grid(many, str(tmp_path / "g.png"))
    huge = np.broadcast_to(np.zeros((1, 1), np.uint8), (10000, 10000))
    with pytest.raises(UserError, match=r"big\.png: a 10000x10000 picture"):
        image_io.save_image(huge, str(tmp_path / "big.png"))
    assert os.listdir(tmp_path) == []


PICTURE = np.zeros((4, 4, 3), np.uint8)


def test_save_image_refuses_a_folder_and_a_path_under_a_file(tmp_path):
    (tmp_path / "a_file").write_text("")
    cases = [(tmp_path, r"is an existing folder"), (f"{tmp_path}{os.sep}", r"names a folder"),
             (tmp_path / "a_file" / "x.png", r"a_file is a file, not a folder"),
             (tmp_path / "a_file" / "deep" / "x.png", r"a_file is a file, not a folder"),
             (tmp_path / "x.npz", r"'\.npz' is not an image format")]
    for path, message in cases:
        with pytest.raises(UserError, match=message):
            image_io.save_image(PICTURE, str(path))
    assert sorted(os.listdir(tmp_path)) == ["a_file"]


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
def test_save_image_into_an_unwritable_place_is_a_user_error():
    # /proc takes no new files, even from root (for whom permission bits do not apply).
    with pytest.raises(UserError, match=r"/proc/edge_inputs\.png: cannot write the picture"):
        image_io.save_image(PICTURE, "/proc/edge_inputs.png")


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root ignores permissions")
def test_save_image_into_a_read_only_folder_is_a_user_error(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(UserError, match="permission denied"):
            image_io.save_image(PICTURE, str(locked / "x.png"))
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_no_partial_file_is_left_when_writing_fails(tmp_path, monkeypatch, failure):
    def fail(source, target):
        assert os.path.exists(source)  # the partial file was written, then the rename fails
        raise failure

    monkeypatch.setattr(image_io.os, "replace", fail)
    expected = UserError if isinstance(failure, OSError) else KeyboardInterrupt
    with pytest.raises(expected, match="No space left" if expected is UserError else None):
        image_io.save_image(PICTURE, str(tmp_path / "grid.png"))
    assert os.listdir(tmp_path) == []


@pytest.fixture(scope="module")
def wgan_run(tmp_path_factory):
    """An untrained MNIST WGAN-GP saved as a run folder (no training needed to generate)."""
    path = str(tmp_path_factory.mktemp("runs") / "wgan")
    model = build_model(WGAN, seed=0)
    run = RunFolder.create(path, {"model": "wgan", "fidelity": "legacy", "z_dim": 100,
                                  "image_shape": [28, 28, 1], "seed": 0, "batch_size": 8,
                                  "learning_rate": 1e-4, "data": None, "steps": 1})
    run.save(model)
    return path


def test_generate_into_a_folder_or_under_a_file_is_one_line(wgan_run, tmp_path, capsys):
    (tmp_path / "a_file").write_text("")
    (tmp_path / "samples.png").mkdir()  # a folder, named like a picture
    for out, message in [(tmp_path / "samples.png", "is an existing folder"),
                         (tmp_path / "a_file" / "grid.png", "a_file is a file, not a folder")]:
        capsys.readouterr()
        assert status_of(genmnist, ["generate", "--run", wgan_run, "-n", "4", "--out", str(out)]) == 2
        err = one_error_line(capsys)
        assert err.startswith(f"genmnist: error: {out}") and message in err, err
    assert sorted(os.listdir(tmp_path)) == ["a_file", "samples.png"]
    assert os.listdir(tmp_path / "samples.png") == []


# --- the SavedModel -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """SavedModels of untrained generators, loaded back with plain TensorFlow."""
    root = tmp_path_factory.mktemp("exports")
    models = {"gan": build_model(GAN, seed=0), "wgan": build_model(WGAN, seed=0),
              "face": build_model(FACE_RECIPES["face"], seed=0)}
    made = {}
    for name, model in models.items():
        path, _, _ = export.export_saved_model(model, str(root / name), samples=64)
        made[name] = (tf.saved_model.load(path).signatures["serving_default"], model.recipe)
    path, _, _ = export.export_saved_model(models["gan"], str(root / "gan_batch"), batch_stats="batch")
    made["gan_batch"] = (tf.saved_model.load(path).signatures["serving_default"], GAN)
    return made


KINDS = ["gan", "wgan", "face", "gan_batch"]


@pytest.mark.parametrize("kind", KINDS)
def test_the_signature_declares_z(served, kind):
    serve, recipe = served[kind]
    spec = serve.structured_input_signature[1]["z"]
    assert spec.dtype == tf.float32 and spec.shape.as_list() == [None, recipe.z_dim]


@pytest.mark.parametrize("kind", KINDS)
def test_a_z_of_the_wrong_width_is_refused_naming_z(served, kind):
    serve, recipe = served[kind]
    for shape in ([2, 99], [0, 99], [2, 0]):
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=rf"input z: wrong width; expected float32 \[batch, {recipe.z_dim}\]"):
            serve(z=tf.zeros(shape))


@pytest.mark.parametrize("kind", KINDS)
def test_a_z_of_the_wrong_rank_is_refused_naming_z(served, kind):
    # The signature's static [None, z_dim] would let a rank check be folded away; a 1-D z
    # then failed inside the generator ("In[0] is not a matrix").
    serve, recipe = served[kind]
    for shape in ([recipe.z_dim], [1, 1, recipe.z_dim], [], [1]):
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=rf"input z: expected a matrix, float32 \[batch, {recipe.z_dim}\]"):
            serve(z=tf.zeros(shape))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_z_is_refused_naming_z(served, kind, bad):
    serve, recipe = served[kind]
    z = np.zeros((3, recipe.z_dim), np.float32)
    z[1, 5] = bad
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"input z: NaN or infinite values"):
        serve(z=tf.constant(z))


@pytest.mark.parametrize("kind", KINDS)
def test_a_batch_of_0_gives_no_images_of_the_right_shape(served, kind):
    serve, recipe = served[kind]
    out = serve(z=tf.zeros([0, recipe.z_dim]))
    assert out["images"].shape == (0, *recipe.image_shape) and out["images"].dtype == tf.float32
    assert out["images_uint8"].shape == (0, *recipe.image_shape) and out["images_uint8"].dtype == tf.uint8


@pytest.mark.parametrize("kind", KINDS)
def test_valid_z_still_gives_images(served, kind):
    serve, recipe = served[kind]
    z = np.random.default_rng(0).standard_normal((3, recipe.z_dim)).astype(np.float32)
    out = serve(z=tf.constant(z))
    images = out["images"].numpy()
    assert images.shape == (3, *recipe.image_shape) and np.all((images >= 0) & (images <= 1))
    np.testing.assert_array_equal(out["images_uint8"].numpy(), np.round(images * 255).astype(np.uint8))
