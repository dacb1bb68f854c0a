"""The publish assets materialized on hand-built upstream tables (the real ledger and its grading
in between, a frozen clock): files written atomically under v1/ with their figures, results after
grading (a push is PUSH), a published pick still in all.json after its model is disabled and the
date re-run, the content guard refusing a shrunken file (degraded marker, failed check) unless the
upstream says why, a current file never turned back by an older date, and the blocking schema
check writing nothing on a planted fault."""

import json
from datetime import date, timedelta

import dagster as dg
import polars as pl
import pytest

from nba_props.defs.grading.picks import pick_accuracy
from nba_props.defs.picks.ledger import published_picks
from nba_props.defs.publish import writer
from nba_props.defs.publish.step import publish
from nba_props.io.artifacts import ArtifactStoreResource, LocalArtifactStore
from nba_props.io.io_manager import DuckDBPolarsIOManager, WarehouseResource
from nba_props.io.warehouse import Warehouse
from nba_props.lib import tables
from nba_props.lib.grading import ACCURACY_SCHEMA
from nba_props.resources import ClockResource
from nba_props_tests.test_ledger import DAYS, accuracy_rows, after, before, slate, stand_in, tip, write_best_bets
from nba_props_tests.test_lib_ledger import bb

PUBLIC = ["best_bets_all_json", "best_bets_today_json"]
# the publish step reads more than the public files do: stand-ins for the admin files' inputs
UPSTREAM = ("prediction_accuracy", "best_bets", "schedule", "model_performance_daily", "signal_health_daily",
            "trained_models", "predictions")  # fmt: skip
ASSETS = [published_picks, pick_accuracy, publish, *(stand_in(n) for n in UPSTREAM), dg.AssetSpec("alerts")]
ALL, TODAY = "v1/best-bets/all.json", "v1/best-bets/today.json"


@pytest.fixture
def home(tmp_path):
    return tmp_path


def resources(home, now) -> dict:
    storage = WarehouseResource(database=str(home / "w.duckdb"))
    return {"io_manager": DuckDBPolarsIOManager(storage=storage), "warehouse": storage,
            "clock": ClockResource(frozen_at=now.isoformat()), "artifacts": ArtifactStoreResource(root=str(home / "a"))}  # fmt: skip


def run(home, now, first: date, last: date | None = None, select=("published_picks",)) -> dg.ExecuteInProcessResult:
    tags = {"dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": (last or first).isoformat()}  # fmt: skip
    with dg.instance_for_test() as instance:
        return dg.materialize(ASSETS, resources=resources(home, now), instance=instance, selection=list(select),
                              tags=tags, raise_on_error=False)  # fmt: skip


def store(home) -> Warehouse:
    return Warehouse(str(home / "w.duckdb"))


def files(home) -> LocalArtifactStore:
    return LocalArtifactStore(home / "a")


def write_schedule(home, days=DAYS, status="final") -> None:
    schema = tables.TABLE_SCHEMAS["schedule"]
    rows = [{c: None for c in schema.names()} | {"game_date": d, "game_id": f"{d:%Y%m%d}_AAA_BBB", "status": status}
            for d in days]  # fmt: skip
    store(home).replace_partitions("schedule", pl.DataFrame(rows, schema=schema), start=days[0], end=days[-1],
                                   declared=schema)  # fmt: skip


def publish_day(home, day, players=("a", "b", "c"), *, graded: dict | None = None, overrides=None) -> None:
    """The day's picks published before the tip, graded after it when `graded`, then the files."""
    write_schedule(home, [day])
    write_best_bets(store(home), slate(day, players=players, **(overrides or {})), days=[day])
    assert run(home, before(day), day).success
    if graded is not None:
        store(home).replace_partitions("prediction_accuracy", accuracy_rows(day, graded), start=day, end=day,
                                       declared=ACCURACY_SCHEMA)  # fmt: skip
        assert run(home, after(day), day, select=["pick_accuracy"]).success
    assert run(home, after(day), day, select=PUBLIC).success


