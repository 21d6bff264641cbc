"""The quality benchmark's bookkeeping: divergence found in the loss log, and how a run that
diverged counts in the run-to-run spread the port is judged against; the results files, with
their provenance, and the table rebuilt from them alone."""

import json
import os
import re

import numpy as np
import pytest

from benchmarks import quality, shared


def row(setting, seed, score, distance, largest, **extra):
    others = (1.0 - largest) / 9
    return dict(setting=setting, seed=seed, iterations=10000, classifier_score=score, frechet_distance=distance,
                class_fractions=[largest] + [others] * 9, **extra)


def diverged(setting, seed, at):
    return dict(setting=setting, seed=seed, iterations=at, diverged_at=at, scored_at=None,
                classifier_score=None, frechet_distance=None, class_fractions=None)


def test_first_non_finite_loss_is_found_in_the_log(tmp_path):
    log = tmp_path / "losses.csv"
    log.write_text("iteration,d_loss,g_loss\n0,1.2,0.7\n1,0.3,2\n2,inf,nan\n3,nan,nan\n")
    assert quality._first_non_finite(str(log)) == 2
    log.write_text("iteration,d_loss,g_loss\n0,1.2,0.7\n1,0.3,2\n")
    assert quality._first_non_finite(str(log)) is None
    assert quality._first_non_finite(str(tmp_path / "missing.csv")) is None
    log.write_text("")  # killed before the header was flushed
    assert quality._first_non_finite(str(log)) is None
    log.write_text("iteration,d_loss,g_loss\n0,1.2,0.7\n1,0.3,1e")  # killed mid-line
    assert quality._first_non_finite(str(log)) is None


def test_port_inside_the_legacy_graphs_range_is_said_so():
    lines = quality.spread([row("port-legacy", 0, 3.0, 200, 0.4), row("port-legacy", 1, 3.5, 190, 0.45),
                            row("tf1-legacy-graph", 0, 2.5, 250, 0.3), row("tf1-legacy-graph", 1, 4.0, 150, 0.5)])
    port = [line for line in lines if line.startswith("port-legacy")]
    assert len(port) == 3 and all("; inside tf1-legacy-graph's" in line for line in port)


def test_ranges_that_only_overlap_or_miss_are_told_apart():
    lines = quality.spread([row("port-legacy", 0, 3.0, 200, 0.4), row("port-legacy", 1, 5.0, 100, 0.45),
                            row("tf1-legacy-graph", 0, 2.5, 250, 0.6), row("tf1-legacy-graph", 1, 4.0, 150, 0.7)])
    by_metric = {line.split(": ")[1].split()[0]: line for line in lines if line.startswith("port-legacy")}
    assert "overlapping, not inside" in by_metric["classifier_score"]
    assert "overlapping, not inside" in by_metric["frechet_distance"]
    assert "disjoint from" in by_metric["largest_class"]


def test_a_diverged_legacy_run_counts_as_the_worst_end_of_its_range():
    lines = quality.spread([row("port-legacy", 0, 2.0, 300, 0.4), row("port-legacy", 1, 3.0, 200, 0.45),
                            row("tf1-legacy-graph", 0, 3.5, 190, 0.5), diverged("tf1-legacy-graph", 1, 8344)])
    by_metric = {line.split(": ")[1].split()[0]: line for line in lines if line.startswith("port-legacy")}
    # A NaN generator is worse than any score: the port's lower scores fall inside.
    assert "inside tf1-legacy-graph's [1.000, 3.500]" in by_metric["classifier_score"]
    assert "inside tf1-legacy-graph's [190.000, inf]" in by_metric["frechet_distance"]
    assert "tf1-legacy-graph (2 seeds, 1 diverged to NaN before the end)" in "\n".join(lines)


def test_a_single_legacy_seed_gives_no_verdict():
    lines = quality.spread([row("port-legacy", 0, 2.0, 300, 0.4), row("tf1-legacy-graph", 0, 3.5, 190, 0.5)])
    assert all("no spread to compare with yet" in line for line in lines if line.startswith("port-legacy"))


# --- the results files and the table built from them -------------------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDERS = ("docs/quality", "docs/quality-options", "docs/full-length-legacy")
TIMING = {"seconds": 600.0, "measured_by": "clock", "cores": 1, "load_average": [1.0, 1.0, 1.0], "commit": "c" * 40}
SCORES = {"samples": 2000, "classifier_score": 3.0, "frechet_distance": 200.0, "class_fractions": [0.1] * 10}


def written_row(folder, setting, seed, **scores):
    made = quality.make_row(setting, seed, 10000, TIMING, f"{setting}-seed{seed}.png",
                            f"{setting}-seed{seed}-progress.png", {}, {**SCORES, **scores})
    return quality.write_row(os.path.join(folder, f"{setting}-seed{seed}.json"), made,
                             {"arguments": {"steps": 10000}, "run": {"seed": seed}})


