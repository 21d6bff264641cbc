"""The port computes what the original TF1 code computed, and carries its checkpoints both ways.

The oracle is :mod:`common.legacy_tf1.graphs`, the original's three graphs rebuilt in
``tf.compat.v1``. For each model (GitHub issue 4):

* forward outputs within 1e-5 absolute, losses within 1e-5 relative, the gradient of
  every variable within 1e-4 relative, every variable after 5 full training iterations
  within 1e-4 relative (steps compared in lockstep; see ``compare.py`` for why, and
  :func:`test_free_running_gan_drifts_no_more_than_the_original_drifts_from_itself`
  for the free-running trajectory);
* a checkpoint round trip (the original graph writes, ``import-tf1``, ``export-tf1``,
  the original graph restores) is bit-exact, beta powers included;
* bad checkpoints are UserErrors naming every variable that is wrong.

Small batches keep it quick: GAN 8, WGAN 4, faces 2 (the faces model has two
18432x1024 dense layers, so its rows are ``slow``); the GAN's 30 warm-up steps are
shortened to 2. Rows are judged here against the bounds above, not by the tolerance
``compare`` chose for them.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from common.adversarial import build_model
from common.errors import UserError
from common.legacy_tf1 import LegacyGraph, read_checkpoint, write_random_checkpoint
from common.legacy_tf1 import checkpoints
from common.legacy_tf1 import compare as comparing
from genface.models import RECIPES as FACE_RECIPES
from genmnist.models import RECIPES as MNIST_RECIPES

RECIPES = {**MNIST_RECIPES, **FACE_RECIPES}
BATCH = {"gan": 8, "wgan": 4, "face": 2}
ITERATIONS = {"gan": 5, "wgan": 5, "face": 1}  # faces: 5 iterations in a test of their own
WARM_UP = 2
ALL = ["gan", "wgan", pytest.param("face", marks=pytest.mark.slow)]
# GitHub issue 4's bounds for float32: forward outputs within 1e-5 absolute; losses within
# 1e-5 of max(|loss|, 1); the gradient of a variable within 1e-4 of its loss's largest
# gradient element; a variable within 1e-4 of its group's largest element.
BOUNDS = {"forward": 1e-5, "loss": 1e-5, "gradient": 1e-4, "variable": 1e-4}
# Where the original itself, re-run with one weight tensor one ulp off, moves a row by d
# (compare's "original vs itself": now and then the TF1 runtime rounds a WGAN critic step
# ~1e-4 differently), no port can do better than d: such a row may reach 10 d.
DRIFT_ALLOWANCE = 10


def recipe(name):
    return RECIPES[name]


def default_images(recipe, count, seed=0):
    """The real images the compare command feeds without --data: its program's."""
    from genface.cli import drawn_faces
    from genmnist.cli import embedded_digits

    return (drawn_faces if recipe.name == "face" else embedded_digits)(recipe, count, seed)


def compare(recipe, **options):
    """``compare`` as the programs' compare command calls it: on their real images."""
    return comparing.compare(recipe, default_images=default_images, **options)


@pytest.fixture(scope="module")
def reports():
    """One lockstep comparison per model, shared by the tests that read its rows."""
    made = {}

    def get(name):
        if name not in made:
            made[name] = compare(recipe(name), seed=0, batch_size=BATCH[name],
                                 iterations=ITERATIONS[name], warm_up_steps=WARM_UP)
        return made[name]

    return get


def measured(row):
    """The row's difference in the unit its bound is in: absolute for forward outputs, else relative."""
    return row.max_abs if row.kind == "forward" else row.max_abs / row.scale


def assert_rows_within(report, kind, expected_count=None):
    rows = report.rows_of(kind)
    assert rows, kind
    if expected_count is not None:
        assert len(rows) == expected_count
    bad = [(r.quantity, measured(r), r.reference) for r in rows
           if not measured(r) <= max(BOUNDS[kind], DRIFT_ALLOWANCE * (r.reference or 0.0))]
    assert not bad, bad


