"""A faces run seen learning: the same eight faces at chosen iterations, and the Frechet
distance curve that ``train --eval-every`` logged, as pictures for the README.

    python -m benchmarks.faces_progress --run runs/faces --out docs/faces

Writes ``OUT/progress.jpg`` (one row per iteration: the first row of that iteration's
sample grid, all drawn from the run's fixed sample z), ``OUT/frechet-distance.png`` and
``OUT/progress.json`` (every logged evaluation, the run's settings and wall time, with the
provenance of ``benchmarks.shared``). The curve starts with the untrained generator of the
run's seed, scored as ``--eval-every`` scores (1,000 samples).
"""

if not __package__:
    raise SystemExit("run it from the repository root as: python -m benchmarks.faces_progress")

import argparse  # noqa: E402
import glob  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from benchmarks import shared  # noqa: E402
from common.callbacks import display_iterations  # noqa: E402
from common.evaluation import MONITOR_SAMPLES, generate_images  # noqa: E402
from common.run import RunFolder  # noqa: E402
from genface.models import RECIPES  # noqa: E402
from genface.scorer import FaceScorer  # noqa: E402

FACE = 96
LABEL_WIDTH = 110


def logged_events(logs_dir, prefix="eval/"):
    """{tag: [(iteration, wall time, value)]} of every scalar under ``prefix`` in the run's
    event files, and the earliest and latest wall times of any event (near the run's start
    and end)."""
    from tensorflow.core.util import event_pb2

    found, first, last = {}, None, None
    for path in sorted(glob.glob(os.path.join(logs_dir, "**", "events.out.tfevents.*"), recursive=True)):
        for record in tf.data.TFRecordDataset(path):
            event = event_pb2.Event.FromString(record.numpy())
            first = event.wall_time if first is None else min(first, event.wall_time)
            last = event.wall_time if last is None else max(last, event.wall_time)
            for value in event.summary.value:
                if value.tag.startswith(prefix):
                    number = tf.make_ndarray(value.tensor) if value.HasField("tensor") else value.simple_value
                    found.setdefault(value.tag[len(prefix):], []).append(
                        (int(event.step), float(event.wall_time), float(number)))
    return {tag: sorted(points) for tag, points in found.items()}, first, last


def logged_scalars(logs_dir, prefix="eval/"):
    """{tag: {iteration: value}} of every scalar under ``prefix`` in the run's event files."""
    return {tag: {step: value for step, _, value in points}
            for tag, points in logged_events(logs_dir, prefix)[0].items()}


def untrained_distance(run, scorer):
    """The Frechet distance of the run's generator before its first step (same seed, same z)."""
    keras.utils.set_random_seed(run.config.seed)
    model = run.build_model(RECIPES)
    images = generate_images(model, MONITOR_SAMPLES, run.config.seed, run.config.batch_size)
    return float(scorer.score(images)["frechet_distance"])


