"""What each export format costs in quality and size, measured with ``evaluate``.

For each trained run given, writes the generator in every format ``export`` offers for
serving (SavedModel; LiteRT float32, float16 and dynamic-range int8; ONNX), each with its
write-time check (the largest difference from the generator's own images on 64 fixed z),
and scores each with the program's ``evaluate`` (2,000 samples, z seed 0): the classifier
score and Frechet distance for digits, the face Frechet distance for faces. The run itself
is scored too (``evaluate --run``: in legacy fidelity the vanilla GAN normalises by batch
statistics there, where every export uses re-estimated population statistics). Run from
the repository root::

    python -m benchmarks.export_quality --run gan=runs/gan --run wgan=runs/wgan \\
        --run face=runs/face --out docs/export/quality.json

The results file carries its provenance (``benchmarks.shared``); ``--table FILE`` prints
the Markdown table of docs/export.md from such a file alone.
"""

if not __package__:
    raise SystemExit("run it from the repository root as: python -m benchmarks.export_quality")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

from benchmarks import shared  # noqa: E402
from common import export  # noqa: E402
from common.run import RunFolder  # noqa: E402
from genface import cli as genface_cli  # noqa: E402
from genface import models as face_models  # noqa: E402
from genmnist import cli as genmnist_cli  # noqa: E402
from genmnist import models as mnist_models  # noqa: E402

# model name: (its program's command line, its models module)
PROGRAMS = {"gan": (genmnist_cli, mnist_models), "wgan": (genmnist_cli, mnist_models),
            "face": (genface_cli, face_models)}
VARIANTS = [("saved_model", "none"), ("tflite", "none"), ("tflite", "float16"), ("tflite", "dynamic"),
            ("onnx", "none")]
SCORES = ("classifier_score", "frechet_distance")


def program(name):
    return PROGRAMS[name]


def evaluate(name, source_args, samples):
    """``evaluate``'s generated-image numbers for one source, run through the program's command line."""
    cli, _ = program(name)
    with tempfile.TemporaryDirectory() as work:
        out = os.path.join(work, "report.json")
        with contextlib.redirect_stdout(io.StringIO()):
            assert cli.main(["evaluate", *source_args, "-n", str(samples), "--out", out]) == 0
        with open(out) as handle:
            generated = json.load(handle)["generated"]
    return {key: generated[key] for key in SCORES if key in generated}


def measure_run(name, run_dir, work, samples):
    _, models = program(name)
    model = RunFolder.open(run_dir, models.RECIPES).load_model(models.RECIPES)
    rows = [{"model": name, "format": "run", "quantize": None, "step": int(model.step_counter.numpy()),
             **evaluate(name, ["--run", run_dir], samples)}]
    for file_format, quantize in VARIANTS:
        target = os.path.join(work, f"{name}-{file_format}-{quantize}")
        row = {"model": name, "format": file_format, "quantize": quantize}
        if file_format == "saved_model":
            path, _, _ = export.export_saved_model(model, target, version=None)
            row.update(bytes=shared.size_on_disk(path), **evaluate(name, ["--saved-model", path], samples))
        else:
            path = target + export.FILE_FORMATS[file_format]
            largest, levels, _ = export.export_file(model, path, file_format, quantize)
            row.update(bytes=shared.size_on_disk(path), largest_difference=largest, uint8_levels=levels,
                       **evaluate(name, ["--exported", path], samples))
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def table(rows):
    """The Markdown table of docs/export.md."""
    lines = ["| model | format | size (MiB) | largest difference (uint8 levels) | classifier score | "
             "Frechet distance |", "|---|---|---:|---:|---:|---:|"]
    for row in rows:
        what = row["format"] if row["format"] != "tflite" else f"tflite {row['quantize']}"
        if row["format"] == "run":
            what = f"the run itself (iteration {row['step']})"
        size = f"{row['bytes'] / 2 ** 20:.1f}" if "bytes" in row else ""
        difference = (f"{row['largest_difference']:.2g} ({row['uint8_levels']})"
                      if "largest_difference" in row else "")
        score = f"{row['classifier_score']:.3f}" if "classifier_score" in row else "-"
        lines.append(f"| {row['model']} | {what} | {size} | {difference} | {score} | "
                     f"{row['frechet_distance']:.2f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", action="append", default=[], metavar="NAME=RUN_DIR",
                        help="a trained run of gan, wgan or face (repeat for each)")
    parser.add_argument("-n", type=int, default=2000, help="samples each evaluate scores (default 2000)")
    parser.add_argument("--out", default=None, help="the results file to write (JSON, with provenance)")
    parser.add_argument("--table", default=None, metavar="FILE", help="only print the table of a results file")
    args = parser.parse_args(argv)
    if args.table:
        return shared.print_table(args.table, lambda record: table(record["rows"]))
    started = shared.moment()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for item in args.run:
            name, _, run_dir = item.partition("=")
            if name not in PROGRAMS or not run_dir:
                parser.error(f"--run {item}: expected NAME=RUN_DIR, NAME one of {sorted(PROGRAMS)}")
            rows.extend(measure_run(name, run_dir, work, args.n))
    return shared.report({"rows": rows}, lambda results: table(results["rows"]), args.out, vars(args), started)


if __name__ == "__main__":
    sys.exit(main())