# --- forward, losses, gradients, training -----------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_state_is_loaded_bit_for_bit_and_forward_outputs_agree_within_1e5(reports, name):
    report = reports(name)
    assert report.rows_of("exact")[0].max_abs == 0.0
    forward = {r.quantity: r for r in report.rows_of("forward")}
    expected = {"generator output (batch statistics)", "discriminator logits (real)",
                "discriminator logits (generated)", "generator output after training",
                "discriminator logits (real) after training"}
    if name == "gan":
        expected.add("generator output (moving statistics)")
    assert set(forward) == expected
    assert_rows_within(report, "forward")


@pytest.mark.parametrize("name", ALL)
def test_losses_agree_within_1e5_relative(reports, name):
    report = reports(name)
    losses = {r.quantity for r in report.rows_of("loss")}
    assert {"d_loss", "g_loss", "d_loss at every training step (lockstep)",
            "g_loss at every training step (lockstep)"} <= losses
    if name != "gan":
        assert "gradient penalty" in losses
    for row in report.rows_of("loss"):  # relative to max(|loss|, 1), see BOUNDS
        assert row.scale >= 1.0, row
    assert_rows_within(report, "loss")


@pytest.mark.parametrize("name", ALL)
def test_gradient_of_every_variable_agrees_within_1e4_relative(reports, layouts, name):
    report = reports(name)
    trained = [n[:-len("/Adam")] for n in layouts(name) if n.endswith("/Adam")]  # what Adam trains
    rows = {r.quantity.split(" / ")[1] for r in report.rows_of("gradient")}
    assert rows == set(trained)
    assert_rows_within(report, "gradient", len(trained))


@pytest.mark.parametrize("name", ALL)
def test_every_variable_after_the_iterations_agrees_within_1e4_relative(reports, layouts, name):
    report = reports(name)
    expected = len(layouts(name))
    variables = report.rows_of("variable") + report.rows_of("inert")
    powers = [r for r in report.rows_of("exact") if "beta" in r.quantity]
    assert len(variables) + len(powers) == expected  # weights, BN statistics, Adam slots, powers
    assert len(powers) == 4 and all(r.max_abs == 0.0 for r in powers)  # beta powers: bit for bit
    assert_rows_within(report, "variable")
    # Only the biases a batch norm cancels (and their slots) are left unjudged.
    inert = {r.quantity.split(",")[0] for r in report.rows_of("inert")}
    if name == "gan":
        assert inert == {f"g_b{k}{s}" for k in range(1, 5) for s in ("", "/Adam", "/Adam_1")}
    else:
        assert not inert


@pytest.fixture(scope="module")
def layouts():
    """{model: {TF1 name: shape}} of what an original checkpoint holds, from the port's map."""
    made = {}

    def get(name):
        if name not in made:
            made[name] = checkpoints.tf1_shapes(build_model(recipe(name)))
        return made[name]

    return get


@pytest.mark.slow
def test_faces_five_iterations_in_lockstep():
    report = compare(recipe("face"), seed=1, batch_size=2, iterations=5)
    for kind in BOUNDS:
        assert_rows_within(report, kind)


FREE_RUNNING_GAN = """
import sys
sys.path.insert(0, "tests")
from test_parity import BOUNDS, assert_rows_within, compare, recipe
report = compare(recipe("gan"), seed=0, batch_size=8, iterations=5, warm_up_steps=2, free_running=True)
for kind in BOUNDS:
    assert_rows_within(report, kind)
drifts = [r.reference for r in report.rows_of("variable") if r.quantity.startswith("g_w")]
assert max(drifts) > 1e-3, drifts
losses = [r for r in report.rows_of("loss") if "every training step" in r.quantity]
assert losses and all(r.rel < 1e-4 for r in losses)  # the losses stay close all along
"""


