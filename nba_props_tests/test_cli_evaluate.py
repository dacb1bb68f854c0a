"""`nba-props evaluate` fails loudly: a failed step means exit 1 and no report of figures."""

from __future__ import annotations

import json

from nba_props.cli import main


def test_evaluate_on_an_empty_data_folder_exits_non_zero_and_writes_no_report(tmp_path, monkeypatch, capsys):
    home, data, out = tmp_path / "home", tmp_path / "empty_data", tmp_path / "reports"
    data.mkdir()
    out.mkdir()
    (out / "evaluation.md").write_text("# an older report that must not survive a failed run\n")
    monkeypatch.setenv("NBA_PROPS_HOME", str(home))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    code = main(["evaluate", "--data", str(data), "--start", "2025-11-10", "--end", "2025-11-11",
                 "--history-days", "1", "--out", str(out)])  # fmt: skip
    assert code == 1
    assert not (out / "evaluation.md").exists()
    report = json.loads((out / "evaluation.json").read_text())
    assert report["status"] == "failed" and report["failed_steps"] == ["[5/5] grading and report"]
    assert "families" not in report
    assert "FAILED at [5/5] grading and report" in capsys.readouterr().err
