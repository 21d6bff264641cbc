"""Stopping on SIGINT (Ctrl-C) and SIGTERM (what SLURM, Kubernetes and systemd send first).

Outside training a signal stops the program at once (:class:`Interrupted`). While a run
trains, :func:`deferred` only records it: the step under way finishes, a checkpoint is
written, and the program exits 130 (SIGINT) or 143 (SIGTERM). Further signals during that
save are noted and ignored, so pressing Ctrl-C twice does not lose the checkpoint.
"""

import contextlib
import signal
import sys
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """A signal asked the program to stop (a BaseException, like KeyboardInterrupt)."""

    def __init__(self, signum, message=None):
        self.signum = signum
        self.exit_code = 128 + signum
        super().__init__(message or f"stopped by {signal.Signals(signum).name}")


def _raise(signum, frame):
    raise Interrupted(signum)


def _in_main_thread():
    return threading.current_thread() is threading.main_thread()


def install():
    """From now on SIGINT and SIGTERM raise :class:`Interrupted` (main thread only)."""
    if _in_main_thread():
        for signum in SIGNALS:
            signal.signal(signum, _raise)


class Pending:
    """The first signal received while deferred (None if none)."""

    def __init__(self, print_fn):
        self.signum = None
        self.print = print_fn

    def __call__(self, signum, frame):
        name = signal.Signals(signum).name
        if self.signum is None:
            self.signum = signum
            self.print(f"\n{name}: stopping after this iteration and writing a checkpoint")
        else:
            self.print(f"\n{name}: already stopping; the checkpoint is being written")

    @property
    def name(self):
        return signal.Signals(self.signum).name if self.signum is not None else None

    def __bool__(self):
        return self.signum is not None


@contextlib.contextmanager
def deferred(print_fn=lambda message: print(message, file=sys.stderr, flush=True)):
    """Record SIGINT/SIGTERM instead of acting on them; yields the :class:`Pending` record."""
    pending = Pending(print_fn)
    if not _in_main_thread():
        yield pending
        return
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
    for signum in SIGNALS:
        signal.signal(signum, pending)
    try:
        yield pending
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