@pytest.mark.slow
def test_free_running_gan_drifts_no_more_than_the_original_drifts_from_itself():
    """Why training is compared in lockstep: the original does not reproduce itself to 1e-4.

    Re-run with each network's largest weight tensor nudged by one float32 ulp and every
    batch's rows in reverse order (the same sums, rounded in another order at every step,
    as the port's are), the original's own generator weights end the 2 + 5 steps more than
    1e-3 away (relative to their scale): Adam moves every weight by up to a learning rate
    (5e-4, against weights of ~0.02) whatever its gradient, so near-zero gradients go
    whichever way their rounding says. The free-running port stays within that envelope
    (DRIFT_ALLOWANCE times it). A copy nudged once but fed the same rows is no envelope: on
    an AMD EPYC its discriminator drifted 25 times less than the port's (d_w2).

    Run with oneDNN's custom CPU kernels off: on CPUs with AMX (Sapphire Rapids) oneDNN
    picks different matmul kernels for the TF1 graph and for the port's function, whose
    roundings differ every step; seven free-running steps amplify that past the envelope
    (d_w3 1.2e-2 against the original's own 4.4e-5), although every lockstep row passes.
    """
    env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0", TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=os.getcwd())
    done = subprocess.run([sys.executable, "-c", FREE_RUNNING_GAN], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]


FREE_RUNNING_WGAN = """
import sys
sys.path.insert(0, "tests")
import tensorflow as tf
tf.config.experimental.enable_op_determinism()
from test_parity import BOUNDS, assert_rows_within, compare, measured, recipe
from common import adversarial
plain = compare(recipe("wgan"), seed=0, batch_size=4, iterations=5, free_running=True, drift_reference=False)
for kind in BOUNDS:
    assert_rows_within(plain, kind)

def concatenated(self, real, fake):
    logits = self.discriminator(tf.concat([real, fake], axis=0), training=True)
    return tf.split(logits, 2, axis=0)

adversarial.AdversarialModel.discriminator_logits = concatenated
report = compare(recipe("wgan"), seed=0, batch_size=4, iterations=5, free_running=True, drift_reference=False)
assert any(measured(r) > BOUNDS[r.kind] for r in report.rows if r.kind in BOUNDS)
assert report.worst("variable").rel > 3 * plain.worst("variable").rel
"""


@pytest.mark.slow
def test_free_running_wgan_needs_the_critic_called_as_the_original_called_it():
    """Free-running, the WGAN port stays within the plain 1e-4 of the original, but only
    because it calls the critic on the real and on the fake batch separately, as the
    original did: one concatenated call rounds exactly-cancelling gradient sums to ~1e-9
    residues, which Adam's first steps turn into steps of ~0.1 learning rates.

    In a fresh process with oneDNN's custom kernels off, as the free-running GAN test: run
    after the rest of this file in one process (oneDNN on), the plain port's outputs after
    training ended 5e-3 and 2e-2 away on an AMD EPYC, although it passes on its own there.
    """
    env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0", TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=os.getcwd())
    done = subprocess.run([sys.executable, "-c", FREE_RUNNING_WGAN], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]


# --- Adam's beta powers and step counts ------------------------------------------------------


def tf1_power_sequence(beta, steps):
    """What TF1's Adam does to beta1_power: start at beta, multiply by beta in float32, in a graph."""
    graph = tf.Graph()
    with graph.as_default():
        def body(i, power, values):
            return i + 1, power * tf.constant(beta, tf.float32), values.write(i, power)

        _, _, values = tf.compat.v1.while_loop(
            lambda i, *_: i < steps, body,
            [tf.constant(0), tf.constant(beta, tf.float32), tf.TensorArray(tf.float32, steps)])
        stacked = values.stack()
    with tf.compat.v1.Session(graph=graph) as session:
        return session.run(stacked)


@pytest.mark.parametrize("beta", [0.5, 0.9, 0.999])
def test_beta_powers_are_tf1s_float32_sequence_bit_for_bit(beta):
    steps = checkpoints.underflow_steps(beta) + 3
    sequence = tf1_power_sequence(beta, steps)
    ours = np.array([checkpoints.beta_power(beta, t) for t in range(steps)], dtype=np.float32)
    assert np.array_equal(ours.view(np.uint32), sequence.view(np.uint32))
    assert sequence[-1] == 0 and sequence[checkpoints.underflow_steps(beta) - 1] > 0
    for t in (0, 1, 17, checkpoints.underflow_steps(beta) - 1):
        assert checkpoints.steps_from_power(sequence[t], beta).exact == t


