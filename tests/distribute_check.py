"""Run in a fresh process by ``tests/test_distribute.py``: N steps on two logical CPU devices.

The two logical devices must be configured before TensorFlow starts its runtime, which
the test process has long done; so this script runs on its own and prints one JSON line.

For each model asked for, the same initial weights are trained for the same steps of the
same data stream twice: on the default device, and under ``MirroredStrategy`` over the two
logical CPUs (each replica half of every global batch). Reported per model: the last
step's losses of both, and per variable ``||a - b|| / ||a||`` and ``max|a - b|`` over the
largest element of the variable's network (the scale the parity tests use).

``{"recipes": "tiny"}`` in the request trains the narrow copies of the recipes
(``tests/fixtures/tiny_models.py``) instead of the full-size ones. ``{"optimizer": "sgd"}``
trains both sides with plain SGD instead of the recipe's Adam, and reports per network how
far the two sides' total updates differ, ``||Δa - Δb|| / ||Δa||``: SGD's step is linear in
the gradient, so this measures the replicas' gradients; Adam's first steps would turn the
last-bit differences of near-zero gradients into steps of a whole learning rate.
"""

import contextlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tensorflow as tf  # noqa: E402

_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(_cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from common import data, distribute  # noqa: E402
from common.adversarial import build_model  # noqa: E402
from common.legacy_tf1.compare import inert_variables  # noqa: E402
from common.naming import tf1_variables  # noqa: E402
from common.training import fit_steps  # noqa: E402
from genmnist import EMBEDDED  # noqa: E402
from genmnist.models import RECIPES  # noqa: E402
from tests.fixtures.tiny_models import TINY_RECIPES  # noqa: E402

SEED = 3


def weights(model):
    values = {}
    for network in (model.generator, model.discriminator):
        values.update({name: np.array(v.numpy()) for name, v in tf1_variables(network).items()})
    return values


def train(recipe, images, batch_size, start, steps, strategy, initial=None, optimizer="adam"):
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = build_model(recipe, seed=SEED)
        if optimizer == "sgd":
            lr = recipe.default_learning_rate
            model.compile(d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(lr))
    if initial is not None:
        for variable, value in zip(model.weights, initial):
            variable.assign(value)
    model.step_counter.assign(start)
    last = {}

    class LastLogs(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            last.update({k: float(v) for k, v in (logs or {}).items()})

    fit_steps(model, images, batch_size, SEED, start, steps, strategy=strategy, callbacks=[LastLogs()])
    return model, last


def network_of(key):
    return "generator" if key.startswith(("g_", "generator/")) else "discriminator"


def check(strategy, recipe, batch_size, start, steps, optimizer):
    images = data.read_images(EMBEDDED, (28, 28, 1))[:512]
    keras.utils.set_random_seed(SEED)  # the same initial weights on every run of the test
    fresh = build_model(recipe, seed=SEED)
    initial, before = [w.numpy() for w in fresh.weights], weights(fresh)
    one, one_logs = train(recipe, images, batch_size, start, steps, None, initial, optimizer)
    mirrored, mirrored_logs = train(recipe, images, batch_size, start, steps, strategy, initial, optimizer)
    a, b = weights(one), weights(mirrored)
    inert = inert_variables(one)
    updates = {}
    for group in ("generator", "discriminator"):
        keys = [k for k in a if k not in inert and network_of(k) == group]
        step_a = np.concatenate([(a[k] - before[k]).ravel() for k in keys])
        step_b = np.concatenate([(b[k] - before[k]).ravel() for k in keys])
        updates[group] = float(np.linalg.norm(step_a - step_b) / max(np.linalg.norm(step_a), 1e-30))
    scale = {}
    for key, value in a.items():
        group = network_of(key)
        scale[group] = max(scale.get(group, 0.0), float(np.max(np.abs(value))))
    rows = {}
    for key in a:
        if key in inert:
            continue  # cancelled by batch norm: rounding noise in any program (see compare.py)
        group = network_of(key)
        difference = a[key] - b[key]
        rows[key] = {"l2_rel": float(np.linalg.norm(difference) / max(np.linalg.norm(a[key]), 1e-30)),
                     "group_rel": float(np.max(np.abs(difference)) / scale[group])}
    return {"replicas": strategy.num_replicas_in_sync, "steps": int(mirrored.step_counter.numpy()) - start,
            "g_updates": [int(one.g_optimizer.iterations.numpy()), int(mirrored.g_optimizer.iterations.numpy())],
            "logs": [one_logs, mirrored_logs], "variables": rows, "updates": updates,
            "synchronized_bn": [layer.synchronized for layer in mirrored.generator.layers
                                if hasattr(layer, "synchronized")]}


def dealt_rows(strategy):
    """Which rows of each global batch each replica receives from distributed_batches."""
    images = np.arange(8, dtype=np.uint8).reshape(8, 1, 1, 1)
    stream = distribute.distributed_batches(strategy, images, 4, seed=0, steps=2)
    dealt = []
    for batch in stream:
        local = strategy.experimental_local_results(batch)
        dealt.append([np.rint(np.asarray(x).reshape(-1) * 255).astype(int).tolist() for x in local])
    whole = [np.rint(np.asarray(x).reshape(-1) * 255).astype(int).tolist()
             for x in data.batches(images, 4, seed=0, steps=2)]
    return {"dealt": dealt, "whole": whole}


if __name__ == "__main__":
    request = json.loads(sys.argv[1])
    recipes = TINY_RECIPES if request.pop("recipes", "full") == "tiny" else RECIPES
    optimizer = request.pop("optimizer", "adam")
    # One strategy for the whole process: two MirroredStrategy objects over the same
    # devices can mix up their collective ops' instance keys.
    mirrored_strategy = distribute.make_strategy("mirrored")
    result = {"dealt_rows": dealt_rows(mirrored_strategy)}
    for name, (batch_size, start, steps) in request.items():
        result[name] = check(mirrored_strategy, recipes[name], batch_size, start, steps, optimizer)
    print(json.dumps(result))
