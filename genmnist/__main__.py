"""``python -m genmnist``: TensorFlow's C++ start-up messages are hidden unless --debug is given."""

import sys

from common.startup import import_tensorflow_quietly

import_tensorflow_quietly()  # before anything else loads TensorFlow

from genmnist.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
