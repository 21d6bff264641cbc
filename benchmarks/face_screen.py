"""Rerun the screen that chose ``genface train --preset best`` (docs/faces.md, "How it was
chosen"): each candidate recipe through ``benchmarks.preset_screen --program genface``,
as many at a time as there are cores given, each pinned to one of them::

    python -m benchmarks.face_screen --cores 0 1 --minutes 24 --out docs/faces/screen
    python -m benchmarks.face_screen --only wgan2-lr2e-4 --cores 1 --minutes 60

Every candidate keeps the original's networks and trains in fixed fidelity at batch 16 with
bfloat16 layers and the fused critic (the fastest options on a CPU with AVX-512 BF16). Each
writes OUT/NAME.json (its Frechet distance every ``--every`` iterations, raw and averaged
generator, with provenance) and OUT/NAME.log.
"""

import argparse
import os
import subprocess
import sys

COMMON = ["--program", "genface", "--batch-size", "16", "--precision", "mixed_bfloat16", "--fused-discriminator"]
CANDIDATES = {
    # 1 critic step per generator step, the hinge loss and R1 (the digits' preset)
    "hinge-lr2e-4": ["--loss", "hinge", "--discriminator-steps", "1", "--penalty-weight", "0", "--r1-weight", "1",
                     "--learning-rate", "2e-4"],
    "hinge-lr5e-4": ["--loss", "hinge", "--discriminator-steps", "1", "--penalty-weight", "0", "--r1-weight", "1",
                     "--learning-rate", "5e-4"],
    "hinge-r0.1-b99": ["--loss", "hinge", "--discriminator-steps", "1", "--penalty-weight", "0", "--r1-weight",
                       "0.1", "--learning-rate", "2e-4", "--beta2", "0.99"],
    "nonsat-r0.1-b99": ["--loss", "minimax", "--discriminator-steps", "1", "--penalty-weight", "0", "--r1-weight",
                        "0.1", "--learning-rate", "2e-4", "--beta2", "0.99"],
    "hinge2-r0.1": ["--loss", "hinge", "--discriminator-steps", "2", "--penalty-weight", "0", "--r1-weight", "0.1",
                    "--learning-rate", "2e-4", "--beta2", "0.9"],
    # the Wasserstein loss and gradient penalty of the original, fewer critic steps or faster Adam
    "wgan5-lr1e-4": ["--loss", "wasserstein", "--discriminator-steps", "5", "--penalty-weight", "10",
                     "--learning-rate", "1e-4", "--beta2", "0.9"],
    "wgan2-lr2e-4": ["--loss", "wasserstein", "--discriminator-steps", "2", "--penalty-weight", "10",
                     "--learning-rate", "2e-4", "--beta2", "0.9"],
    "wgan5-lr3e-4-b0": ["--loss", "wasserstein", "--discriminator-steps", "5", "--penalty-weight", "10",
                        "--learning-rate", "3e-4", "--beta1", "0.0", "--beta2", "0.9"],
}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.face_screen", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=sorted(CANDIDATES), default=sorted(CANDIDATES))
    parser.add_argument("--cores", nargs="+", type=int, default=[0, 1], help="run one candidate on each (taskset)")
    parser.add_argument("--minutes", type=float, default=24.0, help="each candidate's wall-time budget")
    parser.add_argument("--every", type=int, default=50, help="evaluate every N iterations (default 50)")
    parser.add_argument("--out", default="docs/faces/screen")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    waiting, running = list(args.only), {}
    while waiting or running:
        for core in args.cores:
            if core not in running and waiting:
                name = waiting.pop(0)
                command = ["taskset", "-c", str(core), sys.executable, "-m", "benchmarks.preset_screen", *COMMON,
                           *CANDIDATES[name], "--name", name, "--minutes", str(args.minutes), "--every",
                           str(args.every), "--json", os.path.join(args.out, f"{name}.json")]
                print(f"core {core}: {name}", flush=True)
                with open(os.path.join(args.out, f"{name}.log"), "w") as log:
                    running[core] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        core = next(iter(running))
        status = running.pop(core).wait()
        if status:
            print(f"core {core}: a candidate failed with status {status}; see its log", flush=True)
    return 0


if __name__ == "__main__":
    if __package__ in (None, ""):
        sys.exit(f"run it from the repository root as: python -m benchmarks.{os.path.basename(__file__)[:-3]}")
    sys.exit(main())
