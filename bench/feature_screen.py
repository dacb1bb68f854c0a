"""Research: screen candidate features through the production fit before building them into the
platform (issue 13, item 5: "opponent's points allowed to the player's position" and "travel"),
on a season that is NOT an evaluation window (default: the 2023-24 regular season).

Each candidate is computed here from the warehouse's box scores and schedule (and, for position,
`<data>/reference/positions/player_positions_<season>.csv`), strictly from games before the row's
date, and added to `--family`'s feature set in an in-memory copy of the feature contract. Every
`--every`-th Monday is trained with `runner.train_weeks` (the production fit: split, early
stopping, refit, calibration, gates) and its week predicted with `runner.predict_days`, once per
variant. The MAE against actual points is over the rows every variant predicted; `weekly` counts
the weeks a variant is lower than the base. Nothing here is a platform feature: a candidate that
earns its place is built as one (contract entry, asset code, leak test) afterwards.

Candidates:
- `opp_pos_points_allowed_rel`: the opponent's points allowed to the player's simple position
  (G / F / C) per game over its last `--pos-games` games before the date, relative to the league's
  per-team-game average for that position over the `--league-days` days before the date (-1..);
- `travel_km`, `time_zones_crossed`: great-circle km and signed hours of longitude from the arena
  of the team's previous game (this season) to this game's arena; NULL at the season's first game.

The script checks its own candidates are pre-game: for `--leak-dates` sampled dates it rebuilds
them from box scores and schedule rows strictly before the date (plus that date's own schedule,
known in advance) and requires the same values.

Usage: .venv/bin/python bench/feature_screen.py --warehouse W [--data ../shared/data/nba]
       [--start 2023-10-30 --end 2024-04-14] [--family v12_noveg_mae] [--every 2]
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_DATA  # noqa: E402
from walk_forward import _load, _override  # noqa: E402

from nba_props.io.artifacts import LocalArtifactStore  # noqa: E402
from nba_props.lib.features.contract import FeatureContract, load_contract  # noqa: E402
from nba_props.lib.models import runner  # noqa: E402
from nba_props.lib.models.registry import load_models_config  # noqa: E402
from nba_props.seasons import week_starts  # noqa: E402

# Arena (latitude, longitude) of each team's home games in 2023-24 (public facts; the Clippers
# moved to Inglewood in 2024-25, which a later season's screen would need to reflect).
ARENAS = {
    "ATL": (33.757, -84.396), "BOS": (42.366, -71.062), "BKN": (40.683, -73.976), "CHA": (35.225, -80.839),
    "CHI": (41.881, -87.674), "CLE": (41.496, -81.688), "DAL": (32.790, -96.810), "DEN": (39.749, -105.008),
    "DET": (42.341, -83.055), "GSW": (37.768, -122.388), "HOU": (29.751, -95.362), "IND": (39.764, -86.156),
    "LAC": (34.043, -118.267), "LAL": (34.043, -118.267), "MEM": (35.138, -90.051), "MIA": (25.781, -80.188),
    "MIL": (43.045, -87.917), "MIN": (44.979, -93.276), "NOP": (29.949, -90.082), "NYK": (40.751, -73.993),
    "OKC": (35.463, -97.515), "ORL": (28.539, -81.384), "PHI": (39.901, -75.172), "PHX": (33.446, -112.071),
    "POR": (45.532, -122.667), "SAC": (38.580, -121.500), "SAS": (29.427, -98.437), "TOR": (43.643, -79.379),
    "UTA": (40.768, -111.901), "WAS": (38.898, -77.021),
}  # fmt: skip
EARTH_KM = 6371.0
POSITION = ["opp_pos_points_allowed_rel"]
TRAVEL = ["travel_km", "time_zones_crossed"]
VARIANTS = {"base": [], "position": POSITION, "travel": TRAVEL, "both": POSITION + TRAVEL}
KEYS = ["game_date", "game_id", "player_lookup"]


def load_inputs(warehouse: str, data: Path, end: date) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Box scores (with each player's simple position), the schedule, the positions reference."""
    with duckdb.connect(warehouse, read_only=True) as con:
        box = con.sql(
            "select game_date, game_id, season, player_id, player_lookup, team, opponent, played, points "
            f"from nba_props.box_scores where game_date <= '{end}'"
        ).pl()
        schedule = con.sql(
            f"select game_date, game_id, season, home_team, away_team from nba_props.schedule where game_date <= '{end}'"
        ).pl()
    files = sorted((data / "reference" / "positions").glob("player_positions_*.csv"))
    if not files:
        raise SystemExit(f"no positions reference under {data / 'reference' / 'positions'}")
    positions = (
        pl.concat(
            pl.read_csv(
                f, columns=["PLAYER_ID", "POSITION_SIMPLE"], schema_overrides={"PLAYER_ID": pl.Int64}
            ).with_columns(season=pl.lit(f.stem.removeprefix("player_positions_")))
            for f in files
        )
        .rename({"PLAYER_ID": "player_id", "POSITION_SIMPLE": "position"})
        .unique(["season", "player_id"], keep="first")
    )
    box = box.with_columns(pl.col("player_id").cast(pl.Int64)).join(positions, on=["season", "player_id"], how="left")
    return box, schedule, positions


