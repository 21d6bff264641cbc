"""What the benchmarks share: the provenance record that every results file carries, the
one writer of results files, the speed options under the short names the benchmarks
use (``bf16``, ``fused``, ...), and a clock of training iterations.

A figure without the code, the settings and the machine that made it cannot be checked
or compared, so every results file a benchmark writes goes through :func:`write_results`,
which adds :func:`provenance` under ``"provenance"``.
"""

import argparse
import dataclasses
import datetime
import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
import time

import keras

from common.files import write_json_atomically
from common.settings import RunConfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# --- the speed options (issue 8) ------------------------------------------------------------

# The run configuration's speed options and their defaults (the original's math), as the
# project defines them.
SPEED_OPTIONS = RunConfig.SPEED_OPTIONS
DEFAULT_SPEED = {field.name: field.default for field in dataclasses.fields(RunConfig) if field.name in SPEED_OPTIONS}
# The benchmarks' short names for them, joined by '+': ``port-legacy+bf16+fused`` in
# ``quality``, ``--variants bf16+fused`` in ``throughput``.
SHORT_NAMES = {"bf16": {"precision": "mixed_bfloat16"}, "f16": {"precision": "mixed_float16"},
               "jit": {"jit_compile": True}, "fused": {"fused_discriminator": True}}


def speed_options(names=()):
    """Every speed option of a run with the short-named ``names`` on, the others at their defaults."""
    options = dict(DEFAULT_SPEED)
    for name in names:
        if name not in SHORT_NAMES:
            raise ValueError(f"unknown speed option {name!r}: one of {', '.join(sorted(SHORT_NAMES))}")
        options.update(SHORT_NAMES[name])
    return options


# --- timing ---------------------------------------------------------------------------------


class IterationClock(keras.callbacks.Callback):
    """When each training iteration of a ``fit`` ended (``time.perf_counter``)."""

    def __init__(self):
        super().__init__()
        self.ends = []

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append(time.perf_counter())


# --- provenance -----------------------------------------------------------------------------

PACKAGES = ("tensorflow", "keras", "numpy", "scipy", "Pillow", "ai-edge-litert", "onnxruntime", "tf2onnx")
# What provenance() returns; a results file made before it existed has a reconstructed
# record instead: {"commit": ..., "reconstructed": true, "note": ...}.
PROVENANCE_KEYS = ("commit", "dirty", "modified", "argv", "settings", "versions", "machine", "started", "finished")
# CPU features that decide what the speed options can do (bfloat16 and float16 arithmetic).
CPU_FLAGS = ("avx2", "avx512f", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_tile", "f16c")


def moment():
    """Now (UTC) and the load average over 1, 5 and 15 minutes."""
    try:
        load = [round(value, 2) for value in os.getloadavg()]
    except (AttributeError, OSError):
        load = None
    return {"utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "load_average": load}


# When this process started its benchmark, near enough: each benchmark imports this module
# before it builds anything.
STARTED = moment()


def _git(*args):
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def code_version():
    """The commit checked out, and the tracked files that differ from it (None: no git checkout).

    A benchmark that writes into ``docs/`` makes its own output files show up here.
    """
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no")
    modified = None if status is None else [line[3:] for line in status.splitlines() if line.strip()]
    return {"commit": commit.strip() if commit else None,
            "dirty": None if modified is None else bool(modified),
            "modified": modified}


def _cpuinfo():
    try:
        with open("/proc/cpuinfo") as handle:
            return handle.read()
    except OSError:
        return ""


def _memory_gib():
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2 ** 20, 1)
    except (OSError, ValueError, IndexError):
        pass
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30, 1)
    except (AttributeError, ValueError, OSError):
        return None


def _accelerators():
    """The GPUs TensorFlow sees, if this process imported TensorFlow (else None: not looked at)."""
    tf = sys.modules.get("tensorflow")
    if tf is None:
        return None
    found = []
    try:
        for device in tf.config.list_physical_devices("GPU"):
            details = tf.config.experimental.get_device_details(device)
            found.append(details.get("device_name") or device.name)
    except Exception as error:  # noqa: BLE001 -- a record of the machine must not stop a benchmark
        found.append(f"(not known: {error})")
    return found


