"""Many devices and machines (GitHub issue 8): N replicas compute what one device computes.

* Two logical CPU devices under ``MirroredStrategy`` (configured in a fresh process,
  ``tests/distribute_check.py``, since TensorFlow fixes its devices when it starts): N
  steps equal N single-device steps on the same global batches, the vanilla GAN's
  synchronised batch norm and warm-up phase included. By default on the recipes with
  narrow layers (``tests/fixtures/tiny_models.py``: the same code, seconds to trace); the
  full-size models are ``slow``, and trained with plain SGD, judged on their updates.
* Two worker processes on localhost under ``MultiWorkerMirroredStrategy`` (``TF_CONFIG``),
  through the command line: both exit cleanly, only the chief writes the run folder, and
  its weights equal a single-device run's (``slow``: two TensorFlow processes and a
  full-size WGAN).

"Equal" is judged as the parity tests judge it, within 1e-4 relative: per variable,
``max|a - b|`` over the largest element of its network and ``||a - b|| / ||a||``, every
variable but the biases batch norm cancels (rounding noise in any program; see
``common/legacy_tf1/compare.py``). The two sides sum their gradients in another order, and
Adam's first steps turn last-bit differences of near-zero gradients into steps of up to a
learning rate, so N is kept small: past a few dozen vanilla-GAN steps at its learning rate
two equally valid summation orders drift apart the way the original drifts from itself.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOLERANCE = 1e-4
# ||update of one device - update of the replicas|| / ||update of one device||, per network.
UPDATE_TOLERANCE = 1e-3


def run_python(args, env=None, timeout=600):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def relative(a, b):
    return abs(a - b) / max(abs(b), 1e-30)


def check_mirrored(recipes, optimizer="adam"):
    # gan: steps 28..31 (two warm-up steps, two full ones), global batch 8; wgan: 2 iterations.
    request = {"gan": [8, 28, 4], "wgan": [8, 0, 2], "recipes": recipes, "optimizer": optimizer}
    done = run_python([os.path.join("tests", "distribute_check.py"), json.dumps(request)])
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def mirrored():
    return check_mirrored("tiny")


def test_each_replica_gets_its_rows_of_the_single_device_batch(mirrored):
    dealt, whole = mirrored["dealt_rows"]["dealt"], mirrored["dealt_rows"]["whole"]
    assert [replica_0 + replica_1 for replica_0, replica_1 in dealt] == whole


@pytest.mark.parametrize("name", ["gan", "wgan"])
def test_n_mirrored_steps_on_two_cpu_devices_equal_n_single_device_steps(mirrored, name):
    # The narrow layers' bias vectors have 1 to 8 elements, whose own norm is a poor scale
    # (d_b4 of the GAN ends near 0): judged per variable within 1e-3, by the parity
    # tests' measure (the network's largest element) within the plain 1e-4.
    assert_replicas_equal_one_device(mirrored[name], l2_tolerance=1e-3)


@pytest.mark.slow
def test_the_full_size_models_on_two_cpu_devices_take_the_single_device_steps():
    # With the recipe's Adam the full-size networks' millions of near-zero gradients make
    # the comparison a lottery of rounding (on an AMD EPYC g_w1 ended 0.017 of its scale
    # apart after four steps, with every loss equal); plain SGD's step is the gradient
    # itself, so the two sides' total updates must agree as their gradients do. Measured
    # on an AMD EPYC: at most 8e-5 apart (the GAN's generator, through the synchronised
    # batch norm's sums); 0.03 to 0.17 when every replica is dealt the first rows.
    result = check_mirrored("full", optimizer="sgd")
    for name in ("gan", "wgan"):
        assert_replicas_equal_one_device(result[name])
        assert all(difference < UPDATE_TOLERANCE for difference in result[name]["updates"].values()), \
            result[name]["updates"]
    assert result["gan"]["synchronized_bn"] == [True] * 4


def assert_replicas_equal_one_device(result, l2_tolerance=TOLERANCE):
    assert result["replicas"] == 2
    assert result["g_updates"][0] == result["g_updates"][1] == 2
    one, two = result["logs"]
    for loss in ("d_loss", "g_loss"):
        assert relative(two[loss], one[loss]) < TOLERANCE, (loss, one, two)
    bad = {name: row for name, row in result["variables"].items()
           if row["l2_rel"] > l2_tolerance or row["group_rel"] > TOLERANCE}
    assert not bad, bad


def test_the_gans_batch_norm_is_synchronised_across_replicas(mirrored):
    assert mirrored["gan"]["synchronized_bn"] == [True] * 4


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_two_workers_on_localhost_train_and_only_the_chief_writes(tmp_path):
    out = str(tmp_path / "run")
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    command = ["-m", "genmnist", "train", "--model", "wgan", "--steps", "1", "--batch-size", "4",
               "--seed", "5", "--checkpoint-every", "0", "--strategy", "multiworker", "--out", out]
    scratch = set(os.listdir(tempfile.gettempdir()))
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        processes.append(subprocess.Popen([sys.executable, *command], cwd=ROOT, text=True,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                          env={**os.environ, "TF_CONFIG": json.dumps(tf_config)}))
    try:
        outputs = [p.communicate(timeout=300)[0] for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
    for p, output in zip(processes, outputs):
        assert p.returncode == 0, output[-3000:]
    assert f"-> {out}" in outputs[0]  # the chief trains into --out, the other worker elsewhere
    assert f"-> {out}" not in outputs[1]
    config = json.load(open(os.path.join(out, "config.json")))
    assert config["strategy"] == "multiworker" and config["steps_done"] == 1
    leftovers = {n for n in set(os.listdir(tempfile.gettempdir())) - scratch if n.startswith("gan-worker-")}
    assert not leftovers  # the non-chief's scratch run folder is gone

    # The chief's weights are a single-device run's: same global batches, z and alphas.
    from common import data
    from common.adversarial import build_model
    from common.naming import tf1_variables
    from common.run import RunFolder
    from common.training import fit_steps
    from genmnist import EMBEDDED
    from genmnist.models import RECIPES

    import keras

    trained = RunFolder.open(out, RECIPES).load_model(RECIPES)
    keras.utils.set_random_seed(5)  # as train seeds it
    reference = build_model(RECIPES["wgan"], seed=5, learning_rate=config["learning_rate"], jit_compile=False)
    fit_steps(reference, data.read_images(EMBEDDED, (28, 28, 1)), 4, 5, 0, 1)
    for network in ("generator", "discriminator"):
        want = tf1_variables(getattr(reference, network))
        got = tf1_variables(getattr(trained, network))
        for name, variable in want.items():
            a, b = np.asarray(got[name]), np.asarray(variable)
            assert np.linalg.norm(a - b) <= TOLERANCE * np.linalg.norm(b), name


def test_multiworker_without_tf_config_is_a_one_line_error(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "TF_CONFIG"}
    done = subprocess.run([sys.executable, "-m", "genmnist", "train", "--steps", "1", "--seed", "1",
                           "--strategy", "multiworker", "--out", str(tmp_path / "run")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 2
    assert "TF_CONFIG" in done.stderr.strip().splitlines()[-1]
    assert not os.path.exists(tmp_path / "run")
