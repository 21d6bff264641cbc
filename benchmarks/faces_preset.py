"""The faces preset against the original's recipe on the same core time: curves, scores
and pictures for the README.

    python -m benchmarks.faces_preset --run "preset, seed 0=runs/face-best-s0" \\
        --run "original, seed 0=runs/face-orig-s0" --load-log runs/load.log --out docs/faces/preset

For each run (a label and its folder): the Frechet distance ``train --eval-every`` logged,
against minutes since the run's first logged event; ``genface evaluate -n 2000`` of its
default output (the best checkpoint, through the averaged generator where the run keeps
one), run once and kept as ``OUT/<run folder name>-evaluate.json``; and how many factors
show fewer classes than the held-out real faces. The run of ``--best`` (default: the
lowest evaluated distance) gives ``OUT/faces-vs-real.png`` (64 of its faces beside 64
held-out real cartoon faces) and ``OUT/interpolation.png`` (slerp rows). Everything, with
each run's settings and, from ``--load-log`` (lines ``TIME LOAD1 LOAD5 LOAD15``), the
load average while it ran, goes to ``OUT/results.json`` with the provenance of
``benchmarks.shared``.
"""

if not __package__:
    raise SystemExit("run it from the repository root as: python -m benchmarks.faces_preset")

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

from PIL import Image, ImageDraw  # noqa: E402

from benchmarks import shared  # noqa: E402
from benchmarks.faces_progress import curve, logged_events  # noqa: E402
from common.images import make_grid  # noqa: E402
from common.run import RunFolder  # noqa: E402
from genface import cartoon, scorer  # noqa: E402
from genface.models import RECIPES  # noqa: E402

SAMPLES = 2000


def genface(*arguments):
    """Run one ``python -m genface`` command as a user would; its output goes to ours."""
    subprocess.run([sys.executable, "-m", "genface", *map(str, arguments)], check=True, cwd=shared.ROOT)


def evaluated(path, out, samples):
    """``genface evaluate -n samples`` of the run's default output, run once and kept."""
    kept = os.path.join(out, f"{os.path.basename(os.path.normpath(path))}-evaluate.json")
    if not os.path.exists(kept):
        genface("evaluate", "--run", path, "-n", samples, "--out", kept)
    with open(kept) as handle:
        return json.load(handle), kept


def load_while(load_log, begin, end):
    """min, median and max of the 1-minute load average logged between two wall times."""
    if not load_log:
        return None
    values = []
    with open(load_log) as handle:
        for line in handle:
            moment, load1, *_ = line.split()
            when = datetime.datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()
            if begin <= when <= end:
                values.append(float(load1))
    return values and {"minimum": min(values), "median": statistics.median(values), "maximum": max(values),
                       "readings": len(values)}


def short_of_real(report):
    """{factor: "shown of real"} for each factor with fewer classes shown than real faces show."""
    real = report["real_held_out"]["coverage"]
    return {factor: f"{numbers['classes_shown']} of {real[factor]['classes_shown']}"
            for factor, numbers in report["generated"]["coverage"].items()
            if numbers["classes_shown"] < real[factor]["classes_shown"]}


def minutes_to_reach(points, targets=(100.0, 40.0)):
    """Where the run's curve would cross each target if it went on falling as it fell in the
    second half of its minutes: a straight line through log distance against log minutes
    (least squares). A rough guide, not a promise: such curves flatten, so it errs short."""
    late = [(m, v) for m, v in points if m >= points[-1][0] / 2 and m > 0]
    if len(late) < 3:
        return None
    xs, ys = [math.log(m) for m, _ in late], [math.log(v) for _, v in late]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    if slope >= 0:
        return {"log_log_slope": round(slope, 3), "note": "not falling"}
    return {"log_log_slope": round(slope, 3), "fitted_from_minute": round(late[0][0], 1),
            **{f"minutes_to_{target:g}": round(math.exp(mx + (math.log(target) - my) / slope))
               for target in targets}}


def run_record(label, path, out, samples, load_log):
    run = RunFolder.open(path, RECIPES)
    events, first, last = logged_events(run.logs_dir)
    distances = events.get("frechet_distance", [])
    report, kept = evaluated(path, out, samples)
    lowest = min(distances, key=lambda point: point[2]) if distances else None
    return {"label": label, "folder": path, "config": run.config.to_dict(),
            "iterations": run.config.steps_done,
            "minutes_logged": round((last - first) / 60, 1),
            "frechet_distance_logged": [{"iteration": step + 1, "minutes": round((wall - first) / 60, 2),
                                         "value": round(value, 1)} for step, wall, value in distances],
            "lowest_logged": lowest and {"iteration": lowest[0] + 1, "minutes": round((lowest[1] - first) / 60, 1),
                                         "value": round(lowest[2], 1)},
            "evaluate": {"file": os.path.basename(kept), "samples": report["generated"]["samples"],
                         "frechet_distance": round(report["generated"]["frechet_distance"], 1),
                         "real_held_out_frechet_distance": round(report["real_held_out"]["frechet_distance"], 1),
                         "factors_short_of_real": short_of_real(report)},
            "extrapolated": minutes_to_reach([((wall - first) / 60, value) for _, wall, value in distances]),
            "load_average_1min": load_while(load_log, first, last)}


