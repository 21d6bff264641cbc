"""Training on many devices and machines through ``tf.distribute`` (GitHub issue 8).

``train --strategy one|mirrored|multiworker`` picks the strategy:

* ``one``: no strategy, the default device; the port as it always ran.
* ``mirrored``: ``tf.distribute.MirroredStrategy`` over this machine's GPUs (or, on a
  machine without, every logical CPU device: the tests configure two).
* ``multiworker``: ``tf.distribute.MultiWorkerMirroredStrategy``, one process per machine,
  each told the cluster and its own place in it by the ``TF_CONFIG`` environment variable.

Whatever the strategy, N replicas compute what one device computes on the same global
batch, so a run's numbers do not depend on how many devices trained it (within float32
rounding, since sums are taken in another order):

* the data: batch ``s`` of the run is the same global batch as on one device;
  :func:`distributed_batches` deals replica ``r`` its rows ``[r * b, (r + 1) * b)``
  (``b`` = global batch / replicas);
* the random draws: each replica draws the z and the penalty alphas of the WHOLE global
  batch from the stateless ``(seed, step)`` generator and keeps its own rows
  (:func:`replica_slice`);
* the losses: each replica's loss is the mean over its rows divided by the number of
  replicas, and Keras' optimiser sums the replicas' gradients, which makes the gradient
  of the global mean (``AdversarialModel._objective``);
* batch norm (the vanilla GAN's generator): ``BatchNormalization(synchronized=True)``,
  whose moments are all-reduced over the replicas, so it normalises by the global batch's
  statistics (:func:`synchronized_batch_norm`);
* the vanilla GAN's discriminator-only warm-up: an optimiser update inside a ``tf.cond``
  cannot synchronise replicas, so the warm-up's steps and the later ones are two traced
  steps (``AdversarialModel.make_train_function``).

Multi-worker runs: every worker runs the same command with the same ``--seed`` and
``--out``; only the chief (worker 0, or the task of type ``chief``) writes the run folder.
The others write theirs (checkpoints need every worker to take part) to a temporary
folder that is deleted at the end. ``--resume`` needs the run folder readable by every
worker (a shared file system): the other workers copy its configuration and checkpoints
into their temporary folder before they start.
"""

import json
import os

import tensorflow as tf

from common import data
from common.errors import UserError, require

STRATEGIES = ("one", "mirrored", "multiworker")


def make_strategy(name):
    """The ``tf.distribute`` strategy called ``name`` (None for ``one``).

    A multi-worker strategy must exist before TensorFlow runs its first operation (it
    configures the collective ops of the process), so the command line makes it first.
    """
    require(name in STRATEGIES, f"--strategy must be one of {STRATEGIES}, got {name!r}")
    if name == "one":
        return None
    if name == "mirrored":
        devices = [d.name for d in tf.config.list_logical_devices("GPU")]
        devices = devices or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    require(os.environ.get("TF_CONFIG"),
            "--strategy multiworker needs the TF_CONFIG environment variable: the cluster's "
            "workers and this process's index (see docs/speed.md, 'Many devices and machines')")
    try:
        json.loads(os.environ["TF_CONFIG"])
    except ValueError as exc:
        raise UserError(f"TF_CONFIG is not valid JSON ({exc})") from None
    return tf.distribute.MultiWorkerMirroredStrategy()


def replicas(strategy):
    return 1 if strategy is None else strategy.num_replicas_in_sync


def is_chief(strategy):
    """Whether this process writes the run folder: always, except a non-chief worker."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    cluster = resolver.cluster_spec().as_dict()
    return task_type in (None, "chief") or (task_type == "worker" and task_id == 0 and "chief" not in cluster)


def logs_for_keras(logs):
    """A training step's logs, shaped for Keras' reduction over the replicas.

    Keras averages the logs of a MULTI-WORKER step with ``strategy.reduce("MEAN", v,
    axis=0)``, which fails on scalars; one element per replica reduces to the scalar mean
    over the replicas. Everywhere else the scalars are returned as they are.
    """
    strategy = tf.distribute.get_strategy()
    in_multi_worker_mode = getattr(strategy.extended, "_in_multi_worker_mode", lambda: False)
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and in_multi_worker_mode():
        return {name: tf.reshape(value, [1]) for name, value in logs.items()}
    return logs


def synchronized_batch_norm():
    """Whether a batch norm layer built now must all-reduce its moments over replicas.

    True under a strategy of more than one replica (models are built in its scope). With
    one replica the plain per-batch moments are kept: Keras' synchronized moments take
    E[x^2] - E[x]^2, which rounds differently from the two-pass moments the original used.
    """
    return tf.distribute.has_strategy() and tf.distribute.get_strategy().num_replicas_in_sync > 1


def distributed_batches(strategy, images, batch_size, seed, start_step=0, steps=None, reshuffle=True):
    """:func:`common.data.batches` dealt to the replicas of ``strategy``.

    Replica ``r`` of ``R`` gets rows ``[r * b, (r + 1) * b)`` of every global batch,
    ``b = batch_size / R``. Each input pipeline (one per worker) serves its local replicas
    in replica order; ``distribute_datasets_from_function`` hands a pipeline's consecutive
    elements to its replicas in turn.
    """
    count = replicas(strategy)
    require(batch_size % count == 0, f"--batch-size {batch_size} does not split evenly over "
                                     f"{count} replicas; choose a multiple of {count}")
    local = batch_size // count

    def dataset_fn(context):
        per_pipeline = count // context.num_input_pipelines
        first = context.input_pipeline_id * per_pipeline * local
        stream = data.batches(images, batch_size, seed, start_step, steps, reshuffle)
        shape = tuple(images.image_shape) if isinstance(images, data.ImageFiles) else images.shape[1:]
        # [B, ...] -> this pipeline's rows as [replicas here, b, ...] -> one element per replica.
        return (stream
                .map(lambda batch: tf.reshape(batch[first:first + per_pipeline * local],
                                              (per_pipeline, local, *shape)))
                .unbatch()
                .prefetch(tf.data.AUTOTUNE))

    return strategy.distribute_datasets_from_function(dataset_fn)


# --- inside a replica's step: its share of the global batch's random draws ------------


def replicas_in_sync():
    """How many replicas train together (1 without a ``tf.distribute`` strategy)."""
    return tf.distribute.get_strategy().num_replicas_in_sync


def replica_slice(global_values, local_size):
    """This replica's rows of a tensor drawn for the whole global batch.

    Replica ``r`` trains on rows ``[r * b, (r + 1) * b)`` of the global batch (that is how
    :func:`common.distribute.distributed_batches` deals it), so it takes the same rows of
    every random draw, and the replicas together see exactly the single-device draws.
    """
    replica = tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group, tf.int32)
    return tf.gather(global_values, tf.range(replica * local_size, (replica + 1) * local_size))