def position_feature(box: pl.DataFrame, rows: pl.DataFrame, *, games: int, league_days: int) -> pl.DataFrame:
    """`opp_pos_points_allowed_rel` for `rows` (game_date, game_id, player_lookup, opponent,
    position), from box-score games strictly before each row's date."""
    scored = box.filter(pl.col("played") & pl.col("position").is_not_null() & pl.col("points").is_not_null())
    # points each defense allowed to each position in each of its games (0 when none scored)
    per_game = (
        scored.group_by("opponent", "game_id", "game_date", "position")
        .agg(allowed=pl.col("points").sum())
        .rename({"opponent": "defense"})
    )
    games_of = box.select(defense=pl.col("opponent"), game_id="game_id", game_date="game_date").unique()
    grid = games_of.join(pl.DataFrame({"position": ["G", "F", "C"]}), how="cross")
    per_game = grid.join(per_game, on=["defense", "game_id", "game_date", "position"], how="left").with_columns(
        pl.col("allowed").fill_null(0.0)
    )
    # defense's mean over its last `games` games up to and including each game; read as of the
    # newest game strictly before the row's date
    defense = per_game.sort("defense", "position", "game_date").with_columns(
        defense_avg=pl.col("allowed").rolling_mean(games, min_samples=max(3, games // 2)).over("defense", "position")
    )
    # league: per position, the mean per team-game over the `league_days` days before a date
    daily = per_game.group_by("game_date", "position").agg(total=pl.col("allowed").sum(), n=pl.len())
    dates = rows.select("game_date").unique()
    league = (
        dates.join(daily, how="cross", suffix="_g")
        .filter(
            (pl.col("game_date_g") < pl.col("game_date"))
            & (pl.col("game_date_g") >= pl.col("game_date") - timedelta(days=league_days))
        )
        .group_by("game_date", "position")
        .agg(league_avg=pl.col("total").sum() / pl.col("n").sum())
    )
    asof = (
        rows.select("game_date", "opponent", "position").unique().drop_nulls()
        .sort("game_date")
        .join_asof(
            defense.select("game_date", "position", "defense_avg", opponent="defense").sort("game_date"),
            on="game_date", by=["opponent", "position"], strategy="backward", allow_exact_matches=False, check_sortedness=False,
        )
        .join(league, on=["game_date", "position"], how="left")
        .with_columns(opp_pos_points_allowed_rel=pl.col("defense_avg") / pl.col("league_avg") - 1.0)
    )  # fmt: skip
    return rows.join(
        asof.select("game_date", "opponent", "position", "opp_pos_points_allowed_rel"),
        on=["game_date", "opponent", "position"],
        how="left",
    ).select(*KEYS, "opp_pos_points_allowed_rel")


def travel_feature(schedule: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """`travel_km` and `time_zones_crossed` for `rows` (game_date, game_id, player_lookup, team):
    from the arena of the team's previous game this season to this game's arena."""
    arenas = pl.DataFrame(
        {"arena": list(ARENAS), "lat": [v[0] for v in ARENAS.values()], "lon": [v[1] for v in ARENAS.values()]}
    )
    team_games = (
        pl.concat([
            schedule.select("game_date", "game_id", "season", team="home_team", arena="home_team"),
            schedule.select("game_date", "game_id", "season", team="away_team", arena="home_team"),
        ])
        .join(arenas, on="arena", how="left")
        .sort("team", "game_date")
        .with_columns(prev_lat=pl.col("lat").shift(1).over("team", "season"),
                      prev_lon=pl.col("lon").shift(1).over("team", "season"))
    )  # fmt: skip
    missing = team_games.filter(pl.col("lat").is_null())["arena"].unique().to_list()
    if missing:
        raise SystemExit(f"no arena coordinates for {missing}")
    half = ((pl.col("lat") - pl.col("prev_lat")).radians() / 2).sin() ** 2 + pl.col("lat").radians().cos() * pl.col(
        "prev_lat"
    ).radians().cos() * ((pl.col("lon") - pl.col("prev_lon")).radians() / 2).sin() ** 2
    team_games = team_games.with_columns(
        travel_km=2 * EARTH_KM * half.sqrt().arcsin(),
        time_zones_crossed=(pl.col("lon") - pl.col("prev_lon")) / 15.0,
    )
    return rows.join(
        team_games.select("game_id", "team", "travel_km", "time_zones_crossed"), on=["game_id", "team"], how="left"
    ).select(*KEYS, *TRAVEL)


def candidates(box, schedule, rows, args) -> pl.DataFrame:
    pos = position_feature(box, rows, games=args.pos_games, league_days=args.league_days)
    travel = travel_feature(schedule, rows)
    return pos.join(travel, on=KEYS, how="left")


def leak_check(box, schedule, rows, built: pl.DataFrame, args, n_dates: int) -> int:
    """Rebuild the candidates of sampled dates from inputs strictly before each date (its own
    schedule aside) and compare; returns the number of rows compared."""
    dates = sorted(rows["game_date"].unique().to_list())
    sample = [dates[round(i * (len(dates) - 1) / max(1, n_dates - 1))] for i in range(n_dates)]
    compared = 0
    for day in sample:
        day_rows = rows.filter(pl.col("game_date") == day)
        cut_box = box.filter(pl.col("game_date") < day)
        cut_schedule = schedule.filter(pl.col("game_date") <= day)
        rebuilt = candidates(cut_box, cut_schedule, day_rows, args).sort(KEYS)
        stored = built.join(day_rows.select(KEYS), on=KEYS, how="semi").sort(KEYS)
        for column in POSITION + TRAVEL:
            a, b = stored[column], rebuilt[column]
            same = ((a - b).abs() < 1e-9) | (a.is_null() & b.is_null())
            if not same.all():
                raise SystemExit(f"leak check: {column} on {day} differs when rebuilt from the past alone")
        compared += day_rows.height
    return compared


def with_candidates(contract: FeatureContract, set_name: str, names: list[str]) -> FeatureContract:
    """A copy of the contract whose `set_name` also holds `names` (signal features added)."""
    if not names:
        return contract
    raw = contract.model_dump(mode="python")
    specs = {
        "opp_pos_points_allowed_rel": ("opponent's points allowed to the position vs league", "ratio", -1.0, 5.0),
        "travel_km": ("km from the previous game's arena", "km", 0.0, 6000.0),
        "time_zones_crossed": ("signed hours of longitude from the previous game's arena", "hours", -4.0, 4.0),
    }
    for name in names:
        description, unit, low, high = specs[name]
        raw["features"] = [*raw["features"], {
            "name": name, "description": description, "unit": unit, "min": low, "max": high, "default": None,
            "required": False, "sets": [], "category": "game_context", "block": "team_context",
        }]  # fmt: skip
    spec = raw["sets"][set_name]
    if spec.get("extends"):
        spec["adds"] = (*spec["adds"], *names)
    else:
        raise SystemExit(f"{set_name} is not an extension set; the screen adds to extension sets only")
    return FeatureContract.model_validate(raw)


def main() -> int:
    parser = argparse.ArgumentParser(description="research: screen candidate features walk-forward")
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2023, 10, 30))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2024, 4, 14))
    parser.add_argument("--family", default="v12_noveg_mae")
    parser.add_argument("--every", type=int, default=2, help="train every N-th Monday of the range")
    parser.add_argument("--pos-games", type=int, default=10)
    parser.add_argument("--league-days", type=int, default=30)
    parser.add_argument("--leak-dates", type=int, default=6)
    args = parser.parse_args()
    started = time.perf_counter()

    base = load_models_config()
    contract = load_contract()
    set_name = base.family(args.family).feature_set
    features, box_model, lines = _load(args.warehouse, args.end)
    box, schedule, positions = load_inputs(args.warehouse, args.data, args.end)
    rows = features.select(*KEYS, "team", "opponent", player_id=pl.col("player_id").cast(pl.Int64), season="season")
    rows = rows.join(positions, on=["season", "player_id"], how="left")
    built = candidates(box, schedule, rows, args)
    leak_rows = leak_check(box, schedule, rows, built, args, args.leak_dates)
    features = features.join(built, on=KEYS, how="left")
    in_range = built.join(features.filter(pl.col("game_date").is_between(args.start, args.end)).select(KEYS),
                          on=KEYS, how="semi")  # fmt: skip
    coverage = {c: round(1 - in_range[c].null_count() / max(1, in_range.height), 4) for c in POSITION + TRAVEL}

    weeks = week_starts(args.start, args.end)[:: args.every]
    truth = box_model.filter(pl.col("played") & pl.col("points").is_not_null()).select(
        "game_id", "player_lookup", actual=pl.col("points").cast(pl.Float64)
    )
    frames = []
    for variant, names in VARIANTS.items():
        config = _override(base, [], [variant], [f"{variant}={args.family}"])
        variant_contract = with_candidates(contract, set_name, names)
        store = LocalArtifactStore(tempfile.mkdtemp(prefix=f"feature-screen-{variant}-"))
        trained = runner.train_weeks(features, box_model, weeks, config, variant_contract, store, lines=lines)
        served = runner.with_line_markets(features, lines)
        for week in weeks:
            out = runner.predict_days(
                served, trained.registry, config, store, start=week, end=week + timedelta(days=6), lines=lines,
                contract=variant_contract,
            )  # fmt: skip
            frames.append(out.predictions.with_columns(variant=pl.lit(variant)))
        print(
            f"{variant}: trained {trained.registry.height} models ({time.perf_counter() - started:.0f} s)", flush=True
        )
    preds = pl.concat(frames, how="diagonal_relaxed").join(truth, on=["game_id", "player_lookup"], how="inner")
    common = preds.group_by("game_id", "player_lookup").agg(pl.col("variant").n_unique().alias("k"))
    preds = preds.join(common.filter(pl.col("k") == len(VARIANTS)).select("game_id", "player_lookup"),
                       on=["game_id", "player_lookup"], how="semi")  # fmt: skip
    error = (pl.col("predicted_points") - pl.col("actual")).abs()
    overall = preds.group_by("variant").agg(n=pl.len(), mae=error.mean())
    weekly = (
        preds.with_columns(week=pl.col("game_date").dt.truncate("1w"))
        .group_by("week", "variant")
        .agg(mae=error.mean())
        .pivot("variant", index="week", values="mae")
        .sort("week")
    )
    base_mae = dict(zip(overall["variant"], overall["mae"], strict=True))["base"]
    result = {"bench": "feature_screen", "family": args.family, "feature_set": set_name,
              "range": [str(args.start), str(args.end)], "weeks": [str(w) for w in weeks],
              "coverage": coverage, "leak_check_rows": leak_rows, "variants": {}}  # fmt: skip
    for row in overall.sort("variant").iter_rows(named=True):
        lower = int((weekly[row["variant"]] < weekly["base"]).sum()) if row["variant"] != "base" else None
        result["variants"][row["variant"]] = {
            "adds": VARIANTS[row["variant"]], "n": row["n"], "mae": round(row["mae"], 4),
            "delta_vs_base": round(row["mae"] - base_mae, 4), "weeks_lower_than_base": lower,
        }  # fmt: skip
        print(f"{row['variant']:>9}: MAE {row['mae']:.4f} over {row['n']} rows "
              f"({row['mae'] - base_mae:+.4f} vs base; lower in {lower} of {weekly.height} weeks)")  # fmt: skip
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