def powers(d_steps, g_steps, beta1, beta2):
    p = checkpoints.beta_power
    return {"beta1_power": p(beta1, d_steps), "beta2_power": p(beta2, d_steps),
            "beta1_power_1": p(beta1, g_steps), "beta2_power_1": p(beta2, g_steps)}


def test_training_position_from_the_beta_powers():
    gan, wgan = recipe("gan"), recipe("wgan")
    # A gantrain run of 10000 iterations: beta1 0.9 has underflowed, beta2 0.999 still tells.
    position = checkpoints.training_position(gan, powers(10030, 10000, 0.9, 0.999), 0.9, 0.999)
    assert (position.discriminator_steps, position.generator_steps, position.step_counter) == (10030, 10000, 10030)
    assert not position.notes
    # A long WGAN run: every power is 0; the count must be given, and must be possible.
    stored = powers(2_500_000, 500_000, 0.5, 0.9)
    assert all(v == 0 for v in stored.values())
    with pytest.raises(UserError, match="--iterations"):
        checkpoints.training_position(wgan, stored, 0.5, 0.9)
    position = checkpoints.training_position(wgan, stored, 0.5, 0.9, iterations=500_000)
    assert (position.discriminator_steps, position.generator_steps, position.step_counter) == (2_500_000, 500_000, 500_000)
    with pytest.raises(UserError, match="too few"):
        checkpoints.training_position(wgan, stored, 0.5, 0.9, iterations=10)
    # Where the powers tell, --iterations must agree with them.
    with pytest.raises(UserError, match="contradicts"):
        checkpoints.training_position(wgan, powers(50, 10, 0.5, 0.9), 0.5, 0.9, iterations=11)
    # Another beta1: named, with the value that fits.
    with pytest.raises(UserError, match="fits beta1 = 0.5"):
        checkpoints.training_position(gan, powers(40, 10, 0.5, 0.999), 0.9, 0.999)
    # beta1_power and beta2_power of one optimiser disagreeing.
    mixed = dict(powers(40, 10, 0.9, 0.999), beta2_power=checkpoints.beta_power(0.999, 41))
    with pytest.raises(UserError, match="disagree"):
        checkpoints.training_position(gan, mixed, 0.9, 0.999)


# --- checkpoints: round trips, import, resume, errors ------------------------------------------


def randomise_state(legacy, seed):
    """Give every weight, statistic and Adam slot random bits and the powers a real step count."""
    rng = np.random.default_rng(seed)
    values = {}
    for name, shape in legacy.variable_shapes().items():
        if "_power" in name:
            continue
        value = rng.standard_normal(shape, dtype=np.float32) * np.float32(0.02)  # weights of a usual size
        values[name] = np.abs(value) if name.endswith(("/Adam_1", "moving_variance")) else value
    values.update(powers(37, 7, legacy.beta1, legacy.beta2))
    legacy.assign(values)
    return values


def write_checkpoint(name, path, seed=0):
    """An original checkpoint as the original's train() left it: trained for 2 iterations."""
    digits = default_images(recipe(name), 64)
    return write_random_checkpoint(name, path, seed=seed, data=digits, iterations=2,
                                   pretrain_steps=WARM_UP if name == "gan" else 0, batch_size=BATCH[name])


def cli_main(name):
    if name == "face":
        from genface.cli import main
    else:
        from genmnist.cli import main
    return main


def assert_same_bits(want, got):
    assert got.keys() == want.keys()
    for key in want:
        assert want[key].dtype == got[key].dtype == np.float32, key
        assert np.array_equal(want[key].view(np.uint32), got[key].view(np.uint32)), key