def checks(result) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def test_files_carry_the_graded_day_and_a_push_is_push(home):
    day = DAYS[0]
    # a: OVER 20.5 scores 25 (WIN); b: OVER 20.0 scores 20 (PUSH); c: OVER 20.5 scores 10 (LOSS)
    publish_day(home, day, graded={"a": 25.0, "b": 20.0, "c": 10.0}, overrides={"b": {"line": 20.0}})
    doc = files(home).read_json(ALL)
    assert doc["date"] == day.isoformat() and doc["season"] == "2025-26"
    assert [(p["player_lookup"], p["result"]) for p in doc["today"]] == [("a", "WIN"), ("b", "PUSH"), ("c", "LOSS")]
    assert doc["record"]["season"] == {"wins": 1, "losses": 1, "pushes": 1, "total": 3, "pct": 50.0}
    assert doc["weeks"][0]["days"][0]["status"] == "split"
    today = files(home).read_json(TODAY)
    assert [p["player_lookup"] for p in today["picks"]] == ["a", "b", "c"] and "result" not in today["picks"][0]
    rows = store(home).load("best_bets_all_json", declared=tables.TABLE_SCHEMAS["best_bets_all_json"])
    assert rows.select("path", "written", "degraded", "picks").rows() == [(ALL, True, False, 3)]
    assert json.loads(rows.item(0, "payload")) == doc  # the date's version is kept in the warehouse


def test_a_published_pick_stays_after_its_model_is_disabled_and_the_date_rerun(home):
    day = DAYS[0]
    publish_day(home, day, players=("a", "b"))
    # after the tip, b's source model is disabled: best_bets has no row for b any more
    write_best_bets(store(home), slate(day, players=("a",)), days=[day])
    assert run(home, after(day), day).success
    assert run(home, after(day), day, select=PUBLIC).success
    assert [p["player_lookup"] for p in files(home).read_json(ALL)["today"]] == ["a", "b"]


def test_content_guard_refuses_a_shrunken_file_unless_the_upstream_says_why(home):
    day = DAYS[0]
    publish_day(home, day, players=("a", "b", "c", "d"))
    before_bytes = files(home).read_bytes(ALL)
    # a planted fault: the day's ledger read comes back empty (a failed upstream day)
    ledger_schema = tables.TABLE_SCHEMAS["published_picks"]
    store(home).replace_partitions("published_picks", pl.DataFrame(schema=ledger_schema), start=day, end=day,
                                   declared=ledger_schema)  # fmt: skip
    result = run(home, after(day), day, select=PUBLIC)
    assert result.success  # nothing downstream is stopped: the check alerts
    assert checks(result)[writer.CONTENT_GUARD] is False
    guard = next(e for e in result.get_asset_check_evaluations() if e.check_name == writer.CONTENT_GUARD)
    # the alert says which day and why
    assert guard.metadata["partition"].value == day.isoformat()
    assert "content guard: 0 < 0.3 x 4" in guard.description
    assert files(home).read_bytes(ALL) == before_bytes  # the old file stays
    marker = files(home).read_json("v1/best-bets/all.degraded.json")
    assert (marker["previous_count"], marker["refused_count"]) == (4, 0)
    rows = store(home).load("best_bets_all_json", declared=tables.TABLE_SCHEMAS["best_bets_all_json"])
    assert rows.select("written", "degraded", "previous_picks").row(0) == (False, True, 4)
    # the champion health gate was closed that day: zero picks is the truth, written, marker cleared
    gated = bb("a", day=day, tip=tip(day), selected=False, gate=True, gate_reason="champion v12 BLOCKED")
    write_best_bets(store(home), [gated], days=[day])
    result = run(home, after(day), day, select=PUBLIC)
    assert checks(result)[writer.CONTENT_GUARD] is True
    assert files(home).read_json(ALL)["today"] == [] and not files(home).exists("v1/best-bets/all.degraded.json")


def test_the_current_file_is_never_turned_back_by_an_older_date(home):
    publish_day(home, DAYS[0])
    publish_day(home, DAYS[1], players=("d",))
    assert run(home, after(DAYS[1]), DAYS[0], select=PUBLIC).success  # re-run the older date
    assert files(home).read_json(ALL)["date"] == DAYS[1].isoformat()
    rows = store(home).load("best_bets_all_json", declared=tables.TABLE_SCHEMAS["best_bets_all_json"])
    older = rows.filter(pl.col("game_date") == DAYS[0])
    assert older.select("written").item() is False and "newer date" in older.select("reason").item()
    # a two-day run writes the current file once, for its newest date
    assert run(home, after(DAYS[1]), DAYS[0], DAYS[1], select=PUBLIC).success
    assert files(home).read_json(ALL)["date"] == DAYS[1].isoformat()


