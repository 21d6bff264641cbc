"""The legacy-outcomes benchmark's bookkeeping (issue 18): the rank test, how a dead run
counts, and the committed tables rebuilt from the committed run files alone."""

import os
import re

from benchmarks import legacy_outcomes, shared

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "docs", "legacy-outcomes")


def run(setting, seed, score, distance, dead_at=None):
    return dict(setting=setting, seed=seed, iterations=dead_at or 2000, diverged_at=dead_at,
                classifier_score=None if dead_at else score, frechet_distance=None if dead_at else distance,
                independent_score=None if dead_at else score + 0.5)


def test_mann_whitney_is_the_exact_two_sided_rank_test():
    # Three against three, fully separated: 2 of the C(6, 3) = 20 orderings are as extreme.
    assert abs(legacy_outcomes.mann_whitney([1, 2, 3], [4, 5, 6]) - 0.1) < 1e-12
    # Interleaved evenly: U = 4.5 of 9, nothing to tell them apart.
    assert legacy_outcomes.mann_whitney([1, 4, 5], [2, 3, 6]) == 1.0


def test_a_dead_run_is_the_worst_value_in_the_median_and_left_out_of_the_range():
    rows = [run("tf1-legacy-graph", 1, 5.0, 120.0), run("tf1-legacy-graph", 2, 6.0, 100.0),
            run("tf1-legacy-graph", 3, None, None, dead_at=56)]
    assert legacy_outcomes.outcome_values(rows, "classifier_score") == [5.0, 6.0, 1.0]
    assert legacy_outcomes.outcome_values(rows, "frechet_distance") == [120.0, 100.0, float("inf")]
    lines = legacy_outcomes.summary_lines(rows)
    assert "| tf1-legacy-graph | 3 | 1 | classifier_score | 5.00 | 5.00 to 6.00 | - |" in lines
    assert "| tf1-legacy-graph | 3 | 1 | frechet_distance | 120.00 | 100.00 to 120.00 | - |" in lines


def test_the_committed_runs_say_where_they_came_from():
    rows = legacy_outcomes.read_rows(OUT)
    assert len({row["seed"] for row in rows if row["setting"] == legacy_outcomes.REFERENCE}) >= 6
    for row in rows:
        assert re.fullmatch(r"[0-9a-f]{40}", row["provenance"]["commit"])
        assert set(shared.PROVENANCE_KEYS) <= set(row["provenance"])


def test_the_committed_tables_are_what_the_code_makes_of_the_run_files():
    text = legacy_outcomes.report_text(OUT)
    with open(os.path.join(OUT, "results.md")) as handle:
        assert handle.read() == text, "rebuild it: python -m benchmarks.legacy_outcomes --report-only"
    summary = "\n".join(legacy_outcomes.summary_lines(legacy_outcomes.read_rows(OUT)))
    with open(os.path.join(ROOT, "docs", "results.md")) as handle:
        assert summary in handle.read()