def labelled(image, text):
    canvas = Image.new("RGB", (image.width, image.height + 22), "white")
    canvas.paste(image, (0, 22))
    ImageDraw.Draw(canvas).text((4, 5), text, fill="black")
    return canvas


def faces_beside_real(path, out, seed):
    """64 faces of the run beside 64 held-out real cartoon faces (the scorer's held-out set)."""
    with tempfile.TemporaryDirectory() as scratch:
        genface("generate", "--run", path, "-n", 64, "--seed", seed, "--out", os.path.join(scratch, "faces.png"))
        generated = Image.open(os.path.join(scratch, "faces.png")).convert("RGB")
    real, _ = cartoon.draw_labelled_faces(64, scorer.SEED, start=scorer.TRAIN_FACES)
    real = Image.fromarray(make_grid(real, 8, 8))
    left, right = labelled(generated, "generated (genface generate)"), labelled(real, "real held-out cartoon faces")
    canvas = Image.new("RGB", (left.width + 16 + right.width, max(left.height, right.height)), "white")
    canvas.paste(left, (0, 0))
    canvas.paste(right, (left.width + 16, 0))
    target = os.path.join(out, "faces-vs-real.jpg")
    canvas.save(target, quality=92)  # JPEG: a PNG of 128 faces is several MB
    return target


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.faces_preset", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", action="append", required=True, metavar="LABEL=FOLDER")
    parser.add_argument("--out", default="docs/faces/preset")
    parser.add_argument("-n", "--samples", type=int, default=SAMPLES)
    parser.add_argument("--best", default=None, help="the label whose faces are shown (default: lowest distance)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the shown faces' z")
    parser.add_argument("--load-log", default=None)
    args = parser.parse_args(argv)
    started = shared.moment()
    runs = []
    for pair in args.run:
        label, separator, path = pair.partition("=")
        if not separator or not os.path.isdir(path):
            parser.error(f"--run {pair!r}: expected LABEL=FOLDER with an existing run folder")
        runs.append((label, path))
    os.makedirs(args.out, exist_ok=True)
    records = [run_record(label, path, args.out, args.samples, args.load_log) for label, path in runs]
    best = (next(r for r in records if r["label"] == args.best) if args.best
            else min(records, key=lambda r: r["evaluate"]["frechet_distance"]))
    pictures = {"faces_vs_real": faces_beside_real(best["folder"], args.out, args.seed),
                "interpolation": os.path.join(args.out, "interpolation.png")}
    genface("generate", "--run", best["folder"], "--interpolate", 10, "-n", 4, "--seed", args.seed,
            "--out", pictures["interpolation"])
    series = {r["label"]: [(p["minutes"], p["value"]) for p in r["frechet_distance_logged"]]
              for r in records if r["frechet_distance_logged"]}
    pictures["curve"] = curve(series, os.path.join(args.out, "frechet-distance-minutes.png"),
                              "Frechet distance to the cartoon faces (1,000 samples) against minutes",
                              x_label="minutes")
    shared.write_results(os.path.join(args.out, "results.json"),
                         {"runs": records, "shown": best["label"], "pictures": pictures},
                         {"arguments": vars(args)}, started)
    print("| run | iterations | minutes | lowest logged FD (minute) | evaluate FD, 2,000 samples | "
          "factors short of real | minutes to FD 100, extrapolated |\n|---|---:|---:|---|---:|---|---:|")
    for r in records:
        lowest = r["lowest_logged"]
        print(f"| {r['label']} | {r['iterations']} | {r['minutes_logged']} | "
              f"{lowest['value'] if lowest else '-'} ({lowest['minutes'] if lowest else '-'}) | "
              f"{r['evaluate']['frechet_distance']} | "
              f"{', '.join(f'{k} {v}' for k, v in r['evaluate']['factors_short_of_real'].items()) or 'none'} | "
              f"{(r['extrapolated'] or {}).get('minutes_to_100', '-')} |")


if __name__ == "__main__":
    main()
