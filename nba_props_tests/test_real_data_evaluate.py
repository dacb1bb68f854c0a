"""`nba-props evaluate` on one real week of ../shared/data/nba (2025-11-17 .. 2025-11-23, the last week
of the sportsbook snapshots; skipped when absent): the whole command (ingest, lines, features,
walk-forward training, predictions, report) runs, and the report has every family, coverage whose
parts sum to the whole, and baselines.

`--history-days 27` (instead of the default 730) keeps the run short: features start on 2025-10-21,
the first day of the 2025-26 sportsbook snapshots, so the families that train on lined rows only (the
champion among them) train on every snapshot day before the window (2,664 lined rows, above
min_train_rows 2000; before 2025-11-10 there are < 2000, which is why the week is the last one rather
than an earlier one needing the 2024-25 DFS boards and ~300 more days of history). The no-vegas
families train on the same 27 days; the assertions are about the report's structure, not its
figures. Ingest still reaches 640 days behind the features (the feature build's box-score window).
The window and length are set by where lines exist in the data, not by any outcome.
Measured on the shared 2-core machine under heavy load (6-11, other jobs), so compare CPU: the whole
command 160 s CPU (509 s wall; this module 177 s CPU, 645 s wall) vs 275 s CPU (1151 s wall) for the
previous 2025-11-10 .. 2025-11-16 week with 313 days of history (ingest from 2023-04-02 instead of
2024-01-20, lines and features for 320 days instead of 34)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nba_props.cli import main
from nba_props.lib.models.registry import load_models_config
from nba_props_tests.conftest import shared_data_or_skip

pytestmark = [pytest.mark.real_data, pytest.mark.slow]

DATA = shared_data_or_skip("odds/the_odds_api_snapshots", "box_scores")

START, END = "2025-11-17", "2025-11-23"
HISTORY_DAYS = "27"  # 2025-10-21 (the first sportsbook snapshot) .. the window


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory) -> tuple[dict, Path]:
    """The report and the evaluation's warehouse (every asset downstream of the predictions is
    built for the window: grading, health, signals, best bets, the ledger)."""
    base = tmp_path_factory.mktemp("evaluate")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NBA_PROPS_HOME", str(base / "home"))
        patch.delenv("DAGSTER_HOME", raising=False)
        code = main(["evaluate", "--data", str(DATA), "--start", START, "--end", END, "--history-days", HISTORY_DAYS,
                     "--out", str(base / "out")])  # fmt: skip
    assert code == 0
    assert (base / "out" / "evaluation.md").read_text().startswith("# Model evaluation")
    warehouse = base / "home" / "evaluation" / DATA.name / "warehouse.duckdb"
    return json.loads((base / "out" / "evaluation.json").read_text()), warehouse


@pytest.fixture(scope="module")
def report(evaluated) -> dict:
    return evaluated[0]


def test_report_structure_lists_every_family(report):
    config = load_models_config()
    assert report["status"] == "ok" and report["window"] == {"start": START, "end": END}
    assert report["champion"] == config.champion
    assert set(report["families"]) == {f.id for f in config.enabled_families}
    for family, fam in report["families"].items():
        assert list(fam["hr"]) == ["1", "3", "5"] and list(fam["hr_all_lined"]) == ["1", "3", "5"], family
        for key in ("n_roi_edge3", "top5_daily", "markets", "coverage", "why_no_predictions", "calibration"):
            assert key in fam, (family, key)
        # recommended picks are a subset of the lined rows at each floor
        for floor in ("1", "3", "5"):
            rec, lined = fam["hr"][floor], fam["hr_all_lined"][floor]
            assert rec["wins"] + rec["losses"] <= lined["wins"] + lined["losses"], (family, floor)
        top = fam["top5_daily"]
        assert top["picks"] <= 5 * top["days"] and top["days"] <= 7
        assert top["picks"] == sum(top[k] for k in ("wins", "losses", "pushes", "voids", "pending"))
        assert fam["n_roi_edge3"] <= fam["hr"]["3"]["wins"] + fam["hr"]["3"]["losses"]
        assert fam["markets"]["market_brier"] == "sportsbook" and fam["markets"]["roi"] == "sportsbook"
    champion = report["families"][report["champion"]]
    assert champion["n"] > 0 and champion["why_no_predictions"] is None
    assert champion["top5_daily"]["days"] == 7  # games every day of the week, and the champion recommends


def test_coverage_parts_sum_to_the_whole(report):
    for family, fam in report["families"].items():
        cov = fam["coverage"]
        assert cov["broken_identities"] == [], family
        c = cov["candidates"]
        assert c["total"] == c["with_line"] + c["without_line"] > 0
        for part in ("with_line", "without_line"):
            p = cov[part]
            assert p["unaccounted"] == 0, (family, part)
            assert p["total"] == p["blocked_by_quality"] + p["no_model"] + p["line_required"] + p["predicted"]
        assert sum(cov["blocked_by_reason"].values()) == (
            cov["with_line"]["blocked_by_quality"] + cov["without_line"]["blocked_by_quality"])  # fmt: skip
        preds = cov["predictions"]
        assert preds["total"] == preds["quarantined"] + preds["no_line"] + preds["lined"]
        assert preds["total"] == cov["with_line"]["predicted"] + cov["without_line"]["predicted"]
        assert (
            cov["lined_predictions"]["total"]
            == cov["lined_predictions"]["recommended"] + cov["lined_predictions"]["passed"]
        )
        rec = cov["recommended"]
        assert rec["total"] == sum(rec[k] for k in ("wins", "losses", "pushes", "voids", "pending"))
        weeks = cov["family_weeks"]
        assert (
            weeks["total"]
            == 1
            == sum(len(weeks[k]) for k in ("serving", "blocked", "not_serving", "skipped", "missing"))
        )
        # the evaluated rows are the predictions minus the quarantined ones
        assert fam["n"] == preds["total"] - preds["quarantined"]
        assert cov["roi_n"] == fam["n_roi_edge3"]
        if fam["n"] == 0:
            assert fam["why_no_predictions"], family


def test_baselines_on_the_champions_decided_rows(report):
    baselines = report["baselines"]
    champion = report["families"][report["champion"]]
    # exactly the champion's decided rows (every decided row has a P(over))
    assert baselines["n"] == champion["n_brier"] > 0
    assert baselines["line"]["mae_ratio"] == 1.0 and baselines["line"]["mae"] > 0
    for name in ("last5", "last10"):
        block = baselines[name]
        assert block["n"] + block["n_without_history"] == baselines["n"]
        assert block["mae"] > 0 and block["mae_ratio"] > 0
        assert list(block["hr"]) == ["1", "3", "5"]
        assert (
            block["hr"]["1"]["wins"] + block["hr"]["1"]["losses"]
            >= block["hr"]["3"]["wins"] + block["hr"]["3"]["losses"]
        )
        assert 0 < block["top5_daily"]["picks"] <= 35


def test_best_bets_of_each_day_and_their_record_match_an_independent_query(evaluated):
    """The window's best bets: each day's selected candidates are exactly the ledger's picks of the
    day (its first publication), graded on their published side and line by a query written here
    against box scores and the schedule directly, and the report's record is that query's."""
    import duckdb

    report, warehouse = evaluated
    con = duckdb.connect(str(warehouse), read_only=True)
    selected = con.sql(
        "SELECT game_date, game_id, player_lookup, model_id, direction, line FROM nba_props.best_bets "
        "WHERE selected ORDER BY ALL"
    ).fetchall()
    ledger = con.sql(
        "SELECT game_date, game_id, player_lookup, model_id, direction, line FROM nba_props.published_picks "
        "WHERE status = 'published' ORDER BY ALL"
    ).fetchall()
    assert selected == ledger  # every selected pick published once, nothing else
    # grade each published pick from the box score of its player-game (a player without a row did
    # not play: void); the line and side are the published ones
    graded = con.sql(
        """
        WITH box AS (
            SELECT game_id, player_lookup, max(points) AS points FROM nba_props.box_scores
            WHERE played GROUP BY ALL
        )
        SELECT p.game_date, p.game_id, p.player_lookup,
               CASE WHEN b.points IS NULL THEN 'VOID'
                    WHEN b.points = p.line THEN 'PUSH'
                    WHEN (b.points > p.line) = (p.direction = 'OVER') THEN 'WIN' ELSE 'LOSS' END AS result
        FROM nba_props.published_picks p LEFT JOIN box b USING (game_id, player_lookup)
        WHERE p.status = 'published'
        """
    ).pl()
    stored = con.sql("SELECT game_date, game_id, player_lookup, result FROM nba_props.pick_accuracy WHERE counted").pl()
    assert graded.sort("game_id", "player_lookup").equals(stored.sort("game_id", "player_lookup"))
    counts = {r: int((graded["result"] == r).sum()) for r in ("WIN", "LOSS", "PUSH", "VOID")}
    record = report["best_bets"]
    assert (record["wins"], record["losses"], record["pushes"], record["voids"]) == (
        counts["WIN"], counts["LOSS"], counts["PUSH"], counts["VOID"])  # fmt: skip
    assert record["picks"] == len(ledger) and record["days"] == 7
    assert record["health_gate_days"] + record["days_with_picks"] <= record["days"] or record["picks"] == 0
