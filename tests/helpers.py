"""Small functions several test files share (fixtures are in conftest.py)."""

import os
import subprocess
import sys
import time

import numpy as np

from common.naming import tf1_variables


def start_training(out, *extra):
    """``genmnist train`` of a vanilla GAN (batch 8, 100000 steps) in a child process."""
    env = dict(os.environ, PYTHONPATH=os.getcwd(), PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "genmnist", "train", "--model", "gan", "--steps", "100000",
                             "--batch-size", "8", *extra, "--out", out],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def wait_for(process, text, timeout=240):
    """Read the child's output until ``text`` appears; return what was read."""
    seen, deadline = "", time.time() + timeout
    while time.time() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen += line
        if text in line:
            return seen
    process.kill()
    raise AssertionError(f"{text!r} never appeared; output:\n{seen}\n{process.stderr.read()[-3000:]}")


def run_config(model="gan", **changes):
    """The config.json ``genmnist train --model MODEL`` writes, before ``RunFolder.create``."""
    from genmnist.models import RECIPES

    recipe = RECIPES[model]
    config = {"model": model, "fidelity": "legacy", "z_dim": recipe.z_dim, "image_shape": list(recipe.image_shape),
              "seed": 5, "batch_size": 8, "learning_rate": recipe.default_learning_rate, "data": None,
              "steps": 2, "precision": "float32", "jit_compile": False, "fused_discriminator": False,
              "stable_losses": False, "reshuffle": False}
    config.update(changes)
    return config


def quiet(*args, **kwargs):
    """A ``print_fn`` that prints nothing."""


def network_state(network):
    """{TF1 name: value} of one network's variables."""
    return {name: np.array(variable) for name, variable in tf1_variables(network).items()}


def model_state(model):
    """Every variable a run's checkpoint holds: both networks by TF1 name, both optimisers'
    variables as ``d_optimizer/NAME`` and ``g_optimizer/NAME``, and ``step_counter``."""
    values = {**network_state(model.generator), **network_state(model.discriminator)}
    for label in ("d_optimizer", "g_optimizer"):
        values.update({f"{label}/{v.name}": np.array(v) for v in getattr(model, label).variables})
    values["step_counter"] = np.array(model.step_counter)
    return values


def assert_same_state(a, b):
    """Two models hold the same bits in every variable of :func:`model_state`."""
    want, got = model_state(a), model_state(b)
    assert want.keys() == got.keys()
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


def changed(before, after):
    """Names whose values differ between two :func:`network_state` snapshots."""
    return {name for name in before if not np.array_equal(before[name], after[name])}


# --- the MNIST generators in NumPy, from the original's spec (an independent reference) ---------


def _deconv(x, w):
    """TF1's conv2d_transpose, stride 2, SAME: x [N, H, W, in], w [5, 5, out, in] -> [N, 2H, 2W, out]."""
    n, h, width, _ = x.shape
    k = w.shape[0]
    full = np.zeros((n, 2 * (h - 1) + k, 2 * (width - 1) + k, w.shape[2]))
    for dy in range(k):
        for dx in range(k):
            full[:, dy:dy + 2 * h:2, dx:dx + 2 * width:2] += np.einsum("nhwc,oc->nhwo", x, w[dy, dx])
    top = (k - 2) // 2  # SAME: the forward convolution's padding before, (k - stride) // 2
    return full[:, top:top + 2 * h, top:top + 2 * width]


def _batch_norm(x, v, k, batch_statistics):
    """tf.contrib.layers.batch_norm(epsilon=1e-5) of layer ``bnK``: with phase=True the batch's
    own mean and (biased) variance, else the moving ones."""
    if batch_statistics:
        axes = tuple(range(x.ndim - 1))
        mean, variance = x.mean(axis=axes), x.var(axis=axes)
    else:
        mean, variance = v[f"bn{k}/moving_mean"], v[f"bn{k}/moving_variance"]
    return (x - mean) / np.sqrt(variance + 1e-5) + v[f"bn{k}/beta"]


def numpy_generator(variables, z, batch_statistics=True):
    """The original's GANModel / WGANModel generator in float64 NumPy.

    ``variables``: {TF1 name: array} (a vanilla GAN's names have no scope, a WGAN's
    ``generator/``). Spec sections 1 and 2: dense, dense, reshape to 7x7, two 5x5
    stride-2 deconvolutions, a 1x1 convolution; batch norm (``batch_statistics``: the
    original's phase) and tanh (vanilla GAN), or neither and a sigmoid (WGAN).
    """
    v = {name.split("/", 1)[-1] if name.startswith("generator/") else name: np.asarray(value, np.float64)
         for name, value in variables.items()}
    gan = "bn1/beta" in v
    norm = (lambda x, k: _batch_norm(x, v, k, batch_statistics)) if gan else (lambda x, k: x)
    relu = lambda x: np.maximum(x, 0.0)  # noqa: E731
    h = relu(norm(np.asarray(z, np.float64) @ v["g_w1"] + v["g_b1"], 1))
    h = relu(norm(h @ v["g_w2"] + v["g_b2"], 2)).reshape(len(z), 7, 7, -1)
    h = relu(norm(_deconv(h, v["g_w3"]) + v["g_b3"], 3))
    h = relu(norm(_deconv(h, v["g_w4"]) + v["g_b4"], 4))
    logits = np.einsum("nhwc,co->nhwo", h, v["g_w5"][0, 0]) + v["g_b5"]
    return np.tanh(logits) if gan else 1.0 / (1.0 + np.exp(-logits))


def status_of(program, argv):
    """A command's exit status; argparse's usage errors exit through SystemExit."""
    try:
        return program(argv)
    except SystemExit as stop:
        return stop.code


def one_line(err):
    """The one line a refused command printed, with no traceback."""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]
