"""Does legacy fidelity end its runs as the original's code ends them? (GitHub issue 18)

The vanilla GAN at the original's settings (batch 128, learning rate 0.0005, Adam beta1
0.9, the 30-step warm-up, the embedded sample) for 2,000 iterations, several seeds a side:

* ``tf1-legacy-graph``: the original's graph and loop (``common.legacy_tf1``);
* ``port-legacy``: the port in legacy fidelity (its losses as written, Q8, and its replayed
  batch order, Q6), and the same with ``+stable-losses`` and/or ``+reshuffle``.

Each run is sampled as the original's ``prediction`` sampled (batch statistics, 100 z a
call), 5,000 digits, and scored by ``evaluate``'s classifier (score, Frechet distance) and
by an MLP that shares no network with it (``benchmarks.independent_score``). A run whose
losses go inf/NaN is "dead" and counts as the worst outcome. Per setting the report gives
the spread, and a two-sided Mann-Whitney U test against the original's graph (ranks, so a
dead run needs no number)::

    python -m benchmarks.legacy_outcomes --seeds 1 2 3 4 5 6 --out docs/legacy-outcomes
    taskset -c 0 python -m benchmarks.legacy_outcomes --settings port-legacy --seeds 1 2 3
    python -m benchmarks.legacy_outcomes --report-only --out docs/legacy-outcomes

Runs already scored in ``--out`` are skipped, so the hours of work split over sessions.
"""

if not __package__:
    raise SystemExit("run it from the repository root as: python -m benchmarks.legacy_outcomes")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks import independent_score, quality, shared  # noqa: E402
from common import data  # noqa: E402
from common.evaluation import generate_images  # noqa: E402
from common.training import TrainingDiverged  # noqa: E402
from genmnist import EMBEDDED  # noqa: E402
from genmnist.classifier import MnistScorer  # noqa: E402

QUIRK_OPTIONS = ("stable-losses", "reshuffle")
REFERENCE = "tf1-legacy-graph"
SCORING = {"samples": 5000, "z_seed": 12345, "batch_size": 100, "independent_classifier_seed": 0,
           "independent_classifier_epochs": 20}
METRICS = {  # name: (worse end, the value a dead run stands for)
    "classifier_score": ("low", 1.0),
    "frechet_distance": ("high", math.inf),
    "independent_score": ("low", 1.0),
}


def setting_name(text):
    base, *options = text.split("+")
    if text != REFERENCE and (base != "port-legacy" or not set(options) <= set(QUIRK_OPTIONS)):
        raise argparse.ArgumentTypeError(f"unknown setting {text!r}: {REFERENCE}, or port-legacy optionally "
                                         f"with +{' +'.join(QUIRK_OPTIONS)}")
    return text


def train_one(setting, seed, steps, images, work):
    """(model or None, timing, outcome) of one run, trained or picked up from ``work``."""
    if setting == REFERENCE:
        model, timing, _, outcome = quality.legacy_graph_run(work, seed, steps, images)
        return (None if outcome.get("diverged_at") is not None else model), timing, outcome
    options = setting.split("+")[1:]
    quirks = {"stable_losses": "stable-losses" in options, "reshuffle": "reshuffle" in options}
    try:
        model, timing, _ = quality.port_run(work, "gan", "legacy", seed, steps, images, 128, 0.0005, quirks=quirks)
    except TrainingDiverged as stop:
        return None, quality._timed(work), {"diverged_at": stop.iteration}
    return model, timing, {}


def score_one(model, scorer, independent):
    images = generate_images(model, SCORING["samples"], SCORING["z_seed"], SCORING["batch_size"])
    result = scorer.score(images)
    return {"classifier_score": result["classifier_score"], "frechet_distance": result["frechet_distance"],
            "class_fractions": result["class_fractions"],
            "independent_score": independent_score.score(independent, images)["classifier_score"]}


def run_one(setting, seed, args, images, scorers):
    name = f"{setting}-seed{seed}"
    print(f"[outcomes] {name} ...", flush=True)
    started = shared.moment()
    model, timing, outcome = train_one(setting, seed, args.steps, images, os.path.join(args.work, name))
    scores = score_one(model, *scorers) if model is not None else {key: None for key in METRICS}
    row = {"setting": setting, "seed": seed, "iterations": args.steps, "seconds": timing.get("seconds"),
           "diverged_at": outcome.get("diverged_at"), **scores}
    settings = {"arguments": vars(args), "scoring": SCORING,
                "training": {"model": "gan", "fidelity": "legacy", "batch_size": 128, "learning_rate": 0.0005,
                             "beta1": 0.9, "warm_up_steps": 30, "data": "the embedded 10,000-digit sample"}}
    row = shared.write_results(os.path.join(args.out, f"{name}.json"), row, settings, started)
    print(f"[outcomes] {name}: {json.dumps({k: v for k, v in row.items() if k != 'provenance'})}", flush=True)
    return row


