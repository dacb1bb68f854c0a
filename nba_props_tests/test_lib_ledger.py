"""The ledger's merge rules and invariant, and the grading of its picks (lib/ledger.py), on
hand-built best_bets rows: each status move at its tip boundary (now == tip counts as started),
late additions, withdrawal reasons, re-publication, published fields never rewritten, and
pick_accuracy's results / profit / counted flag computed by hand."""

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from nba_props.lib import ledger
from nba_props.lib.grading import ACCURACY_SCHEMA

DAY = date(2025, 11, 5)
TIP = datetime(2025, 11, 6, 0, 0, tzinfo=UTC)  # 19:00 ET on DAY
BEFORE = TIP - timedelta(hours=3)
AT_TIP = TIP
AFTER = TIP + timedelta(hours=6)


def bb(player: str, *, selected: bool = True, edge: float = 6.0, line: float = 20.5, direction: str = "OVER",
       model: str = "catboost_v12_2025-11-03", price: int | None = -110, rank: int | None = 1, tip=TIP,
       rejected_by=None, gate=False, gate_reason=None, day: date = DAY) -> dict:  # fmt: skip
    return {
        "game_date": day,
        "game_id": f"{day:%Y%m%d}_AAA_BBB",
        "player_lookup": player,
        "player_name": player.title(),
        "team": "AAA",
        "opponent": "BBB",
        "tip_time_utc": tip,
        "model_id": model,
        "family": model.rsplit("_", 1)[0],
        "predicted_points": line + (edge if direction == "OVER" else -edge),
        "line": line,
        "price": price,
        "edge": edge,
        "direction": direction,
        "signals": ["model_health", "high_edge"],
        "health_gate_active": gate,
        "health_gate_reason": gate_reason,
        "selected": selected,
        "rejected_by": rejected_by,
        "rank": rank if selected else None,
        "ultra": edge >= 6,
        "angles": ["High conviction"],
    }


def bets(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=ledger.BEST_BETS_CONTRACT)


EMPTY = pl.DataFrame(schema=ledger.LEDGER_SCHEMA)


def run(existing: pl.DataFrame, best: pl.DataFrame, now: datetime, run_id: str = "r"):
    rows, events = ledger.merge(existing, best, now=now, run_id=run_id, start=DAY, end=DAY)
    assert ledger.violations(existing, rows).height == 0
    return rows, events


def status(rows: pl.DataFrame) -> dict[str, str]:
    return dict(zip(rows["player_lookup"], rows["status"], strict=True))


def test_first_publication_appends_selected_picks_only():
    rows, events = run(EMPTY, bets(bb("a"), bb("b", rank=2), bb("c", selected=False, rejected_by="edge_floor")), BEFORE)
    assert status(rows) == {"a": "published", "b": "published"}
    assert rows["published_at"].to_list() == [BEFORE, BEFORE]
    assert rows["run_id"].to_list() == ["r", "r"]
    assert rows["withdrawn_at"].null_count() == 2
    assert sorted(events["event"]) == ["added", "added"]


def test_the_dates_first_publication_counts_even_after_the_games():
    rows, _ = run(EMPTY, bets(bb("a")), AFTER)
    assert status(rows) == {"a": "published"}


@pytest.mark.parametrize("now, expected", [(TIP - timedelta(microseconds=1), "published"), (AT_TIP, "late"),
                                            (AFTER, "late")])  # fmt: skip
def test_an_addition_to_a_published_date_after_its_tip_is_late(now, expected):
    first, _ = run(EMPTY, bets(bb("a")), BEFORE - timedelta(hours=5))
    rows, events = run(first, bets(bb("a"), bb("b", rank=2)), now, run_id="r2")
    assert status(rows) == {"a": "published", "b": expected}
    assert rows.filter(pl.col("player_lookup") == "b")["run_id"].item() == "r2"
    assert events["event"].to_list() == ["added" if expected == "published" else "late"]


def test_rerun_with_the_same_best_bets_changes_nothing():
    first, _ = run(EMPTY, bets(bb("a"), bb("b", rank=2)), BEFORE)
    again, events = run(first, bets(bb("a"), bb("b", rank=2)), BEFORE + timedelta(hours=1), run_id="r2")
    assert again.equals(first)
    assert events.height == 0


