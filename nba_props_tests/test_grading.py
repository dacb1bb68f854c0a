"""`prediction_accuracy`: hand-written grading cases (lib, no Dagster), then the asset on the small
simulated league (partition figures, checks, rerun idempotency, a planted duplicate fails the
blocking unique check)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import duckdb
import polars as pl
import pytest

from nba_props.lib import tables
from nba_props.lib.grading import ACCURACY_SCHEMA, graded_at_expr
from nba_props.lib.models.graded import accuracy_rows
from nba_props.lib.sensing import load_sensor_config
from nba_props_tests.conftest import TRAINED_WEEK as WEEK

RULES = load_sensor_config().reveal
D1, D2 = date(2025, 1, 6), date(2025, 1, 9)  # D2: the postponed game's make-up
TIP = datetime(2025, 1, 7, 0, 30, tzinfo=UTC)  # 19:30 ET on D1
TIP2 = datetime(2025, 1, 10, 0, 0, tzinfo=UTC)
PUBLISHED = TIP + timedelta(minutes=RULES.box_score_delay_minutes)

# game_id, date, tip, status
GAMES = [
    ("g_final", D1, TIP, "final"),
    ("g_live", D1, TIP, "live"),
    ("g_ppd", D1, TIP, "postponed"),  # its make-up is a new game on D2
    ("g_makeup", D2, TIP2, "final"),
    ("g_nobox", D1, TIP, "final"),  # final, but none of its box scores are in yet
    ("g_notip", D1, None, "final"),  # no tip time: the configured unknown_tip_et
]
# game_id, player, played, points
BOX = [
    ("g_final", "push", True, 20),
    ("g_final", "over_win", True, 31),
    ("g_final", "under_loss", True, 31),
    ("g_final", "dnp_row", False, None),  # a DNP row of the source
    ("g_final", "noline", True, 14),
    ("g_final", "moved", True, 24),
    ("g_live", "live", True, 30),  # a running score, not a result
    ("g_makeup", "ppd", True, 18),
    ("g_notip", "notip", True, 9),
]
# player, game, line, direction, predicted, recommendation
# -> expected (result, void_reason, actual, signed_error, graded_at)
CASES = [
    ("push", "g_final", 20.0, "OVER", 24.0, "OVER", ("PUSH", None, 20.0, 4.0, PUBLISHED)),  # integer line
    ("over_win", "g_final", 25.5, "OVER", 29.0, "OVER", ("WIN", None, 31.0, -2.0, PUBLISHED)),
    ("under_loss", "g_final", 25.5, "UNDER", 21.0, "UNDER", ("LOSS", None, 31.0, -10.0, PUBLISHED)),
    ("dnp_row", "g_final", 12.5, "OVER", 16.0, "OVER", ("VOID", "DNP", None, None, PUBLISHED)),
    ("no_row", "g_final", 12.5, "UNDER", 9.0, "UNDER", ("VOID", "DNP", None, None, PUBLISHED)),  # no box row
    ("noline", "g_final", None, None, 17.0, "NO_LINE", (None, None, 14.0, 3.0, PUBLISHED)),  # error only
    # the prediction was made on 22.5 (OVER); the line moved to 25.5 afterwards: 24 > 22.5 is a WIN
    ("moved", "g_final", 22.5, "OVER", 26.0, "OVER", ("WIN", None, 24.0, 2.0, PUBLISHED)),
    ("live", "g_live", 25.5, "OVER", 28.0, "OVER", (None, None, None, None, None)),  # not graded while live
    ("ppd", "g_ppd", 17.5, "UNDER", 15.0, "UNDER", ("VOID", "POSTPONED", None, None, TIP)),
    ("ppd", "g_makeup", 17.5, "OVER", 19.0, "OVER", ("WIN", None, 18.0, 1.0, TIP2 + (PUBLISHED - TIP))),
    ("nobox", "g_nobox", 10.5, "OVER", 12.0, "OVER", (None, None, None, None, None)),  # pending, audited
    ("notip", "g_notip", 10.5, "UNDER", 8.0, "PASS", ("WIN", None, 9.0, -1.0, "unknown_tip")),
]


def _frames():
    date_of = {g[0]: g[1] for g in GAMES}
    schedule = pl.DataFrame(
        {"game_id": [g[0] for g in GAMES], "game_date": [g[1] for g in GAMES], "tip_time_utc": [g[2] for g in GAMES],
         "status": [g[3] for g in GAMES]},
        schema_overrides={"tip_time_utc": pl.Datetime("us", "UTC")},
    )  # fmt: skip
    box = pl.DataFrame(
        {"game_id": [b[0] for b in BOX], "game_date": [date_of[b[0]] for b in BOX],
         "player_lookup": [b[1] for b in BOX], "played": [b[2] for b in BOX], "points": [b[3] for b in BOX]},
        schema_overrides={"points": pl.Int32},
    )  # fmt: skip
    predictions = pl.DataFrame(
        [
            {"game_date": date_of[c[1]], "game_id": c[1], "player_lookup": c[0], "model_id": "fam@1", "family": "fam",
             "predicted_points": c[4], "line": c[2], "market_type": None if c[2] is None else "sportsbook",
             "edge": None if c[2] is None else abs(c[4] - c[2]), "direction": c[3],
             "p_over": None if c[2] is None else (0.6 if c[3] == "OVER" else 0.4),
             "confidence": None if c[2] is None else 0.2, "recommendation": c[5], "quarantined": False,
             "quarantine_reason": None}
            for c in CASES
        ],
        schema=tables.TABLE_SCHEMAS["predictions"],
    )  # fmt: skip
    # player_lines as rebuilt after the move: the moved player's line is 25.5 now, with other prices
    lines = pl.DataFrame(
        {"game_id": [c[1] for c in CASES], "player_lookup": [c[0] for c in CASES],
         "line": [25.5 if c[0] == "moved" else c[2] for c in CASES],
         "over_price": [None if c[2] is None else (-130 if c[0] == "moved" else -110) for c in CASES],
         "under_price": [None if c[2] is None else (110 if c[0] == "moved" else -110) for c in CASES],
         "implied_over_prob": [None if c[2] is None else 0.5 for c in CASES]},
        schema_overrides={"over_price": pl.Int32, "under_price": pl.Int32, "line": pl.Float64,
                          "implied_over_prob": pl.Float64},
    )  # fmt: skip
    return predictions, box, schedule, lines


def test_every_hand_case_grades_as_written():
    predictions, box, schedule, lines = _frames()
    rows = accuracy_rows(predictions, box, schedule, lines, RULES)
    assert rows.schema == ACCURACY_SCHEMA and rows.height == len(CASES)
    unknown_tip = (
        schedule.filter(pl.col("game_id") == "g_notip")
        .with_columns(result=pl.lit("WIN"), game_status=pl.col("status"), game_has_box_scores=pl.lit(True))
        .select(graded_at_expr(RULES))
        .item()
    )
    assert unknown_tip is not None
    for case, row in zip(CASES, rows.iter_rows(named=True), strict=True):
        result, reason, actual, signed, graded_at = case[6]
        graded_at = unknown_tip if graded_at == "unknown_tip" else graded_at
        got = (row["result"], row["void_reason"], row["actual_points"], row["signed_error"], row["graded_at"])
        assert got == (result, reason, actual, signed, graded_at), case
        assert row["abs_error"] == (None if signed is None else abs(signed)), case
        assert row["line"] == case[2] and row["direction"] == case[3], case  # the prediction's own line
    by = {(r["player_lookup"], r["game_id"]): r for r in rows.iter_rows(named=True)}
    # price: the pick's side on the line's prices; none without a line
    assert by[("under_loss", "g_final")]["price"] == -110 and by[("noline", "g_final")]["price"] is None
    assert by[("moved", "g_final")]["over_price"] == -130  # the table's prices are the chosen line's
    # the unknown tip is the configured evening tip on the game date (ET)
    expected = datetime.combine(D1, RULES.unknown_tip_et, tzinfo=__import__("zoneinfo").ZoneInfo("America/New_York"))
    assert unknown_tip == expected.astimezone(UTC) + timedelta(minutes=RULES.box_score_delay_minutes)


def test_accuracy_rows_are_deterministic_and_never_fan_out():
    predictions, box, schedule, lines = _frames()
    first = accuracy_rows(predictions, box, schedule, lines, RULES)
    # duplicated box-score, schedule and line rows must not multiply predictions
    again = accuracy_rows(predictions, pl.concat([box, box]), pl.concat([schedule, schedule]),
                          pl.concat([lines, lines]), RULES)  # fmt: skip
    assert first.equals(again)


def test_the_audit_lists_final_games_left_ungraded_and_values_are_checked():
    from nba_props.lib.grading import invalid_values, ungraded

    predictions, box, schedule, lines = _frames()
    rows = accuracy_rows(predictions, box, schedule, lines, RULES)
    audit = ungraded(rows)
    assert audit["player_lookup"].to_list() == ["nobox"]
    assert "box scores" in audit["reason"][0]
    assert invalid_values(rows).height == 0
    broken = rows.with_columns(void_reason=pl.when(pl.col("result") == "WIN").then(pl.lit("DNP")))
    assert invalid_values(broken).height == rows.filter(pl.col("result").is_in(["WIN", "VOID"])).height


# ---------------------------------------------------------------------------------------------
# the asset on the simulated league


DAYS = (WEEK, WEEK + timedelta(days=1))  # the trained league has features (so predictions) through WEEK


def _warehouse():
    from nba_props.io.warehouse import Warehouse
    from nba_props.settings import load_settings

    return Warehouse(load_settings().duckdb_path)


def test_the_asset_grades_every_prediction_reruns_identically_and_blocks_on_duplicates(trained_home):
    import dagster as dg

    from nba_props.cli import run_backfill

    summary = run_backfill(DAYS[0], DAYS[-1], select=["predictions"])
    assert not summary["predictions"].get("failed"), summary
    summary = run_backfill(DAYS[0], DAYS[-1], select=["prediction_accuracy"])
    step = summary["prediction_accuracy"]
    assert not step.get("failed") and not step.get("failed_checks"), summary
    store = _warehouse()
    predictions = store.load("predictions", start=DAYS[0], end=DAYS[-1])
    rows = store.load("prediction_accuracy", declared=tables.TABLE_SCHEMAS["prediction_accuracy"])
    assert rows.schema == ACCURACY_SCHEMA
    assert rows.height == predictions.height > 0
    assert set(rows["game_date"]) == {WEEK}
    assert rows.select("game_id", "player_lookup", "model_id").is_unique().all()
    lined = rows.filter(pl.col("line").is_not_null())
    assert lined["result"].is_not_null().all()  # past games: all graded
    assert rows.filter(pl.col("line").is_null())["result"].is_null().all()
    assert set(rows["result"].drop_nulls()) <= {"WIN", "LOSS", "PUSH", "VOID"}
    assert (rows.filter(pl.col("result").is_in(["WIN", "LOSS"]))["graded_at"].is_not_null()).all()

    with dg.DagsterInstance.from_config(str(trained_home / "dagster_home")) as instance:
        for day in DAYS:
            (record,) = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey("prediction_accuracy"), asset_partitions=[day.isoformat()]),
                limit=1,
            ).records
            meta = {k: v.value for k, v in record.asset_materialization.metadata.items()}
            of_day = rows.filter(pl.col("game_date") == day)
            assert meta["dagster/row_count"] == of_day.height
            for name, result in (("wins", "WIN"), ("losses", "LOSS"), ("pushes", "PUSH"), ("voids", "VOID")):
                assert meta[name] == (of_day["result"] == result).sum(), (day, name)
            decided = of_day.filter(pl.col("result").is_in(["WIN", "LOSS"]))
            if decided.height:
                assert meta["hit_rate"] == pytest.approx((decided["result"] == "WIN").mean())
                assert meta["mae"] == pytest.approx(of_day["abs_error"].mean())
            else:  # a day without predictions (the league is featured through WEEK): no rate to plot
                assert "hit_rate" not in meta and "mae" not in meta

    # a rerun of the partitions leaves the table unchanged
    summary = run_backfill(DAYS[0], DAYS[-1], select=["prediction_accuracy"])
    assert not summary["prediction_accuracy"].get("failed"), summary
    again = store.load("prediction_accuracy", declared=tables.TABLE_SCHEMAS["prediction_accuracy"])
    assert again.sort("game_id", "player_lookup", "model_id").equals(rows.sort("game_id", "player_lookup", "model_id"))

    # planted fault: a duplicated prediction row fans the grade out -> the blocking unique check fails
    with duckdb.connect(str(store.path)) as con:
        con.execute(
            "INSERT INTO nba_props.predictions SELECT * FROM nba_props.predictions "
            f"WHERE game_date = DATE '{DAYS[0].isoformat()}' LIMIT 1"
        )
    summary = run_backfill(DAYS[0], DAYS[0], select=["prediction_accuracy"])
    assert "unique_key" in summary["prediction_accuracy"].get("failed_checks", []), summary


def test_the_demo_summary_from_the_table_equals_the_evaluation_of_the_same_rows():
    """The demo and the report read prediction_accuracy; their figures equal the in-memory grading's
    (a live game aside: the table holds no running score)."""
    from nba_props.lib.models.graded import realized_summary, summarize_graded, with_market_p_over

    predictions, box, schedule, lines = _frames()
    predictions = predictions.filter(pl.col("game_id") != "g_live")
    table = with_market_p_over(accuracy_rows(predictions, box, schedule, lines, RULES), lines)
    assert summarize_graded(table) == realized_summary(predictions, box, lines, schedule)