def test_a_row_file_has_the_row_and_its_provenance(tmp_path):
    written_row(str(tmp_path), "port-legacy", 0)
    with open(tmp_path / "port-legacy-seed0.json") as handle:
        row = json.load(handle)
    assert row["setting"] == "port-legacy" and row["seconds"] == 600.0 and row["classifier_score"] == 3.0
    assert row["training"] == {key: TIMING[key] for key in ("measured_by", "cores", "load_average", "commit")}
    assert set(shared.PROVENANCE_KEYS) <= set(row["provenance"])
    assert row["provenance"]["settings"] == {"arguments": {"steps": 10000}, "run": {"seed": 0}}
    for end in ("started", "finished"):
        assert row["provenance"][end]["utc"]


def test_the_table_is_rebuilt_from_the_files_alone(tmp_path):
    out = str(tmp_path)
    quality.write_ceiling(out, {**SCORES, "classifier_score": 9.5})
    written_row(out, "tf1-legacy-graph", 0, classifier_score=2.5)
    written_row(out, "port-legacy", 1, classifier_score=3.5)
    old = dict(setting="port-legacy", seed=0, iterations=10000, seconds=None, grid="g.png", **SCORES,
               provenance={"commit": "f" * 40, "reconstructed": True, "note": "from the git history"})
    (tmp_path / "port-legacy-seed0.json").write_text(json.dumps(old))
    (tmp_path / "results.json").write_text("{not a row")  # the table's own files are not rows
    table = quality.report(out)
    runs_table, _, rest = table.partition("\n\n")
    lines = [line for line in runs_table.splitlines() if line.startswith("| ")]
    spreads = {line.split(" | ")[0]: line for line in rest.splitlines() if line.startswith("| ")}
    assert spreads["| port-legacy"] == "| port-legacy | 2 | 0 | median 3.25 (3.00 to 3.50) | median 200.0 (200.0 to 200.0) " \
        "| median 0.100 (0.100 to 0.100) |"
    assert spreads["| tf1-legacy-graph"].startswith("| tf1-legacy-graph | 1 | 0 | 2.50 |")
    assert [line.split(" | ")[0:2] for line in lines[1:]] == [
        ["| real held-out digits", "-"], ["| port-legacy", "0"], ["| port-legacy", "1"], ["| tf1-legacy-graph", "0"]]
    assert lines[0].endswith("| commit |")
    commit = shared.code_version()["commit"]
    assert lines[2].endswith("| fffffff† |") and "| - | 3.00 |" in lines[2]
    assert "| 10 min (1 core) | 3.50 |" in lines[3]
    if commit:
        assert lines[3].split(" | ")[-1].startswith(commit[:7])
    assert "†: written before results files recorded their provenance" in table
    with open(tmp_path / "results.md") as handle:
        assert handle.read() == table + "\n"
    with open(tmp_path / "results.json") as handle:
        results = json.load(handle)
    assert [row["seed"] for row in results["runs"]] == [0, 1, 0]
    assert results["ceiling"]["classifier_score"] == 9.5
    assert set(shared.PROVENANCE_KEYS) <= set(results["provenance"])


@pytest.mark.parametrize("folder", FOLDERS)
def test_the_committed_rows_hold_what_the_writer_writes_and_where_they_came_from(folder):
    outcome, scores = {"diverged_at": 1, "scored_at": None}, dict(SCORES)
    writer_keys = set(quality.make_row("s", 0, 1, {}, "g", "p", outcome, scores)) | {"provenance"}
    rows = quality.read_rows(os.path.join(ROOT, folder))
    assert rows
    for row in rows:
        name = f"{row['setting']}-seed{row['seed']}"
        assert set(row) <= writer_keys, (name, set(row) - writer_keys)
        record = row["provenance"]
        assert re.fullmatch(r"[0-9a-f]{40}", record["commit"]), name
        if record.get("reconstructed"):
            assert record["note"], name
        else:
            assert set(shared.PROVENANCE_KEYS) <= set(record), name
    assert quality.read_ceiling(os.path.join(ROOT, folder))["provenance"]["commit"]


@pytest.mark.parametrize("folder", FOLDERS)
def test_the_committed_table_is_what_the_code_makes_of_the_files(folder):
    out = os.path.join(ROOT, folder)
    table = quality.format_table(quality.read_rows(out), quality.read_ceiling(out), out)
    with open(os.path.join(out, "results.md")) as handle:
        assert handle.read() == table + "\n", f"rebuild it: python -m benchmarks.quality --report-only --out {folder}"


