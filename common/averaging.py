"""The averaged generator (``train --ema-decay``): an exponential moving average of every
generator variable, batch-norm statistics included, kept beside the generator.

The averages are weights of the model (so checkpoints and ``.keras`` files hold them, as
``ema_0``, ``ema_1``, ...); :class:`Averages` keeps the rule for updating them and for
putting them into the generator.
"""

import contextlib

import numpy as np

from common import batch_norm

# The averaged generator's batch-norm statistics come from this many samples of it
# (see Averages.use), drawn from this seed.
AVERAGED_STATISTICS_SAMPLES = 5_000
AVERAGED_STATISTICS_SEED = 0


def check_decay(decay):
    """``decay`` as a float strictly between 0 and 1; None (no averaged generator) as it is."""
    if decay is None:
        return None
    decay = float(decay)
    if not 0.0 < decay < 1.0:
        raise ValueError(f"the averaged generator's decay must lie strictly between 0 and 1, got {decay}")
    return decay


class Averages:
    """``ema = decay * ema + (1 - decay) * w`` for every variable of ``model.generator``."""

    def __init__(self, model, decay):
        self.model, self.decay = model, decay
        self.variables = []
        # One float32 average per generator variable, starting at its initial value.
        # ``only_first_replica``: under tf.distribute every replica computes the same
        # average from the same (mirrored) weights, so the first one's is written to all.
        for index, variable in enumerate(model.generator.variables):
            average = model.add_weight(shape=variable.shape, dtype=variable.dtype, initializer="zeros",
                                       trainable=False, name=f"ema_{index}", aggregation="only_first_replica")
            average.assign(variable)
            self.variables.append(average)

    def update(self):
        """After each generator update (so not during the vanilla GAN's warm-up).

        In legacy fidelity batch norm's offsets and moving statistics never change (quirks
        Q1, Q2), so their averages stay equal to them, and the averaged generator normalises
        by batch statistics as the raw one does: only the trained weights are averaged.
        """
        for average, variable in zip(self.variables, self.model.generator.variables):
            average.assign(self.decay * average + (1.0 - self.decay) * variable)

    def use(self):
        """Put the averages into the generator for good (generate, export, evaluate).

        In fixed fidelity batch norm normalises by moving statistics, and the average of a
        layer's moving statistics is not the statistics of the averaged weights before it
        (it gave digits no classifier could read). So the averaged generator's statistics
        are estimated from its own samples (:mod:`common.batch_norm`), from fixed z: the
        same checkpoint always gives the same generator. In legacy fidelity the generator
        normalises by batch statistics and needs none.
        """
        generator = self.model.generator
        for variable, average in zip(generator.variables, self.variables):
            variable.assign(average)
        if self.model.fidelity == "fixed" and batch_norm.batch_norm_layers(generator):
            z = np.random.default_rng(AVERAGED_STATISTICS_SEED).standard_normal(
                (AVERAGED_STATISTICS_SAMPLES, self.model.recipe.z_dim)).astype(np.float32)
            batch_norm.reestimate_batch_norm(generator, z)

    @contextlib.contextmanager
    def in_generator(self):
        """Inside the block the generator holds the averages; after it, its own weights again."""
        generator = self.model.generator
        own = [variable.numpy() for variable in generator.variables]
        self.use()
        try:
            yield generator
        finally:
            for variable, value in zip(generator.variables, own):
                variable.assign(value)