def machine():
    """The CPU model, its cores (all, and those this process may use), memory, the GPUs."""
    info = _cpuinfo()
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines()
                  if line.split(":")[0].strip() in ("model name", "Model", "cpu model")), None)
    flags = set(next((line.split(":", 1)[1].split() for line in info.splitlines()
                      if line.split(":")[0].strip() in ("flags", "Features")), []))
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {"cpu_model": model or platform.processor() or platform.machine(),
            "cores": os.cpu_count(), "cores_usable": usable,
            "cpu_flags": [flag for flag in CPU_FLAGS if flag in flags],
            "memory_gib": _memory_gib(), "system": platform.platform(),
            "accelerators": _accelerators()}


def versions():
    found = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = None
    return found


def _plain(value):
    """``value`` as JSON has it (tuples as lists, anything else JSON lacks as its ``str``)."""
    return json.loads(json.dumps(value, default=str))


def provenance(settings=None, started=None):
    """The record of what made a result: code, settings, packages, machine and load.

    ``settings``: every setting the result depends on (the parsed arguments, and whatever the
    benchmark fixed itself); the command line itself is recorded as ``argv``. ``started``:
    the :func:`moment` the measured work began (default: when this process imported this
    module); ``finished`` is now. The load average at both ends says how much else ran.
    """
    return {**code_version(), "argv": list(sys.argv), "settings": _plain(settings), "versions": versions(),
            "machine": machine(), "started": started or STARTED, "finished": moment()}


def summary(record):
    """One line of a provenance record, for a benchmark's console output."""
    commit = (record["commit"] or "no git checkout")[:12] + (" (modified files)" if record["dirty"] else "")
    box = record["machine"]
    load = record["finished"]["load_average"]
    return (f"commit {commit}; {box['cpu_model']}, {box['cores_usable']} of {box['cores']} cores, "
            f"{box['memory_gib']} GiB; GPUs: {', '.join(box['accelerators'] or []) or 'none'}; "
            f"TensorFlow {record['versions']['tensorflow']}, Keras {record['versions']['keras']}; "
            f"load average {' '.join(map(str, load)) if load else 'unknown'}")


def report(results, render, path, settings, started):
    """Print ``render(results)``; with ``path``, also write the results file (:func:`write_results`)."""
    print(render(results))
    if path:
        write_results(path, results, settings, started)
        print(f"written to {path}")
    return 0


def print_table(path, render):
    """Print ``render(record)`` for the results file at ``path``, then its provenance in a line."""
    with open(path) as handle:
        record = json.load(handle)
    print(render(record))
    print(f"\n{summary(record['provenance'])}")
    return 0


def size_on_disk(path):
    """Bytes of a file, or of every file under a folder (a SavedModel)."""
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(folder, file)) for folder, _, files in os.walk(path) for file in files)


RUN_ROW_FILE = re.compile(r"^.+-seed\d+\.json$")


def write_json(path, record):
    """``record`` to ``path`` as indented JSON, atomically; the folder is made if need be."""
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    write_json_atomically(path, record)
    return record


def read_run_rows(folder):
    """The rows of a per-run benchmark, each run's ``<setting>-seed<S>.json`` in ``folder``."""
    rows = []
    for file in sorted(os.listdir(folder)):
        if RUN_ROW_FILE.match(file):
            with open(os.path.join(folder, file)) as handle:
                rows.append(json.load(handle))
    return rows


def write_results(path, results, settings, started=None):
    """A benchmark's results file: ``results`` (a dict) with ``"provenance"`` added."""
    return write_json(path, {**results, "provenance": provenance(settings, started)})


def scorer_arguments(argv, module, doc, epochs):
    """The command line of an independent scorer (``benchmarks.independent_*``): .npz files
    of generated images to score, the scorer's own seed and epochs, and where to write."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=doc.split("\n\n")[0])
    parser.add_argument("images", nargs="+", help=".npz files with an 'images' array (generate --out X.npz)")
    parser.add_argument("--seed", type=int, default=123)
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--json", default=None, help="also write the results, with provenance, to this file")
    return parser.parse_args(argv)


def print_and_write(results, args, started):
    """Print a benchmark's results and, with ``--json``, write them with their provenance."""
    print(results)
    if args.json:
        write_results(args.json, results, vars(args), started)
    return 0