@pytest.mark.parametrize(
    "row, reason",
    [
        (None, ledger.REASON_MISSING),
        (bb("a", selected=False, rejected_by="quality_floor"), "filter: quality_floor"),
        (bb("a", selected=False, gate=True, gate_reason="champion BLOCKED on 2025-11-04", rejected_by="edge_floor"),
         "health gate: champion BLOCKED on 2025-11-04"),
        (bb("a", selected=False), ledger.REASON_NOT_SELECTED),
    ],
)  # fmt: skip
def test_a_pick_no_longer_selected_before_tip_is_withdrawn_with_its_reason(row, reason):
    first, _ = run(EMPTY, bets(bb("a")), BEFORE - timedelta(hours=1))
    rows, events = run(first, bets(*([row] if row else [])), BEFORE, run_id="r2")
    only = rows.row(0, named=True)
    assert (only["status"], only["withdrawn_at"], only["withdrawn_reason"]) == ("withdrawn", BEFORE, reason)
    assert only["published_at"] == BEFORE - timedelta(hours=1) and only["run_id"] == "r"
    assert events["event"].to_list() == ["withdrawn"]


@pytest.mark.parametrize("now", [AT_TIP, AFTER])
def test_after_tip_a_refused_pick_stays_published_and_is_counted_as_refused(now):
    first, _ = run(EMPTY, bets(bb("a")), BEFORE)
    rows, events = run(first, bets(), now)  # the source model's predictions vanished
    assert rows.equals(first)
    assert events["event"].to_list() == ["refused_after_tip"]


def test_a_withdrawn_pick_selected_again_before_tip_is_published_again_with_its_original_fields():
    first, _ = run(EMPTY, bets(bb("a", edge=6.0, line=20.5)), BEFORE - timedelta(hours=2), run_id="r1")
    withdrawn, _ = run(first, bets(), BEFORE - timedelta(hours=1), run_id="r2")
    # selected again, now from another model at another line: what was published stays
    back, events = run(withdrawn, bets(bb("a", edge=7.5, line=19.5, model="catboost_v9_2025-11-03")), BEFORE, "r3")
    row = back.row(0, named=True)
    assert row["status"] == "published" and row["withdrawn_at"] is None and row["withdrawn_reason"] is None
    assert (row["edge"], row["line"], row["model_id"], row["run_id"]) == (6.0, 20.5, "catboost_v12_2025-11-03", "r1")
    assert row["published_at"] == BEFORE - timedelta(hours=2)
    assert events["event"].to_list() == ["republished"]


def test_a_withdrawn_pick_selected_again_after_tip_stays_withdrawn():
    first, _ = run(EMPTY, bets(bb("a")), BEFORE - timedelta(hours=2))
    withdrawn, _ = run(first, bets(), BEFORE)
    rows, events = run(withdrawn, bets(bb("a")), AFTER)
    assert rows.equals(withdrawn)
    assert events["event"].to_list() == ["reselected_after_tip"]


def test_a_late_row_stays_late_and_a_changed_reselection_keeps_the_published_line():
    first, _ = run(EMPTY, bets(bb("a")), BEFORE)
    with_late, _ = run(first, bets(bb("a"), bb("b", rank=2)), AFTER)
    rows, events = run(with_late, bets(bb("a", line=22.5, rank=1), bb("b", rank=2)), AFTER + timedelta(hours=1))
    assert status(rows) == {"a": "published", "b": "late"}
    assert rows.filter(pl.col("player_lookup") == "a")["line"].item() == 20.5
    assert events["event"].to_list() == ["reselected_changed"]


def test_an_unknown_tip_counts_as_the_end_of_the_game_date():
    first, _ = run(EMPTY, bets(bb("a", tip=None)), BEFORE)
    midnight_et = ledger.unknown_tip_instant(DAY)
    assert midnight_et == datetime(2025, 11, 6, 5, 0, tzinfo=UTC)
    still_before, _ = run(first, bets(), midnight_et - timedelta(microseconds=1))
    assert status(still_before) == {"a": "withdrawn"}
    after, _ = run(first, bets(), midnight_et)
    assert status(after) == {"a": "published"}