def test_a_file_failing_its_schema_blocks_and_writes_nothing(home, monkeypatch):
    publish_day(home, DAYS[0])
    good = files(home).read_bytes(ALL)
    # planted: the encoding emits a file its schema cannot parse back
    monkeypatch.setattr(writer, "to_json_bytes", lambda model, frames=None: b'{"date": "not a date"}\n')
    result = run(home, after(DAYS[0]), DAYS[0], select=["best_bets_all_json"])
    assert not result.success
    assert checks(result)[writer.SCHEMA_VALID] is False
    assert files(home).read_bytes(ALL) == good


def test_a_schema_failure_of_one_asset_leaves_the_steps_other_assets_written(home, monkeypatch):
    """The publish assets share one step: all.json failing its schema writes nothing for it, while
    today.json (same step, same run) is written; the blocking check still fails the run."""
    publish_day(home, DAYS[0], players=("a",))
    good_all = files(home).read_bytes(ALL)
    write_best_bets(store(home), slate(DAYS[0], players=("a", "b")), days=[DAYS[0]])
    assert run(home, before(DAYS[0]), DAYS[0]).success  # b published too
    encode = writer.to_json_bytes

    def broken_all(model, frames=None):
        return b'{"date": "not a date"}\n' if type(model).__name__ == "BestBetsAll" else encode(model, frames)

    monkeypatch.setattr(writer, "to_json_bytes", broken_all)
    result = run(home, after(DAYS[0]), DAYS[0], select=PUBLIC)
    assert not result.success
    evaluations = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()}
    assert evaluations[("best_bets_all_json", writer.SCHEMA_VALID)] is False
    assert evaluations[("best_bets_today_json", writer.SCHEMA_VALID)] is True
    materialized = {m.asset_key.to_user_string() for m in result.asset_materializations_for_node("publish")}
    assert materialized == {"best_bets_today_json"}
    assert files(home).read_bytes(ALL) == good_all
    assert [p["player_lookup"] for p in files(home).read_json(TODAY)["picks"]] == ["a", "b"]


def test_show_best_bets_prints_the_current_file_and_a_dates_version(home, monkeypatch, capsys):
    from nba_props.cli import main

    publish_day(home, DAYS[0], graded={"a": 25.0, "b": 18.0, "c": 30.0})
    publish_day(home, DAYS[1], players=("d",))
    monkeypatch.setenv("NBA_PROPS_HOME", str(home))
    monkeypatch.setenv("NBA_PROPS_DUCKDB_PATH", str(home / "w.duckdb"))
    monkeypatch.setenv("NBA_PROPS_ARTIFACTS_DIR", str(home / "a"))
    assert main(["show", "best-bets"]) == 0
    current = capsys.readouterr().out
    assert f"Best bets {DAYS[1]}" in current and "D " in current
    assert main(["show", "best-bets", "--date", DAYS[0].isoformat()]) == 0
    older = capsys.readouterr().out
    assert "Season 2-1 (66.7%)" in older and "WIN (25)" in older and "LOSS (18)" in older and "WIN (30)" in older


def test_picks_withdrawn_before_their_tip_leave_the_files_without_a_guard_alert(home):
    day = DAYS[0]
    publish_day(home, day, players=("a", "b"))
    # before the tip every candidate is rejected: the ledger withdraws both picks (its rules)
    rejected = {p: {"selected": False, "rank": None, "rejected_by": "edge_floor"} for p in ("a", "b")}
    write_best_bets(store(home), [bb(p, day=day, tip=tip(day), **rejected[p]) for p in ("a", "b")], days=[day])
    assert run(home, before(day) + timedelta(hours=1), day).success
    result = run(home, before(day) + timedelta(hours=1), day, select=PUBLIC)
    assert checks(result)[writer.CONTENT_GUARD] is True
    assert files(home).read_json(ALL)["today"] == [] and files(home).read_json(TODAY)["picks"] == []
    rows = store(home).load("best_bets_all_json", declared=tables.TABLE_SCHEMAS["best_bets_all_json"])
    assert "the ledger withdrew 2 pick(s) before their tip (filter: edge_floor)" in rows.item(0, "reason")