def read_rows(out_dir):
    rows = shared.read_run_rows(out_dir)
    return sorted(rows, key=lambda r: (r["setting"] != REFERENCE, r["setting"], r["seed"]))


def outcome_values(rows, metric):
    """Each run's value of ``metric``; a dead run stands for the worst value there is."""
    return [row[metric] if row.get("diverged_at") is None else METRICS[metric][1] for row in rows]


def mann_whitney(a, b):
    """Two-sided Mann-Whitney U p-value of two samples (ties and infinities by rank)."""
    from scipy.stats import mannwhitneyu

    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)


def summary_lines(rows):
    """Per setting: runs, dead runs, median and range of each metric, p against the reference."""
    by_setting = {}
    for row in rows:
        by_setting.setdefault(row["setting"], []).append(row)
    lines = ["| setting | runs | dead | metric | median | range of the survivors | "
             "Mann-Whitney p vs the original's graph |",
             "|---|---:|---:|---|---:|---|---:|"]
    for setting, group in by_setting.items():
        dead = sum(row.get("diverged_at") is not None for row in group)
        for metric in METRICS:
            values = outcome_values(group, metric)
            survived = sorted(row[metric] for row in group if row.get("diverged_at") is None)
            median = float(np.median(values)) if values else math.nan
            spread = f"{survived[0]:.2f} to {survived[-1]:.2f}" if survived else "-"
            p = "-"
            if setting != REFERENCE and REFERENCE in by_setting:
                p = f"{mann_whitney(values, outcome_values(by_setting[REFERENCE], metric)):.3f}"
            lines.append(f"| {setting} | {len(group)} | {dead} | {metric} | {median:.2f} | {spread} | {p} |")
    return lines


def run_lines(rows):
    lines = ["| setting | seed | classifier score | Frechet distance | independent score | ended |",
             "|---|---:|---:|---:|---:|---|"]
    for row in rows:
        if row.get("diverged_at") is not None:
            lines.append(f"| {row['setting']} | {row['seed']} | - | - | - | dead: inf/NaN at iteration "
                         f"{row['diverged_at']} |")
        else:
            lines.append(f"| {row['setting']} | {row['seed']} | {row['classifier_score']:.2f} | "
                         f"{row['frechet_distance']:.1f} | {row['independent_score']:.2f} | "
                         f"{row['iterations']} iterations |")
    return lines


def report_text(out_dir):
    """``results.md`` as the run files in ``out_dir`` make it."""
    rows = read_rows(out_dir)
    commits = sorted({row["provenance"]["commit"][:7] for row in rows if row.get("provenance")})
    return "\n".join(["Per run:", "", *run_lines(rows), "", "Per setting (in the median and the test a dead run counts as the worst value):",
                      "", *summary_lines(rows), "", f"Commits: {', '.join(commits)}."]) + "\n"


def report(out_dir):
    text = report_text(out_dir)
    with open(os.path.join(out_dir, "results.md"), "w") as handle:
        handle.write(text)
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.legacy_outcomes", description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6])
    parser.add_argument("--settings", nargs="+", type=setting_name, default=[REFERENCE, "port-legacy"])
    parser.add_argument("--out", default="docs/legacy-outcomes")
    parser.add_argument("--work", default="runs/legacy-outcomes", help="where the run folders go")
    parser.add_argument("--report-only", action="store_true", help="only rebuild the tables from --out")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    if not args.report_only:
        images = data.read_images(EMBEDDED, (28, 28, 1))
        scorers = None
        for seed in args.seeds:  # seed by seed, so an interrupted batch leaves both sides even
            for setting in args.settings:
                if os.path.exists(os.path.join(args.out, f"{setting}-seed{seed}.json")):
                    print(f"[outcomes] {setting}-seed{seed}: scored already", flush=True)
                    continue
                if scorers is None:
                    independent, accuracy, _ = independent_score.train_classifier(
                        SCORING["independent_classifier_seed"], SCORING["independent_classifier_epochs"])
                    print(f"[outcomes] independent MLP: held-out accuracy {accuracy:.3f}", flush=True)
                    scorers = (MnistScorer(), independent)
                run_one(setting, seed, args, images, scorers)
    print(report(args.out))


if __name__ == "__main__":
    main()