def test_the_invariant_catches_a_lost_key_a_rewritten_field_and_a_forbidden_move():
    first, _ = run(EMPTY, bets(bb("a"), bb("b", rank=2), bb("c", rank=3)), BEFORE)
    tampered = pl.concat(
        [
            first.filter(pl.col("player_lookup") == "a").with_columns(line=pl.lit(21.5), angles=pl.lit(["x"])),
            first.filter(pl.col("player_lookup") == "b").with_columns(status=pl.lit("late")),
        ]
    )
    found = ledger.violations(first, tampered)
    assert dict(zip(found["player_lookup"], found["violation"], strict=True)) == {
        "a": "changed: line, angles",
        "b": "status published -> late",
        "c": "key lost",
    }
    assert ledger.violations(first, first).height == 0
    doubled = ledger.violations(first, pl.concat([first, first.filter(pl.col("player_lookup") == "c")]))
    assert doubled.select("player_lookup", "violation").rows() == [("c", "duplicate key")]


# ----------------------------------------------------------------------------- pick_accuracy


def accuracy(rows: list[dict]) -> pl.DataFrame:
    base = {c: None for c in ACCURACY_SCHEMA.names()}
    return pl.DataFrame([base | r for r in rows], schema=ACCURACY_SCHEMA)


def acc(player, actual, *, model="catboost_v12_2025-11-03", status="final", void=None, game=None):
    return {"game_date": DAY, "game_id": game or f"{DAY:%Y%m%d}_AAA_BBB", "player_lookup": player, "model_id": model,
            "actual_points": actual, "game_status": status, "void_reason": void}  # fmt: skip


def test_grade_picks_results_profit_and_counted_by_hand():
    picks, _ = run(
        EMPTY,
        bets(
            bb("w", direction="OVER", line=20.5, price=+150, rank=1),  # 25 > 20.5: WIN at +150 -> 1.5
            bb("l", direction="UNDER", line=20.5, price=None, rank=2),  # 25 > 20.5: LOSS, default -110
            bb("p", direction="OVER", line=20.0, rank=3),  # 20 == 20: PUSH
            bb("v", rank=4),  # final, box scores in, no row of his: DNP
            bb("o", direction="OVER", line=10.5, model="gone_model", rank=5),  # graded from another model's row
            bb("q", rank=6),  # no prediction_accuracy row at all, game not final: pending
        ),
        BEFORE,
    )
    picks = picks.with_columns(
        status=pl.when(pl.col("player_lookup") == "o").then(pl.lit("late")).otherwise(pl.col("status")),
        game_id=pl.when(pl.col("player_lookup") == "q").then(pl.lit("other_game")).otherwise(pl.col("game_id")),
    )
    rows = ledger.grade_picks(
        picks,
        accuracy(
            [
                acc("w", 25.0),
                acc("l", 25.0),
                acc("p", 20.0),
                acc("v", None, void="DNP"),
                acc("o", 12.0, model="catboost_v9_2025-11-03"),
                acc("z", None, status="live", game="other_game"),
            ]
        ),  # fmt: skip
        default_price=-110,
    )
    got = {r["player_lookup"]: r for r in rows.iter_rows(named=True)}
    assert {p: got[p]["result"] for p in got} == {"w": "WIN", "l": "LOSS", "p": "PUSH", "v": "VOID", "o": "WIN",
                                                  "q": None}  # fmt: skip
    assert got["v"]["void_reason"] == "DNP"
    assert got["w"]["profit"] == pytest.approx(1.5) and got["l"]["profit"] == -1.0 and got["p"]["profit"] is None
    assert (got["l"]["price"], got["l"]["default_priced"], got["w"]["default_priced"]) == (-110, True, False)
    assert got["o"]["graded_from"] == "player_game" and got["w"]["graded_from"] == "model"
    assert got["q"]["graded_from"] is None
    assert not got["o"]["counted"] and all(got[p]["counted"] for p in "wlpvq")
    figures = rows.select(**ledger.record_figures()).row(0, named=True)
    assert (figures["wins"], figures["losses"], figures["pushes"], figures["voids"], figures["pending"]) == (
        1, 1, 1, 1, 1,
    )  # fmt: skip
    assert figures["hit_rate"] == 0.5 and figures["roi"] == pytest.approx((1.5 - 1.0) / 2)
    assert figures["not_counted"] == 1
