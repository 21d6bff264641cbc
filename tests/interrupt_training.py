"""``genmnist`` on the narrow test recipes (``tests/fixtures/tiny_models.py``) that presses
Ctrl-C on itself: SIGINT to its own process once the step counter reaches STEP (warm-up
steps included), so the interruption lands at a known step. Deterministic kernels, as
the tests' own runs use.

    python tests/interrupt_training.py STEP train --model gan ... --out RUN
"""

import dataclasses
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from common import cli  # noqa: E402
from common.adversarial import AdversarialModel  # noqa: E402
from genmnist import cli as genmnist_cli  # noqa: E402
from tests.fixtures.tiny_models import TINY_RECIPES  # noqa: E402

STEP = int(sys.argv[1])


class CtrlCAt(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.step_counter.numpy()) == STEP:
            os.kill(os.getpid(), signal.SIGINT)


fit = AdversarialModel.fit


def fit_then_interrupt(self, *args, callbacks=None, **kwargs):
    return fit(self, *args, callbacks=[*(callbacks or []), CtrlCAt()], **kwargs)


AdversarialModel.fit = fit_then_interrupt
tf.config.experimental.enable_op_determinism()
sys.exit(cli.main(dataclasses.replace(genmnist_cli.family(), recipes=TINY_RECIPES), sys.argv[2:]))
