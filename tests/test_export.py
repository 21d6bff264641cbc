"""Issue 5: generators exported for plain TensorFlow, and whole GANs moved as .keras files.

The SavedModels are loaded in a separate Python process that imports nothing but
TensorFlow and runs outside the repository, so the test proves that users need no project
code: tensors go in and out as files through ``tf.io`` (no NumPy pickles either).
"""

import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from common import batch_norm, export
from common.adversarial import build_model
from common.recipes import lookup_recipe
from common.images import to_uint8
from common.run import RunFolder
from genmnist.cli import main
from genmnist.models import GAN, RECIPES, WGAN

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = 2048  # z vectors for re-estimating batch-norm statistics in these tests
BATCHES = {"gan": (1, 1000), "gan_batch_stats": (1, 1000), "wgan": (1, 1000), "face": (1, 32)}


def _env(with_repo):
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    if with_repo:
        env["PYTHONPATH"] = REPO
    return env


def _python(script, cwd, with_repo=False, timeout=300):
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], cwd=cwd, env=_env(with_repo),
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _write_tensor(path, array):
    tf.io.write_file(str(path), tf.io.serialize_tensor(tf.constant(array)))


def _read_tensor(path, dtype):
    return tf.io.parse_tensor(tf.io.read_file(str(path)), dtype).numpy()


def _z(count, z_dim, seed):
    return np.random.default_rng(seed).standard_normal((count, z_dim)).astype(np.float32)


def _clip(images):
    return np.clip(np.asarray(images, np.float32), 0.0, 1.0)


@pytest.fixture(scope="module")
def exports(gan_run, tmp_path_factory):
    """SavedModels of every kind, each with the in-process function it must agree with."""
    root = tmp_path_factory.mktemp("exports")
    gan = RunFolder.open(gan_run, RECIPES).load_model(RECIPES)
    made = {}
    path, generator, note = export.export_saved_model(gan, str(root / "gan"), samples=SAMPLES)
    assert f"re-estimated batch-norm statistics from {SAMPLES} generated samples because legacy" in note
    made["gan"] = (path, lambda z: _clip(generator(z, training=False)), generator)
    path, _, note = export.export_saved_model(gan, str(root / "gan_batch_stats"), batch_stats="batch")
    assert "each request's own batch" in note
    made["gan_batch_stats"] = (path, lambda z: _clip(gan.generate(z, batch_statistics=True)), None)
    wgan = build_model(WGAN, seed=1)
    path, _, note = export.export_saved_model(wgan, str(root / "wgan"))
    assert note is None  # no batch norm, nothing to say
    made["wgan"] = (path, lambda z: _clip(wgan.generate(z)), None)
    return made, gan


def serve_in_plain_tensorflow(made, work):
    """Every SavedModel run on its BATCHES in a process that imports only TensorFlow."""
    jobs = []
    for name, (path, _, _) in made.items():
        z_dim = 128 if name == "face" else 100
        for size in BATCHES[name]:
            z_path = work / f"{name}_{size}.z"
            _write_tensor(z_path, _z(size, z_dim, seed=size))
            jobs.append((path, str(z_path), str(work / f"{name}_{size}")))
    stdout = _python(f"""
        import sys
        import tensorflow as tf
        for path, z_path, out in {jobs!r}:
            serve = tf.saved_model.load(path).signatures["serving_default"]
            z = tf.io.parse_tensor(tf.io.read_file(z_path), tf.float32)
            result = serve(z=z)
            for key in ("images", "images_uint8"):
                tf.io.write_file(out + "." + key, tf.io.serialize_tensor(result[key]))
        ours = sorted(m for m in sys.modules if m.split(".")[0] in ("common", "genmnist", "genface"))
        print("project modules:", ours)
    """, cwd=str(work))
    assert "project modules: []" in stdout
    return work


@pytest.fixture(scope="module")
def served(exports, tmp_path_factory):
    return serve_in_plain_tensorflow(exports[0], tmp_path_factory.mktemp("served"))