def progress_rows(samples_dir, prefix, iterations, path):
    """The first row of each iteration's grid, one under another, labelled on the left."""
    rows = []
    for i in iterations:
        grid = Image.open(os.path.join(samples_dir, f"{prefix}_{i}_epoch.png")).convert("RGB")
        rows.append((i, grid.crop((0, 0, grid.width, FACE))))
    canvas = Image.new("RGB", (LABEL_WIDTH + rows[0][1].width, FACE * len(rows)), "white")
    draw = ImageDraw.Draw(canvas)
    for k, (i, row) in enumerate(rows):
        canvas.paste(row, (LABEL_WIDTH, k * FACE))
        draw.text((8, k * FACE + FACE // 2 - 6), f"iteration {i}", fill="black")
    canvas.save(path, quality=90)  # JPEG: a PNG of noisy faces is ten times the size
    return path


COLOURS = ((200, 40, 40), (40, 90, 200), (30, 150, 60), (120, 120, 120), (200, 130, 20), (140, 60, 170))


def curve(points, path, title, width=760, height=360, x_label=""):
    """A line chart on a log value axis (PIL only): ``points`` [(x, value)], or a dict of
    such lists by label, each drawn in its own colour with the label in a legend."""
    series = points if isinstance(points, dict) else {"": points}
    left, right, top, bottom = 70, 20, 30, 40
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    every = [p for points in series.values() for p in points]
    logs = [math.log10(p[1]) for p in every]
    x_max = math.ceil(max(p[0] for p in every)) or 1
    low, high = math.floor(min(logs)), math.ceil(max(logs))
    high = high if high > low else low + 1

    def at(x, log_value):
        return (left + (width - left - right) * x / x_max,
                top + (height - top - bottom) * (high - log_value) / (high - low))

    draw.rectangle((left, top, width - right, height - bottom), outline="black")
    for decade in range(low, high + 1):
        for factor in (1, 2, 5):
            log_value = decade + math.log10(factor)
            if log_value > high:
                break
            y = at(0, log_value)[1]
            draw.line((left - 4, y, width - right, y), fill=(220, 220, 220))
            draw.text((8, y - 6), f"{factor * 10 ** decade:g}", fill="black")
    step = 10 ** max(0, math.floor(math.log10(x_max)))
    step = step // 2 if x_max / step < 4 else step
    for x in range(0, x_max + 1, max(step, 1)):
        px = at(x, low)[0]
        draw.line((px, height - bottom, px, height - bottom + 4), fill="black")
        draw.text((px - 10, height - bottom + 8), str(x), fill="black")
    if x_label:
        draw.text((width - right - 8 * len(x_label), height - 14), x_label, fill="black")
    for k, (label, points) in enumerate(series.items()):
        colour = COLOURS[k % len(COLOURS)]
        xy = [at(x, math.log10(v)) for x, v in points]
        if len(xy) > 1:
            draw.line(xy, fill=colour, width=2)
        for cx, cy in xy:
            draw.ellipse((cx - 2, cy - 2, cx + 2, cy + 2), fill=colour)
        if label:
            draw.line((width - right - 170, top + 12 + 14 * k, width - right - 150, top + 12 + 14 * k),
                      fill=colour, width=2)
            draw.text((width - right - 145, top + 6 + 14 * k), label, fill="black")
    draw.text((left, 8), title, fill="black")
    canvas.save(path)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.faces_progress", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True)
    parser.add_argument("--out", default="docs/faces")
    parser.add_argument("--rows", type=int, nargs="+", default=None,
                        help="iterations to show (default: 0, 100, 200, 500 and every display iteration "
                             "from 1000, and the last grid)")
    args = parser.parse_args(argv)
    started = shared.moment()
    run = RunFolder.open(args.run, RECIPES)
    recipe = RECIPES[run.config.model]
    os.makedirs(args.out, exist_ok=True)
    drawn = sorted(int(name.split("_")[1]) for name in os.listdir(run.samples_dir)
                   if name.startswith(recipe.sample_prefix + "_"))
    wanted = args.rows or [i for i in display_iterations(run.config.steps) if i in (0, 100, 200, 500) or i >= 1000]
    rows = [i for i in wanted if i in drawn]
    if drawn and drawn[-1] not in rows:
        rows.append(drawn[-1])
    progress_rows(run.samples_dir, recipe.sample_prefix, rows, os.path.join(args.out, "progress.jpg"))
    scalars = logged_scalars(run.logs_dir)
    distances = sorted((step + 1, value) for step, value in scalars.get("frechet_distance", {}).items())
    start = untrained_distance(run, FaceScorer(print_fn=lambda *a: None))
    points = [(0, start)] + distances
    curve(points, os.path.join(args.out, "frechet-distance.png"),
          f"Frechet distance to the cartoon faces (1,000 samples), iterations 0 to {points[-1][0]}")
    first, last = (os.path.getmtime(os.path.join(run.samples_dir, f"{recipe.sample_prefix}_{i}_epoch.png"))
                   for i in (drawn[0], drawn[-1]))
    record = {"run": run.config.to_dict(), "rows": rows, "frechet_distance": points,
              "wall_seconds_first_to_last_grid": round(last - first),
              "coverage": {tag: sorted(values.items())[-1] for tag, values in scalars.items()
                           if tag.startswith("coverage/")}}
    shared.write_results(os.path.join(args.out, "progress.json"), record,
                         {"arguments": vars(args), "samples": MONITOR_SAMPLES}, started)
    print(f"iterations done {run.config.steps_done}; Frechet distance {points[0][1]:.0f} at iteration 0, "
          f"{points[-1][1]:.1f} at {points[-1][0]} (lowest {min(v for _, v in points):.1f})")


if __name__ == "__main__":
    main()
