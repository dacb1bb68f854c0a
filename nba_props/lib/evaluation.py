"""Evaluation of graded predictions, per model family, and its markdown report.

`evaluate(graded)` takes one family's graded rows (`grading.grade` output joined with prices):
game_date, player_lookup, predicted_points, line, edge, direction, p_over, actual_points,
result, over_price, under_price, market_p_over (de-vigged; derived from the two prices when the
column is absent), recommendation. It returns a JSON-safe dict (floats rounded to 4 decimals,
NULL -> None):

- `n`: rows; `n_lined`: rows with a line and an actual (the MAE rows)
- `mae` = mean |predicted_points - actual|, `line_mae` = mean |line - actual| on those rows;
  `mae_ratio` = mae / line_mae (< 1: the model is closer to the outcome than the line)
- `brier` = mean (p_over - [actual > line])^2 over decided rows (result WIN/LOSS: a line, a
  direction, an actual, not a push, not void); `n_brier` rows
- `market_brier`: the same with the de-vigged market p_over, on the decided rows with prices
  (None if none); `brier_priced` is the model's Brier on exactly those rows (the fair
  comparison) and `n_market` their count
- `roi_edge3`: `grading.roi` of the picks with edge >= 3 at the price of the pick's side
  (over_price for OVER, under_price for UNDER); None when no such pick has a price
- `hr`: per edge floor e ("1", "3", "5"), the rows with edge >= e: wins, losses, pushes, voids,
  hr = wins / (wins + losses), ci_low / ci_high (Wilson 95%)
- `calibration`: ten fixed-width P(over) bins [0, 0.1), ..., [0.9, 1.0] over the decided
  rows: bin, n, mean_p (mean predicted P(over)), observed (share with actual > line)
- `by_direction`: OVER and UNDER picks at edge >= 3: n (= wins + losses, decided picks), wins,
  losses, hr

Edges are compared with a 1e-9 tolerance (an edge of exactly 3.0 counts at the floor 3).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import polars as pl

from nba_props.lib.grading import LOSS, PUSH, VOID, WIN, hit_rate, roi, wilson_interval
from nba_props.lib.lines import devig_over_prob

EDGE_FLOORS = (1, 3, 5)
ROI_EDGE = 3.0
DIRECTION_EDGE = 3.0
CALIBRATION_BINS = 10
EDGE_TOLERANCE = 1e-9
DIGITS = 4

OPTIONAL_COLUMNS = {
    "over_price": pl.Int32,
    "under_price": pl.Int32,
    "p_over": pl.Float64,
    "edge": pl.Float64,
    "direction": pl.Utf8,
    "result": pl.Utf8,
}


def _r(value: float | None, digits: int = DIGITS) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else round(value, digits)


def _key(floor: float) -> str:
    return f"{floor:g}"


def _prepare(graded: pl.DataFrame) -> pl.DataFrame:
    for name in ("predicted_points", "line", "actual_points"):
        if name not in graded.columns:
            raise KeyError(f"evaluate() needs column {name!r}")
    frame = graded.with_columns(
        pl.lit(None, dtype=dtype).alias(name) for name, dtype in OPTIONAL_COLUMNS.items() if name not in graded.columns
    )
    if "market_p_over" not in frame.columns:
        frame = frame.with_columns(market_p_over=devig_over_prob(pl.col("over_price"), pl.col("under_price")))
    return frame.with_columns(
        pl.col("predicted_points", "line", "actual_points", "p_over", "edge", "market_p_over").cast(pl.Float64)
    )


def _hr_block(rows: pl.DataFrame) -> dict[str, Any]:
    counts = {name: int((rows["result"] == value).sum()) for name, value in
              (("wins", WIN), ("losses", LOSS), ("pushes", PUSH), ("voids", VOID))}  # fmt: skip
    low, high = wilson_interval(counts["wins"], counts["wins"] + counts["losses"])
    return {**counts, "hr": _r(hit_rate(counts["wins"], counts["losses"])), "ci_low": _r(low), "ci_high": _r(high)}


def _at_edge(frame: pl.DataFrame, floor: float) -> pl.DataFrame:
    return frame.filter(pl.col("edge").is_not_null() & (pl.col("edge") >= floor - EDGE_TOLERANCE))


def _brier(rows: pl.DataFrame, column: str) -> float | None:
    if rows.height == 0:
        return None
    return rows.select(((pl.col(column) - pl.col("_over")) ** 2).mean()).item()


def _calibration_table(decided: pl.DataFrame) -> list[dict[str, Any]]:
    rows = decided.filter(pl.col("p_over").is_not_null()).with_columns(
        _bin=(pl.col("p_over") * CALIBRATION_BINS).floor().clip(0, CALIBRATION_BINS - 1).cast(pl.Int32)
    )
    grouped = rows.group_by("_bin").agg(n=pl.len(), mean_p=pl.col("p_over").mean(), observed=pl.col("_over").mean())
    stats = {r["_bin"]: r for r in grouped.to_dicts()}
    table = []
    for b in range(CALIBRATION_BINS):
        s = stats.get(b)
        low, high = b / CALIBRATION_BINS, (b + 1) / CALIBRATION_BINS
        table.append({
            "bin": f"{low:.1f}-{high:.1f}",
            "low": low,
            "high": high,
            "n": int(s["n"]) if s else 0,
            "mean_p": _r(s["mean_p"]) if s else None,
            "observed": _r(s["observed"]) if s else None,
        })  # fmt: skip
    return table


def evaluate(graded: pl.DataFrame, *, edge_floors: Iterable[float] = EDGE_FLOORS) -> dict[str, Any]:
    """The evaluation of one family's graded rows (see the module docstring for every figure)."""
    frame = _prepare(graded)
    actual, line, pred = pl.col("actual_points"), pl.col("line"), pl.col("predicted_points")

    lined = frame.filter(line.is_not_null() & actual.is_not_null() & pred.is_not_null())
    mae = lined.select((pred - actual).abs().mean()).item() if lined.height else None
    line_mae = lined.select((line - actual).abs().mean()).item() if lined.height else None
    ratio = mae / line_mae if mae is not None and line_mae else None

    decided = frame.filter(pl.col("result").is_in([WIN, LOSS])).with_columns(_over=(actual > line).cast(pl.Float64))
    model_rows = decided.filter(pl.col("p_over").is_not_null())
    priced = model_rows.filter(pl.col("market_p_over").is_not_null())

    picks3 = _at_edge(frame, ROI_EDGE)
    side_price = pl.when(pl.col("direction") == "OVER").then(pl.col("over_price")).when(
        pl.col("direction") == "UNDER"
    ).then(pl.col("under_price"))
    priced_picks = picks3.select(pl.col("result"), _price=side_price)
    roi_edge3 = roi(priced_picks["result"], priced_picks["_price"]) if priced_picks.height else None

    by_direction = {}
    for side in ("OVER", "UNDER"):
        rows = _at_edge(frame, DIRECTION_EDGE).filter(pl.col("direction") == side)
        wins, losses = int((rows["result"] == WIN).sum()), int((rows["result"] == LOSS).sum())
        by_direction[side] = {"n": wins + losses, "wins": wins, "losses": losses, "hr": _r(hit_rate(wins, losses))}

    return {
        "n": frame.height,
        "n_lined": lined.height,
        "mae": _r(mae),
        "line_mae": _r(line_mae),
        "mae_ratio": _r(ratio),
        "brier": _r(_brier(model_rows, "p_over")),
        "n_brier": model_rows.height,
        "market_brier": _r(_brier(priced, "market_p_over")),
        "brier_priced": _r(_brier(priced, "p_over")),
        "n_market": priced.height,
        "roi_edge3": _r(roi_edge3),
        "hr": {_key(floor): _hr_block(_at_edge(frame, float(floor))) for floor in edge_floors},
        "calibration": _calibration_table(decided),
        "by_direction": by_direction,
    }