@pytest.mark.parametrize("name", ALL)
def test_round_trip_original_import_export_original_is_bit_exact(name, tmp_path):
    """GAN and WGAN: a checkpoint the original graph trained; faces (whose training steps are
    slow): one with every variable randomised, in a graph kept for the restore."""
    main = cli_main(name)
    run, back = str(tmp_path / "run"), str(tmp_path / "back" / "model")
    legacy = LegacyGraph.build(name, batch_size=BATCH[name], seed=0) if name == "face" else None
    try:
        if legacy is not None:
            randomise_state(legacy, seed=0)
            original = legacy.save(str(tmp_path / "original" / "model"), write_meta_graph=False)
        else:
            original = write_checkpoint(name, str(tmp_path / "original" / "model"))
        assert main(["import-tf1", original, "--out", run, "--seed", "1"]) == 0
        config = json.load(open(os.path.join(run, "config.json")))
        assert config["model"] == name and config["fidelity"] == "legacy"
        assert config["imported_from"] == os.path.abspath(original)
        assert main(["export-tf1", "--run", run, "--out", back]) == 0
        assert tf.train.latest_checkpoint(str(tmp_path / "back")) == back
        before = read_checkpoint(original)
        assert_same_bits(before, read_checkpoint(back))
        # The original's Saver restores it, every variable.
        legacy = legacy or LegacyGraph.build(name, batch_size=1, seed=99)
        randomise_state(legacy, seed=5)
        assert legacy.restore(back) == []
        assert_same_bits(before, legacy.variables())
        if name == "face":
            assert_faces_are_rgb_in_the_port(legacy, run)
    finally:
        if legacy is not None:
            legacy.close()


def assert_faces_are_rgb_in_the_port(legacy, run):
    """The original's faces model worked in BGR (cv2.imread); imported, it works in RGB."""
    from common.run import RunFolder

    assert json.load(open(os.path.join(run, "config.json")))["imported_colour_order"].startswith("bgr")
    model = RunFolder.open(run, FACE_RECIPES).load_model(FACE_RECIPES)
    rng = np.random.default_rng(0)
    z = rng.standard_normal((2, 128)).astype(np.float32)
    x_rgb = rng.random((2, 96, 96, 3)).astype(np.float32)
    want = legacy.forward(z, x_rgb[..., ::-1])
    np.testing.assert_allclose(np.asarray(model.generator(z)), want["gen"][..., ::-1], atol=1e-5)
    got = np.asarray(model.discriminator(x_rgb))
    np.testing.assert_allclose(got, want["d_real_logit"], atol=1e-5 * np.abs(want["d_real_logit"]).max())


def test_imported_gan_resumes_training_where_the_original_stopped(tmp_path):
    from genmnist.cli import main

    original = write_checkpoint("gan", str(tmp_path / "original" / "gan"))
    run = str(tmp_path / "run")
    assert main(["import-tf1", original, "--out", run, "--batch-size", "8", "--seed", "2"]) == 0
    config = json.load(open(os.path.join(run, "config.json")))
    # 2 warm-up + 2 iterations in the original: D made 4 updates, G 2.
    assert config["imported_adam_steps"] == {"discriminator": 4, "generator": 2}
    assert config["steps_done"] == 2 and config["global_step"] == 32
    assert main(["train", "--resume", "--out", run, "--steps", "3", "--checkpoint-every", "0"]) == 0
    from common.run import RunFolder

    model = RunFolder.open(run, MNIST_RECIPES).load_model(MNIST_RECIPES)
    assert checkpoints.adam_steps(model) == {"discriminator": 5, "generator": 3}
    assert int(model.step_counter.numpy()) == 33
    stored = read_checkpoint(original)
    resumed = checkpoints.tf1_values(model)
    assert resumed["beta1_power_1"] == checkpoints.beta_power(0.9, 3)  # Adam went on from t = 2
    assert not np.array_equal(resumed["g_w1"], stored["g_w1"])
    assert np.array_equal(resumed["bn1/beta"], stored["bn1/beta"])  # Q1: still frozen


