"""Does the port learn what the original learned? Full-length runs, scored side by side.

Trains, with the original's settings (10,000 iterations, batch 128, learning rate 0.0005,
Adam beta1 0.9, the 30-step warm-up), for each seed:

* the port in legacy fidelity,
* the port in fixed fidelity,
* the legacy TF1 graph (``common.legacy_tf1``: the original's graph, its ``_next_batch``
  and its NumPy z draws, run through ``tf.compat.v1`` sessions),

and the MNIST WGAN-GP for as many iterations as fit in ``--wgan-minutes``. Every run is
scored with ``evaluate`` (2,000 samples; classifier score, Frechet distance in the MNIST
classifier's features, largest class fraction) and its last 8x8 grid is kept. The output
folder gets ``results.json``, ``results.md`` (the README's table) and the grids.

    python benchmarks/quality.py --seeds 0 1 --out docs/quality        # hours on 2 cores
    python benchmarks/quality.py --steps 200 --seeds 0 --wgan-minutes 1 --out /tmp/q   # a smoke run

All runs use the embedded 10,000-digit sample. The spread between seeds of one setting is
the yardstick: the port in legacy fidelity should land inside the legacy graph's spread.
"""

import argparse
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from common import data  # noqa: E402
from common.evaluation import generate_images  # noqa: E402
from common.images import save_grid  # noqa: E402
from common.run import RunFolder  # noqa: E402
from common.training import sample_latents, train  # noqa: E402
from genmnist.cli import EMBEDDED  # noqa: E402
from genmnist.classifier import MnistScorer  # noqa: E402
from genmnist.models import RECIPES  # noqa: E402


class TimeLimit(keras.callbacks.Callback):
    """Stop ``fit`` after ``seconds`` of training (the run is then saved as usual)."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds

    def on_train_begin(self, logs=None):
        self.start = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if time.time() - self.start > self.seconds:
            self.model.stop_training = True


def port_run(out, model, fidelity, seed, steps, images, batch_size, learning_rate, seconds=None):
    config = {"model": model, "fidelity": fidelity, "z_dim": 100, "image_shape": [28, 28, 1],
              "seed": seed, "batch_size": batch_size, "learning_rate": learning_rate, "data": None,
              "steps": steps}
    shutil.rmtree(out, ignore_errors=True)
    run = RunFolder.create(out, config)
    callbacks = [TimeLimit(seconds)] if seconds else []
    start = time.time()
    trained = train(run, RECIPES, images, steps, checkpoint_every=0, verbose=0, callbacks=callbacks,
                    print_fn=lambda *a: None)
    return trained, time.time() - start, max(trained.iteration, 0)


def legacy_graph_run(out, seed, steps, images):
    """The original's training loop on its TF1 graph, then imported as a run folder."""
    from common.legacy_tf1.graphs import write_random_checkpoint

    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    # gantrain() shuffled the data set once at load, then let _next_batch walk through it.
    shuffled = images[np.random.default_rng(seed).permutation(len(images))]
    start = time.time()
    prefix = write_random_checkpoint("gan", os.path.join(out, "tf1", "gan"), seed, data=shuffled,
                                     iterations=steps, pretrain_steps=RECIPES["gan"].pretrain_steps,
                                     batch_size=128, learning_rate=0.0005, beta1=0.9)
    seconds = time.time() - start
    from genmnist.cli import main

    status = main(["import-tf1", prefix, "--model", "gan", "--out", os.path.join(out, "run")])
    if status:
        raise SystemExit(f"import-tf1 failed with status {status}")
    model = RunFolder.open(os.path.join(out, "run"), RECIPES).load_model(RECIPES)
    return model, seconds, steps


def score(scorer, model, batch_size, name, out_dir):
    images = generate_images(model, 2000, seed=12345, batch_size=batch_size)
    result = scorer.score(images)
    grid = os.path.join(out_dir, f"{name}.png")
    save_grid(np.asarray(model.generate(sample_latents(64, model.recipe.z_dim, 0))), grid, rows=8, cols=8)
    return result, grid


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--wgan-minutes", type=float, default=30.0)
    parser.add_argument("--settings", nargs="+", default=["port-legacy", "port-fixed", "tf1-legacy-graph", "wgan"])
    parser.add_argument("--out", default="docs/quality")
    parser.add_argument("--work", default="runs/quality", help="where the run folders go")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    images = data.read_images(EMBEDDED, (28, 28, 1))
    scorer = MnistScorer()
    rows = [dict(setting="real held-out digits", seed="-", iterations="-", seconds=0.0, **scorer.ceiling())]
    for setting in args.settings:
        for seed in args.seeds:
            name = f"{setting}-seed{seed}"
            work = os.path.join(args.work, name)
            print(f"[quality] {name} ...", flush=True)
            if setting == "port-legacy":
                model, seconds, done = port_run(work, "gan", "legacy", seed, args.steps, images, 128, 0.0005)
            elif setting == "port-fixed":
                model, seconds, done = port_run(work, "gan", "fixed", seed, args.steps, images, 128, 0.0005)
            elif setting == "tf1-legacy-graph":
                model, seconds, done = legacy_graph_run(work, seed, args.steps, images)
            elif setting == "wgan":
                model, seconds, done = port_run(work, "wgan", "legacy", seed, 10 ** 9, images, 64, 1e-4,
                                                seconds=args.wgan_minutes * 60)
            else:
                raise SystemExit(f"unknown setting {setting}")
            batch = 64 if setting == "wgan" else 128
            result, grid = score(scorer, model, batch, name, args.out)
            rows.append(dict(setting=setting, seed=seed, iterations=done, seconds=round(seconds, 1),
                             grid=os.path.relpath(grid, args.out), **result))
            print(f"[quality] {name}: {json.dumps(rows[-1])}", flush=True)
            with open(os.path.join(args.out, "results.json"), "w") as handle:
                json.dump(rows, handle, indent=2)
    lines = ["| setting | seed | iterations | wall time | classifier score | Frechet distance | largest class |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        wall = f"{row['seconds'] / 60:.1f} min" if row["seconds"] else "-"
        lines.append(f"| {row['setting']} | {row['seed']} | {row['iterations']} | {wall} | "
                     f"{row['classifier_score']:.2f} | {row['frechet_distance']:.2f} | "
                     f"{max(row['class_fractions']):.3f} |")
    table = "\n".join(lines)
    with open(os.path.join(args.out, "results.md"), "w") as handle:
        handle.write(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
