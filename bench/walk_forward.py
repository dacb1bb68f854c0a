"""Research: a walk-forward of chosen model families over a window of an existing warehouse,
without Dagster, through the same library code the assets run (`runner.train_weeks`,
`runner.predict_days`), scored with the evaluation's yardsticks (issue 13).

The warehouse is one that `nba-props evaluate` (or a backfill) built: player_features,
box_scores and player_lines of the window and of the history before it. Families come from
config/models.yaml (`--families`) with optional overrides (`--set family.key=value`, e.g.
`--set v12_noveg_mae.window_game_days=400`), so an experiment never edits the YAML.

Figures per family (lined, not quarantined rows with a result; recommended = OVER/UNDER):
MAE ratio vs the line, HR of recommended picks at edge >= 3 and at the family's threshold
(N, Wilson 95% CI), top-5 per day vs the last-5 rule's top-5 on the same days, Brier vs the
de-vigged market on priced rows, and the last-5 rule at edge >= 3 on the same rows.

Usage: .venv/bin/python bench/walk_forward.py --warehouse W --start D1 --end D2 [--families a,b] [--set f.k=v]
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from datetime import date

import duckdb
import polars as pl

from nba_props.io.artifacts import LocalArtifactStore
from nba_props.lib.features.contract import load_contract
from nba_props.lib.grading import wilson_interval
from nba_props.lib.models import runner
from nba_props.lib.models.registry import load_models_config
from nba_props.seasons import week_starts


def _load(path: str, end: date) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    with duckdb.connect(path, read_only=True) as con:
        features = con.sql(f"select * from nba_props.player_features where game_date <= '{end}'").pl()
        box = con.sql(
            f"select game_date, game_id, player_lookup, played, points, minutes, starter, team "
            f"from nba_props.box_scores where game_date <= '{end}'"
        ).pl()
        lines = con.sql(
            "select game_id, player_lookup, market_type, over_price, under_price, implied_over_prob, "
            f"line_captured_at, tip_time_utc from nba_props.player_lines where game_date <= '{end}'"
        ).pl()
    return features, box, lines


def _override(config, sets: list[str], families: list[str] | None, copies: list[str]):
    raw = config.model_dump(mode="python")
    by_id = {f["id"]: f for f in raw["families"]}
    for item in copies:  # new=existing: a copy to override
        new, old = item.split("=", 1)
        by_id[new] = {**json.loads(json.dumps(by_id[old], default=str)), "id": new, "role": "challenger"}
    for item in sets:
        key, value = item.split("=", 1)
        family, *path = key.split(".")
        if family not in by_id:
            raise SystemExit(f"unknown family {family}")
        target = by_id[family]
        for part in path[:-1]:
            target = target.setdefault(part, {})
        try:
            target[path[-1]] = json.loads(value)  # numbers, true / false, lists
        except json.JSONDecodeError:
            target[path[-1]] = value  # a plain string: line, v13_noveg, ...
    if families:
        raw["families"] = [by_id[f] for f in families]
        raw["champion"] = families[0]
        for f in raw["families"]:
            f["role"] = "champion" if f["id"] == families[0] else "challenger"
    for f in raw["families"]:
        f["enabled"] = True
    return type(config).model_validate(raw)


def _hr(frame: pl.DataFrame) -> dict:
    wins = int(frame.filter(pl.col("win")).height)
    n = frame.height
    low, high = wilson_interval(wins, n) if n else (None, None)
    return {"n": n, "hr": round(wins / n, 4) if n else None, "ci": [round(low, 3), round(high, 3)] if n else None}


def score(predictions: pl.DataFrame, truth: pl.DataFrame, top_k: int = 5) -> dict:
    rows = (
        predictions.filter(~pl.col("quarantined") & pl.col("line").is_not_null())
        .join(truth, on=["game_id", "player_lookup"], how="inner")
        .with_columns(over=pl.col("actual") > pl.col("line"), push=pl.col("actual") == pl.col("line"))
        .with_columns(win=pl.when(pl.col("direction") == "OVER").then(pl.col("over")).otherwise(~pl.col("over")))
    )
    out: dict = {"n_lined": rows.height}
    if rows.height == 0:
        return out
    out["mae"] = round(rows.select((pl.col("predicted_points") - pl.col("actual")).abs().mean()).item(), 4)
    out["line_mae"] = round(rows.select((pl.col("line") - pl.col("actual")).abs().mean()).item(), 4)
    out["mae_ratio"] = round(out["mae"] / out["line_mae"], 4)
    decided = rows.filter(~pl.col("push"))
    rec = decided.filter(pl.col("recommendation").is_in(["OVER", "UNDER"]))
    out["hr_recommended"] = _hr(rec)
    out["hr_edge3"] = _hr(rec.filter(pl.col("edge") >= 3))
    top = (
        rec.sort(["game_date", "edge", "game_id", "player_lookup"], descending=[False, True, False, False])
        .group_by("game_date", maintain_order=True)
        .head(top_k)
    )
    out["top5"] = _hr(top)
    days = top.get_column("game_date").unique()
    last5 = (
        decided.filter(pl.col("points_avg_last_5").is_not_null())
        .with_columns(b_edge=(pl.col("points_avg_last_5") - pl.col("line")).abs())
        .with_columns(
            win=pl.when(pl.col("points_avg_last_5") > pl.col("line")).then(pl.col("over")).otherwise(~pl.col("over"))
        )
    )
    out["last5_edge3"] = _hr(last5.filter(pl.col("b_edge") >= 3))
    last5_top = (
        last5.filter(pl.col("game_date").is_in(days.implode()))
        .sort(["game_date", "b_edge", "game_id", "player_lookup"], descending=[False, True, False, False])
        .group_by("game_date", maintain_order=True)
        .head(top_k)
    )
    out["last5_top5_same_days"] = _hr(last5_top)
    priced = decided.filter(pl.col("implied_over_prob").is_not_null() & pl.col("p_over").is_not_null())
    o = pl.col("over").cast(pl.Float64)
    out["brier"] = round(decided.select(((pl.col("p_over") - o) ** 2).mean()).item(), 4)
    if priced.height:
        out["brier_priced"] = round(priced.select(((pl.col("p_over") - o) ** 2).mean()).item(), 4)
        out["market_brier"] = round(priced.select(((pl.col("implied_over_prob") - o) ** 2).mean()).item(), 4)
        out["n_priced"] = priced.height
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description="research: walk-forward of model families")
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--start", type=date.fromisoformat, required=True)
    parser.add_argument("--end", type=date.fromisoformat, required=True)
    parser.add_argument("--families", default=None, help="comma-separated family ids (default: enabled)")
    parser.add_argument("--set", action="append", default=[], help="family.key=value override (repeatable)")
    parser.add_argument("--copy", action="append", default=[], help="new=existing: a family copied (repeatable)")
    parser.add_argument("--out", default=None, help="write the predictions (parquet) here")
    args = parser.parse_args()

    started = time.perf_counter()
    config = _override(load_models_config(), args.set, args.families.split(",") if args.families else None, args.copy)
    contract = load_contract()
    features, box, lines = _load(args.warehouse, args.end)
    loaded = time.perf_counter() - started
    weeks = week_starts(args.start, args.end)
    store = LocalArtifactStore(tempfile.mkdtemp(prefix="walk-forward-"))
    trained = runner.train_weeks(features, box, weeks, config, contract, store, lines=lines)
    train_s = time.perf_counter() - started - loaded
    with_markets = runner.with_line_markets(features, lines)
    predicted = runner.predict_days(
        with_markets, trained.registry, config, store, start=args.start, end=args.end, lines=lines, contract=contract
    )
    truth = box.filter(pl.col("played") & pl.col("points").is_not_null()).select(
        "game_id", "player_lookup", actual=pl.col("points").cast(pl.Float64)
    )
    extra = with_markets.select("game_id", "player_lookup", "points_avg_last_5", "implied_over_prob")
    preds = predicted.predictions.join(extra, on=["game_id", "player_lookup"], how="left")
    if args.out:
        preds.write_parquet(args.out)
    result: dict = {"bench": "walk_forward", "window": [str(args.start), str(args.end)], "weeks": len(weeks)}
    for family in config.families:
        frame = preds.filter(pl.col("family") == family.id)
        figures = score(frame, truth)
        serving = trained.registry.filter(pl.col("family") == family.id)
        figures["weeks_serving"] = int(serving.filter(pl.col("lifecycle_state").is_in(runner.SERVING_STATES)).height)
        figures["weeks_trained"] = serving.height
        result[family.id] = figures
        print(family.id, json.dumps(figures))
    result["train_s"] = round(train_s, 1)
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, default=lambda v: None if isinstance(v, float) and math.isnan(v) else str(v)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