def test_wrong_model_checkpoint_is_an_error_listing_each_variable(tmp_path):
    original = write_checkpoint("wgan", str(tmp_path / "wgan" / "model"))
    with pytest.raises(UserError) as error:
        checkpoints.import_tf1_checkpoint(original, MNIST_RECIPES, str(tmp_path / "run"), model_name="gan")
    message = str(error.value)
    assert "not a checkpoint of the original's 'gan' model" in message
    expected = checkpoints.tf1_shapes(build_model(recipe("gan")))
    stored = read_checkpoint(original)
    for name in expected:
        if name not in stored:
            assert f"{name} [" in message, name
    for name in stored:
        if name not in expected:
            assert f"{name} [" in message, name
    assert "pass --model wgan" in message
    assert not os.path.exists(tmp_path / "run")  # nothing written on error


def test_missing_misshaped_and_unexpected_variables_are_each_named(tmp_path):
    stored = read_checkpoint(write_checkpoint("gan", str(tmp_path / "gan" / "model")))
    stored["g_w2"] = stored["g_w2"][:, :100]
    del stored["discriminator/d_b3/Adam_1"]
    stored["stray/variable"] = np.zeros(3, np.float32)
    bad = checkpoints.write_tf1_checkpoint(stored, str(tmp_path / "bad" / "model"))
    with pytest.raises(UserError) as error:
        checkpoints.import_tf1_checkpoint(bad, MNIST_RECIPES, str(tmp_path / "run"))
    message = str(error.value)
    assert "missing 1: discriminator/d_b3/Adam_1 [1024]" in message
    assert "mis-shaped 1: g_w2 [1024,100] (expected [1024,3136])" in message
    assert "unexpected 1: stray/variable [3]" in message