def assert_served_like_the_generator(made, served, name, which):
    _, reference, _ = made[name]
    size = BATCHES[name][which]
    z_dim = 128 if name == "face" else 100
    images = _read_tensor(served / f"{name}_{size}.images", tf.float32)
    images_uint8 = _read_tensor(served / f"{name}_{size}.images_uint8", tf.uint8)
    shape = (size, 96, 96, 3) if name == "face" else (size, 28, 28, 1)
    assert images.shape == shape and images_uint8.shape == shape
    assert images.min() >= 0.0 and images.max() <= 1.0
    np.testing.assert_allclose(images, reference(_z(size, z_dim, seed=size)), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(images_uint8, to_uint8(images))


@pytest.mark.parametrize("name", ["gan", "gan_batch_stats", "wgan"])
@pytest.mark.parametrize("which", [0, 1])
def test_saved_model_in_plain_tensorflow_matches_the_generator(exports, served, name, which):
    assert_served_like_the_generator(exports[0], served, name, which)


@pytest.mark.slow
def test_the_faces_saved_model_in_plain_tensorflow_matches_the_generator(face_models, tmp_path):
    face = face_models["legacy"]
    path, _, _ = export.export_saved_model(face, str(tmp_path / "face"))
    made = {"face": (path, lambda z: _clip(face.generate(z)), None)}
    served = serve_in_plain_tensorflow(made, tmp_path)
    for which in (0, 1):
        assert_served_like_the_generator(made, served, "face", which)


def test_legacy_batch_stats_make_a_batch_of_one_degenerate(exports):
    made, _ = exports
    serve = tf.saved_model.load(made["gan_batch_stats"][0]).signatures["serving_default"]
    one, other = (serve(z=tf.constant(_z(1, 100, seed)))["images"].numpy() for seed in (5, 6))
    np.testing.assert_array_equal(one, other)  # as documented: every z gives the same image


def test_a_bgr_generator_is_served_as_rgb(face_models):
    face = face_models["legacy"]
    z = _z(2, 128, seed=3)
    serve = tf.function(export.serving_function(face.generator, face.recipe, face.fidelity, channel_order="bgr"))
    np.testing.assert_allclose(serve(tf.constant(z))["images"], _clip(face.generate(z))[..., ::-1], atol=1e-6)
    from common.settings import RunConfig

    def config(image_shape, **recorded):
        return RunConfig(model="face", fidelity="legacy", z_dim=128, image_shape=image_shape, seed=0,
                         batch_size=64, learning_rate=1e-4, steps=1, **recorded)

    imported = {"image_shape": (96, 96, 3), "imported_from": "/ckpt/model"}
    assert export.generator_channel_order(config(**imported))[0] == "bgr"  # the original read cv2's BGR
    assert export.generator_channel_order(config((96, 96, 3))) == ("rgb", None)
    assert export.generator_channel_order(config(**imported, channel_order="rgb")) == ("rgb", None)
    assert export.generator_channel_order(config((28, 28, 1), imported_from="x"))[0] == "rgb"


def test_saved_model_cli_lists_the_signature(exports):
    made, _ = exports
    cli = shutil.which("saved_model_cli")
    command = [cli] if cli else [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"]
    done = subprocess.run([*command, "show", "--dir", made["gan"][0], "--all"], env=_env(False),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "signature_def['serving_default']" in out
    assert "inputs['z'] tensor_info" in out and "shape: (-1, 100)" in out
    assert "outputs['images'] tensor_info" in out and "shape: (-1, 28, 28, 1)" in out
    assert "outputs['images_uint8'] tensor_info" in out and "DT_UINT8" in out


def _batch_moments(generator, z):
    """Per channel mean, variance and 4th central moment of every batch-norm layer's input.

    With batch statistics in every layer before it (the original's phase=True).
    """
    moments = {}
    for layer in batch_norm.batch_norm_layers(generator):
        x = batch_norm.batch_norm_probe(generator, layer)(z, training=True)
        x = tf.reshape(x, [-1, x.shape[-1]])
        mean, variance = tf.nn.moments(x, axes=[0])
        m4 = tf.reduce_mean((x - mean) ** 4, axis=0)
        moments[layer.name] = [np.asarray(t, np.float64) for t in (mean, variance, m4)]
    return moments


def test_reestimated_statistics_agree_with_batch_statistics_of_a_large_batch(exports):
    _, gan = exports
    z = _z(4096, 100, seed=123)  # independent of the re-estimation's z (seed 0)
    reestimated = {layer.name: (np.asarray(layer.moving_mean), np.asarray(layer.moving_variance))
                   for layer in batch_norm.batch_norm_layers(exports[0]["gan"][2])}
    # The batch's moments and the re-estimate's are two independent sample moments of one
    # population, from 4096 and SAMPLES images. Their difference has standard deviation
    # sqrt(1/4096 + 1/SAMPLES) times the per-image spread: sigma for a mean, sqrt(m4 - sigma^4) for a
    # variance (pixels of one image are correlated, so per-image counts are the safe n).
    # 6 such deviations leave a chance of about 2e-9 per channel to fail, over ~4,200.
    scale = np.sqrt(1.0 / 4096 + 1.0 / SAMPLES)
    for name, (mean, variance, m4) in _batch_moments(gan.generator, z).items():
        est_mean, est_variance = reestimated[name]
        assert np.all(np.abs(est_mean - mean) <= 6 * np.sqrt(variance) * scale), name
        assert np.all(np.abs(est_variance - variance) <= 6 * np.sqrt(m4 - variance ** 2) * scale), name


def test_reestimating_on_the_batch_itself_reproduces_batch_statistics_exactly(exports):
    # Layer by layer, statistics estimated from the very z of a batch make inference mode
    # compute what batch statistics compute for that batch: float rounding apart.
    _, gan = exports
    z = _z(512, 100, seed=7)
    generator = export.copy_generator(gan)
    statistics = batch_norm.reestimate_batch_norm(generator, z, chunk_size=200)
    for name, (mean, variance, _) in _batch_moments(gan.generator, z).items():
        np.testing.assert_allclose(statistics[name][0], mean, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(statistics[name][1], variance, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(generator(z, training=False), gan.generator(z, training=True), atol=1e-4)
    # The run's own generator is untouched: its statistics stay the original's 0 and 1.
    assert all(np.all(np.asarray(layer.moving_mean) == 0)
               for layer in batch_norm.batch_norm_layers(gan.generator))


def test_valid_moving_statistics_are_kept_never_updated_ones_are_not():
    fixed = build_model(GAN, "fixed", seed=1)
    assert "initial 0 and 1" in export.moving_statistics_problem(fixed)  # never updated
    batch_norm.batch_norm_layers(fixed.generator)[0].moving_mean.assign(np.full(1024, 0.5, np.float32))
    assert export.moving_statistics_problem(fixed) is None
    generator, note = export.inference_generator(fixed)
    assert generator is fixed.generator and "moving statistics" in note
    assert "legacy fidelity" in export.moving_statistics_problem(build_model(GAN, "legacy"))
    assert export.moving_statistics_problem(build_model(WGAN)) is None


def test_export_command_explains_itself_and_keeps_versions(gan_run, tmp_path, capsys):
    out = str(tmp_path / "served_gan")
    assert main(["export", "--run", gan_run, "--out", out, "--samples", "500"]) == 0
    said = capsys.readouterr().out
    assert "re-estimated batch-norm statistics from 500 generated samples because legacy fidelity" in said
    assert "signature 'serving_default' takes z (float32 [None, 100])" in said
    assert os.path.isfile(os.path.join(out, "1", "saved_model.pb"))
    assert main(["export", "--run", gan_run, "--out", out]) == 2  # version 1 is there already
    assert "already exists; pass --version N" in capsys.readouterr().err
    assert main(["export", "--run", gan_run, "--out", out, "--version", "2", "--legacy-batch-stats"]) == 0
    assert "each request's own batch" in capsys.readouterr().out
    assert sorted(os.listdir(out)) == ["1", "2"]  # no half-written folders left beside them
    flat = str(tmp_path / "flat")
    assert main(["export", "--run", gan_run, "--out", flat, "--no-version-folder",
                 "--legacy-batch-stats"]) == 0
    assert os.path.isfile(os.path.join(flat, "saved_model.pb"))


@pytest.mark.slow  # two TensorFlow processes; the default suite has the in-process round trip below
def test_keras_file_loaded_in_a_fresh_process_resumes_like_the_run_checkpoint(gan_run, tmp_path):
    keras_file = str(tmp_path / "gan.keras")
    assert main(["export", "--run", gan_run, "--format", "keras", "--out", keras_file]) == 0
    # Elsewhere: a new process makes a run folder of the file and trains one more iteration.
    moved = str(tmp_path / "moved")
    _python(f"""
        import tensorflow as tf
        tf.config.experimental.enable_op_determinism()
        from genmnist.cli import main
        assert main(["import-keras", "--file", {keras_file!r}, "--out", {moved!r}]) == 0
        assert main(["train", "--resume", "--out", {moved!r}, "--steps", "3",
                     "--checkpoint-every", "0"]) == 0
    """, cwd=str(tmp_path), with_repo=True)
    # Here: the original run folder, resumed one iteration from its checkpoint.
    tf.config.experimental.enable_op_determinism()
    here = str(tmp_path / "here")
    shutil.copytree(gan_run, here)
    assert main(["train", "--resume", "--out", here, "--steps", "3", "--checkpoint-every", "0"]) == 0
    a = RunFolder.open(here, RECIPES).load_model(RECIPES, expect_partial=False)
    b = RunFolder.open(moved, RECIPES).load_model(RECIPES, expect_partial=False)
    assert int(b.step_counter.numpy()) == GAN.pretrain_steps + 3
    pairs = [(a.step_counter, b.step_counter),
             *zip(a.generator.weights, b.generator.weights),
             *zip(a.discriminator.weights, b.discriminator.weights),
             *zip(a.d_optimizer.variables, b.d_optimizer.variables),
             *zip(a.g_optimizer.variables, b.g_optimizer.variables)]
    for va, vb in pairs:
        np.testing.assert_array_equal(np.asarray(va), np.asarray(vb), err_msg=va.path)


def test_keras_file_keeps_the_whole_gan_and_names_only_known_recipes(gan_run, tmp_path):
    model = RunFolder.open(gan_run, RECIPES).load_model(RECIPES, expect_partial=False)
    path = export.save_keras(model, str(tmp_path / "gan.keras"), run_config={"batch_size": 8})
    loaded = export.load_keras(path)
    assert (loaded.recipe, loaded.fidelity, loaded.seed) == (GAN, "legacy", 3)
    assert loaded.run_config == {"batch_size": 8}
    for va, vb in zip(model.weights + model.d_optimizer.variables + model.g_optimizer.variables,
                      loaded.weights + loaded.d_optimizer.variables + loaded.g_optimizer.variables):
        np.testing.assert_array_equal(np.asarray(va), np.asarray(vb))
    # A recipe changed by arguments (the original's z_dim) travels as its changes.
    narrow = build_model(WGAN, "fixed", seed=4, z_dim=64)
    again = type(narrow).from_config(narrow.get_config())
    assert again.recipe == narrow.recipe and again.recipe.z_dim == 64 and again.fidelity == "fixed"
    with pytest.raises(ValueError, match="unknown recipe"):
        lookup_recipe("os:system")  # a file cannot name a module of its choosing
    assert main(["import-keras", "--file", str(tmp_path / "missing.keras"), "--out", str(tmp_path / "r")]) == 2
