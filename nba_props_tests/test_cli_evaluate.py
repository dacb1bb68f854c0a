"""`nba-props evaluate` fails loudly: a failed step means exit 1 and no report of figures."""

from __future__ import annotations

import json
import os

import polars  # noqa: F401  (imported first: polars sets its allocator's variable in os.environ on import)

from nba_props.cli import main


def test_evaluate_on_an_empty_data_folder_exits_non_zero_and_writes_no_report(tmp_path, monkeypatch, capsys):
    home, data, out = tmp_path / "home", tmp_path / "empty_data", tmp_path / "reports"
    data.mkdir()
    out.mkdir()
    (out / "evaluation.md").write_text("# an older report that must not survive a failed run\n")
    monkeypatch.setenv("NBA_PROPS_HOME", str(home))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    environment = dict(os.environ)
    # The first week of the partitions keeps the run short (history is clamped to the first game date).
    code = main(["evaluate", "--data", str(data), "--start", "2021-10-25", "--end", "2021-10-26",
                 "--history-days", "1", "--out", str(out)])  # fmt: skip
    assert code == 1
    # settings and the Dagster instance are passed to the runs, never written into the environment
    assert dict(os.environ) == environment
    assert (home / "evaluation" / data.name / "dagster_home" / "dagster.yaml").exists()
    assert not (out / "evaluation.md").exists()
    report = json.loads((out / "evaluation.json").read_text())
    assert report["status"] == "failed" and report["failed_steps"] == ["[5/5] grading and report"]
    assert "families" not in report
    assert "FAILED at [5/5] grading and report" in capsys.readouterr().err


def test_evaluate_stops_at_the_first_failed_step(tmp_path, monkeypatch, capsys):
    home, data, out = tmp_path / "home", tmp_path / "data", tmp_path / "reports"
    data.mkdir()
    # The evaluation's warehouse (one per data folder) is not a DuckDB file: every write fails.
    warehouse = home / "evaluation" / data.name / "warehouse.duckdb"
    warehouse.parent.mkdir(parents=True)
    warehouse.write_bytes(b"this is not a duckdb file" * 100)
    monkeypatch.setenv("NBA_PROPS_HOME", str(home))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    code = main(["evaluate", "--data", str(data), "--start", "2021-10-25", "--end", "2021-10-26",
                 "--history-days", "1", "--out", str(out)])  # fmt: skip
    assert code == 1
    printed = capsys.readouterr()
    assert "[1/5] ingest" in printed.out and "STEP FAILED" in printed.out
    assert "[2/5]" not in printed.out  # nothing runs after the failed step
    report = json.loads((out / "evaluation.json").read_text())
    assert report["status"] == "failed" and report["failed_steps"][0].startswith("[1/5] ingest")
    assert not (out / "evaluation.md").exists()