def test_other_bad_inputs_are_one_line_user_errors(tmp_path):
    with pytest.raises(UserError, match="no readable TF1 checkpoint"):
        checkpoints.import_tf1_checkpoint(str(tmp_path / "nothing"), MNIST_RECIPES, str(tmp_path / "run"))
    # A run folder's own (object-based) checkpoint is not one of the original's.
    from common.run import RunFolder

    model = build_model(recipe("wgan"))
    path = tf.train.Checkpoint(**{"generator": model.generator}).write(str(tmp_path / "tf2" / "ckpt"))
    with pytest.raises(UserError, match="object-based"):
        checkpoints.import_tf1_checkpoint(path, MNIST_RECIPES, str(tmp_path / "run"), model_name="wgan")
    # A data file cut short (a copy that did not finish).
    good = write_checkpoint("wgan", str(tmp_path / "cut" / "model"))
    data = good + ".data-00000-of-00001"
    with open(data, "r+b") as handle:
        handle.truncate(os.path.getsize(data) // 2)
    with pytest.raises(UserError, match="incomplete or corrupt"):
        checkpoints.import_tf1_checkpoint(good, MNIST_RECIPES, str(tmp_path / "run"))
    assert not os.path.exists(tmp_path / "run")
    # A faces checkpoint given to genmnist.
    names = {"discriminator/d_w2_2": np.zeros(1, np.float32)}
    faces = checkpoints.write_tf1_checkpoint(names, str(tmp_path / "faces" / "model"))
    with pytest.raises(UserError, match="'face' model; this program handles"):
        checkpoints.import_tf1_checkpoint(faces, MNIST_RECIPES, str(tmp_path / "run"))
    # A fixed-fidelity run cannot be exported to the legacy math.
    run = RunFolder.create(str(tmp_path / "fixed"), {"model": "wgan", "fidelity": "fixed", "z_dim": 100,
                                                      "image_shape": [28, 28, 1], "seed": 0, "batch_size": 4,
                                                      "learning_rate": 1e-4, "data": None, "steps": 1})
    with pytest.raises(UserError, match="fixed-fidelity"):
        checkpoints.export_tf1_checkpoint(run.path, MNIST_RECIPES, str(tmp_path / "out" / "model"))


def test_a_generator_of_another_z_dim_is_imported_with_it(tmp_path):
    stored = read_checkpoint(write_checkpoint("gan", str(tmp_path / "gan" / "model")))
    rng = np.random.default_rng(0)
    for name in ("g_w1", "g_w1/Adam", "g_w1/Adam_1"):
        stored[name] = np.abs(rng.standard_normal((64, 1024))).astype(np.float32)
    prefix = checkpoints.write_tf1_checkpoint(stored, str(tmp_path / "z64" / "model"))
    run, _ = checkpoints.import_tf1_checkpoint(prefix, MNIST_RECIPES, str(tmp_path / "run"),
                                               print_fn=lambda message: None)
    assert run.config.z_dim == 64
    back = checkpoints.export_tf1_checkpoint(run.path, MNIST_RECIPES, str(tmp_path / "back" / "model"))[0]
    assert np.array_equal(read_checkpoint(back)["g_w1"], stored["g_w1"])


SATURATED_GAN = """
import os, sys, tempfile
import numpy as np
from common import data, adversarial
from common.legacy_tf1.graphs import LegacyGraph
from common.legacy_tf1 import compare as comparing
from genmnist import EMBEDDED
from genmnist.models import GAN

digits = data.read_images(EMBEDDED, (28, 28, 1))
digits = digits[np.random.default_rng(0).permutation(len(digits))]
rng = np.random.default_rng(0)
prefix = os.path.join(tempfile.mkdtemp(), "gan")
with LegacyGraph.build("gan", batch_size=8, seed=0) as graph:
    x = graph._x(digits[:512].astype(np.float32) / 255)
    for step in range(200):  # D-only steps, as the original's warm-up: D saturates
        d_loss = graph.pretrain_step(x[8 * (step % 64):8 * (step % 64) + 8],
                                     rng.standard_normal((8, 100)).astype(np.float32))
        if d_loss < 1e-6:
            break
    assert d_loss < 1e-6, d_loss
    graph.save(prefix, write_meta_graph=False)

def report(stable_losses):
    build = adversarial.build_model
    comparing.build_model = lambda *a, **k: build(*a, stable_losses=stable_losses, **k)
    return comparing.compare(GAN, checkpoint=prefix, seed=0, batch_size=8, iterations=3, warm_up_steps=0,
                             images=digits[512:544], drift_reference=False)

if sys.argv[1] == "as-written":
    as_written = report(False)
    assert as_written.ok, as_written.format(only_failures=True)
else:
    corrected = report(True)  # Q8 corrected: other gradients where the sigmoid rounds to 0 or 1
    assert any("gradient of d_loss" in row.quantity for row in corrected.failures), corrected.format()
print("ok")
"""


def run_saturated_comparison(losses):
    env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0", TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=os.getcwd())
    done = subprocess.run([sys.executable, "-c", SATURATED_GAN, losses], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), (done.stdout + done.stderr)[-4000:]


def test_legacy_fidelity_steps_as_the_original_from_a_saturated_discriminator():
    """Issue 18: where D(x) rounds to 1 and D(G(z)) to 0 (d_loss below 1e-6), the original's
    log of sigmoid outputs has other gradients than the same loss from logits. Legacy
    fidelity takes the log of sigmoids too, so its steps agree there. In a fresh process
    with oneDNN's custom kernels off, as the free-running tests (see above)."""
    run_saturated_comparison("as-written")


@pytest.mark.slow
def test_stable_losses_leave_the_original_from_a_saturated_discriminator():
    """The same comparison with quirk Q8 corrected: the discriminator's gradients leave the tolerance."""
    run_saturated_comparison("stable")


# --- the command ------------------------------------------------------------------------------


@pytest.mark.slow  # by default the parity tests run the compare library itself
def test_compare_command_exits_0_within_tolerance_and_1_above(capsys):
    from genmnist.cli import main

    fast = ["compare", "--model", "gan", "--iterations", "1", "--warm-up-steps", "1", "--batch-size", "4",
            "--no-drift-reference"]
    assert main(fast) == 0
    out = capsys.readouterr().out
    assert "gradient of d_loss / discriminator/d_w1" in out and "within tolerance" in out
    # No training steps, and no tolerance for the last bits of the gradients: status 1.
    assert main(fast[:3] + ["--iterations", "0", "--tolerance", "gradient=0", "--failures-only",
                            "--no-drift-reference"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "ABOVE tolerance" in out
    with pytest.raises(SystemExit):  # argparse: exit status 2 and a usage line
        main(["compare", "--model", "gan", "--tolerance", "nonsense=1"])