@pytest.mark.parametrize("folder", ["docs/quality", "docs/full-length-legacy"])
def test_the_results_pages_full_length_tables_are_the_ones_built_from_the_files(folder):
    out = os.path.join(ROOT, folder)
    table = quality.format_table(quality.read_rows(out), quality.read_ceiling(out), out)
    blocks = [[]]
    for line in table.splitlines():
        if line.startswith("|"):
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    blocks = ["\n".join(block) for block in blocks if block]
    assert len(blocks) == 2  # the runs and the per-setting spreads
    with open(os.path.join(ROOT, "docs", "results.md")) as handle:
        page = handle.read()
    for block in blocks:
        assert block in page, f"docs/results.md lacks this table of {folder}:\n{block}"


def test_the_readmes_full_length_spreads_are_the_ones_built_from_the_files():
    out = os.path.join(ROOT, "docs", "full-length-legacy")
    with open(os.path.join(ROOT, "README.md")) as handle:
        assert quality.spread_table(quality.read_rows(out)) in handle.read(), \
            "rebuild it: python -m benchmarks.quality --report-only --out docs/full-length-legacy"


def test_a_port_run_that_goes_non_finite_is_written_as_dead_not_a_crash(tmp_path, monkeypatch):
    # Legacy fidelity takes the original's losses as written (Q8), so a port run can die as
    # the original's graph does; here a learning rate of 1e4 kills it in the warm-up, before
    # its first checkpoint, so there is nothing to score and no grid to keep.
    import argparse

    from common import data
    from genmnist import EMBEDDED

    real_port_run = quality.port_run
    monkeypatch.setattr(quality, "port_run", lambda out, model, fidelity, seed, steps, images, batch_size, lr, **kw:
                        real_port_run(out, model, fidelity, seed, steps, images, 16, 1e4, **kw))
    args = argparse.Namespace(steps=5, out=str(tmp_path / "out"), work=str(tmp_path / "work"), wgan_minutes=1)
    os.makedirs(args.out)
    images = data.read_images(EMBEDDED, (28, 28, 1))[:256]
    written = quality.run_one("port-legacy", 0, args, images, scorer=None)
    assert written["diverged_at"] == -29 and written["scored_at"] is None
    assert written["classifier_score"] is None and written["grid"] is None
    with open(os.path.join(args.out, "port-legacy-seed0.json")) as handle:
        assert json.load(handle)["diverged_at"] == -29


def test_an_interrupted_run_of_the_originals_loop_resumes_to_the_unbroken_runs_end(tmp_path, monkeypatch):
    # Small settings (batch 8, two warm-up steps, a snapshot every 2 iterations) so that the
    # original's full-size graph trains 6 iterations in seconds; the break comes after the
    # snapshot at 4, inside iteration 5's bookkeeping, as a Ctrl-C or a killed session would.
    from common.callbacks import is_display_iteration
    from common import data
    from common.legacy_tf1 import read_checkpoint, write_random_checkpoint
    from genmnist import EMBEDDED

    settings = {**quality.legacy_graph_settings(0, 6), "batch_size": 8, "pretrain_steps": 2}
    monkeypatch.setattr(quality, "legacy_graph_settings", lambda seed, steps: {**settings, "seed": seed})
    monkeypatch.setattr(quality, "SNAPSHOT_EVERY", 2)
    images = data.read_images(EMBEDDED, (28, 28, 1))[:40]

    def train(out, display):
        return quality._train_legacy_graph(str(out), 0, 6, images, write_random_checkpoint, display)

    def broken(i, steps):
        if i == 4:
            raise KeyboardInterrupt
        return is_display_iteration(i, steps)

    assert train(tmp_path / "unbroken", is_display_iteration) is None
    with pytest.raises(KeyboardInterrupt):
        train(tmp_path / "resumed", broken)
    assert train(tmp_path / "resumed", is_display_iteration) is None
    unbroken = read_checkpoint(str(tmp_path / "unbroken" / "tf1" / "gan"))
    resumed = read_checkpoint(str(tmp_path / "resumed" / "tf1" / "gan"))
    assert [n for n in unbroken if not np.array_equal(unbroken[n], resumed[n])] == []
    with open(tmp_path / "unbroken" / "losses.csv") as a, open(tmp_path / "resumed" / "losses.csv") as b:
        assert a.read() == b.read()
    assert sorted(os.listdir(tmp_path / "resumed" / "samples")) == sorted(os.listdir(tmp_path / "unbroken" / "samples"))
    # Other settings in the same folder start afresh instead of continuing the wrong run.
    settings["learning_rate"] = 1e-3
    assert quality._resumable_snapshot(str(tmp_path / "resumed"), quality.legacy_graph_settings(0, 6)) is None