# ---------------------------------------------------------------------------------------------
# markdown


def _fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{100 * value:.{digits}f}%"


def _hr_cell(block: dict[str, Any] | None) -> str:
    if not block:
        return "–"
    n = block["wins"] + block["losses"]
    if block["hr"] is None:
        return "– (0)"
    return f"{_pct(block['hr'])} ({n}) [{_pct(block['ci_low'])}–{_pct(block['ci_high'])}]"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def report_markdown(report: dict[str, Any]) -> str:
    """Markdown of {"champion": family_id, "families": {id: evaluate(...)}, "window": {...}}: a
    summary table of every family, then the champion's calibration and OVER/UNDER tables."""
    families: dict[str, dict[str, Any]] = report.get("families") or {}
    champion = report.get("champion")
    window = report.get("window") or {}
    lines = ["# Model evaluation", ""]
    if window:
        start, end = window.get("start"), window.get("end")
        span = f"{start} .. {end}" if start or end else ""
        extra = ", ".join(f"{k}: {v}" for k, v in window.items() if k not in ("start", "end"))
        lines.append(f"Window: {span}" + (f" ({extra})" if extra else ""))
    lines += [f"Champion: `{champion}`" if champion else "Champion: –", ""]

    floors = sorted({k for fam in families.values() for k in (fam.get("hr") or {})}, key=float)
    header = ["family", "N", "MAE", "line MAE", "ratio", *(f"HR@{k} (N) [95% CI]" for k in floors), "ROI@3",
              "Brier", "market Brier (model on same rows)"]  # fmt: skip
    rows = []
    for family_id, fam in families.items():
        name = f"**{family_id}** (champion)" if family_id == champion else family_id
        market = _fmt(fam.get("market_brier"), 4)
        if fam.get("market_brier") is not None:
            market += f" ({_fmt(fam.get('brier_priced'), 4)}, N={fam.get('n_market', 0)})"
        rows.append([
            name, str(fam.get("n", 0)), _fmt(fam.get("mae")), _fmt(fam.get("line_mae")), _fmt(fam.get("mae_ratio")),
            *(_hr_cell((fam.get("hr") or {}).get(k)) for k in floors),
            _pct(fam.get("roi_edge3")), _fmt(fam.get("brier"), 4), market,
        ])  # fmt: skip
    lines += ["## Summary", "", *_table(header, rows), ""]
    lines += ["HR: wins / (wins + losses) of picks with edge ≥ the floor (pushes and voids excluded); "
              "ROI at the real price of the pick's side, 1 unit per pick; Brier: P(over) vs actual > line.", ""]

    fam = families.get(champion) if champion else None
    if fam is None:
        lines += [f"The champion `{champion}` has no evaluated predictions in this window.", ""]
        return "\n".join(lines)
    cal_rows = [[c["bin"], str(c["n"]), _fmt(c["mean_p"]), _fmt(c["observed"])] for c in fam.get("calibration") or []]
    lines += [f"## Calibration of P(over): `{champion}`", "",
              *_table(["P(over) bin", "N", "mean predicted", "observed over rate"], cal_rows), ""]  # fmt: skip
    dir_rows = [[side, str(d["n"]), str(d["wins"]), str(d["losses"]), _pct(d["hr"])]
                for side, d in (fam.get("by_direction") or {}).items()]  # fmt: skip
    lines += [f"## OVER vs UNDER at edge ≥ 3: `{champion}`", "",
              *_table(["direction", "N", "wins", "losses", "HR"], dir_rows), ""]  # fmt: skip
    return "\n".join(lines)
