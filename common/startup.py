"""Loading TensorFlow without its C++ start-up messages, which read like faults on a CPU-only machine.

TensorFlow logs through absl before its own log level applies ("All log messages before
absl::InitializeLog() ...", "Could not find cuda drivers", "failed call to cuInit"), so
``TF_CPP_MIN_LOG_LEVEL`` alone does not hide them: the import runs with the process's
standard error pointed at /dev/null. ``--debug`` shows everything.
"""

import os
import sys


def import_tensorflow_quietly(argv=None):
    argv = sys.argv if argv is None else argv
    if "--debug" in argv or "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import keras  # noqa: F401
        import tensorflow

        # Probing for GPUs logs too; listing the devices does it now, and leaves the
        # runtime unconfigured (a multi-worker strategy can still be made afterwards).
        tensorflow.config.list_physical_devices()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
