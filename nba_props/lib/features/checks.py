"""Data-quality rules for `player_features`: plain functions returning the offending rows."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date

import polars as pl

from nba_props.lib.features.build import Block, build_player_features
from nba_props.lib.features.contract import FeatureContract
from nba_props.lib.features.inputs import KEY_COLUMNS, FeatureInputs
from nba_props.lib.injuries import REPORTED_AT, known_before_tip

# Columns of `leak_differences`: one row per (target, column) whose stored value differs.
LEAK_DIFF_SCHEMA = pl.Schema(
    {
        "game_date": pl.Date,
        "game_id": pl.Utf8,
        "player_lookup": pl.Utf8,
        "column": pl.Utf8,
        "stored": pl.Utf8,
        "rebuilt": pl.Utf8,
    }
)
# `column` value of a target present on one side only (stored but not rebuilt, or the reverse).
ROW_MISSING = "<row>"
_STORED, _REBUILT = "__leak_stored", "__leak_rebuilt"


def constant_feature_dates(rows: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """Dates on which a must-vary feature takes a single value across all ready players."""
    ready = rows.filter(pl.col("is_quality_ready"))
    if ready.height == 0:
        return pl.DataFrame(schema={"game_date": pl.Date, "feature": pl.Utf8})
    per_date = ready.group_by("game_date").agg(
        pl.col("game_id").n_unique().alias("games"),
        *[pl.col(c).n_unique().alias(c) for c in columns if c in ready.columns],
    )
    # A one-game date can legitimately show one value (two teams with equal records).
    long = (
        per_date.filter(pl.col("games") >= 2)
        .drop("games")
        .unpivot(index="game_date", variable_name="feature", value_name="n_unique")
    )
    return long.filter(pl.col("n_unique") <= 1).select("game_date", "feature")


# ---------------------------------------------------------------------------------------------
# the leak check: rebuild sampled dates from inputs cut strictly before each of them


def leak_sample_dates(dates: Iterable[date], n: int) -> list[date]:
    """`n` dates spread evenly over the distinct `dates` (sorted), always the first and the last;
    all of them when there are no more than `n`."""
    if n < 2:
        raise ValueError(f"the leak check samples at least 2 dates (first and last), got {n}")
    distinct = sorted(set(dates))
    if len(distinct) <= n:
        return distinct
    last = len(distinct) - 1
    return [distinct[round(i * last / (n - 1))] for i in range(n)]


def inputs_before(inputs: FeatureInputs, day: date) -> FeatureInputs:
    """What a build of `day` alone may see: box scores dated before it, player_lines rows dated
    before it plus the day's own candidates, the day's schedule rows only (no later dates) and
    the day's injury reports captured before the game's tip."""
    targets = inputs.targets.filter(pl.col("game_date") == day)
    schedule = inputs.schedule.filter(pl.col("game_date") == day)
    return FeatureInputs(
        targets=targets,
        box_history=inputs.box_history.filter(pl.col("game_date") < day),
        line_history=pl.concat(
            [inputs.line_history.filter(pl.col("game_date") < day), targets], how="diagonal_relaxed"
        ),
        schedule=schedule,
        injuries=_reports_before_tip(inputs.injuries.filter(pl.col("game_date") == day), schedule),
    )


def _reports_before_tip(injuries: pl.DataFrame, schedule: pl.DataFrame) -> pl.DataFrame:
    """The day's injury rows captured before the day's last tip (`lib.injuries.known_before_tip`).

    A single rebuild of a date cannot give each game its own report set, so the cut is the one
    no game of the day may cross: nothing captured after the last tip can be known before any
    tip. The per-game part (a report after an early game's tip still counts for a later game) is
    the production rule itself (`lib.injuries`), so the rebuild keeps those rows and must apply
    it identically; its own tests pin it. Unknown tips or capture times keep the row.
    """
    if injuries.height == 0 or REPORTED_AT not in injuries.columns:
        return injuries
    last_tip = schedule.select(pl.col("tip_time_utc").max()).item() if schedule.height else None
    if last_tip is None:
        return injuries
    return injuries.with_columns(__tip=pl.lit(last_tip)).filter(known_before_tip("__tip")).drop("__tip")


def leak_sample_targets(targets: pl.DataFrame, day: date, per_date: int, per_team: int) -> pl.DataFrame:
    """The rows of `targets` (one date's candidates) whose features the leak check rebuilds.

    A leak in an as-of join or a window shows on every player it touches, so a sample keeps the
    check's power: `per_team` players of every (game, team) of the date (each team and opponent
    side of the team-context joins is exercised), then more up to `per_date` rows in all (all of
    them when the date has no more). Deterministic: players are ranked by a hash of date and
    player (`_sample_rank`), never by their values."""
    if targets.height <= per_date:
        return targets
    team = pl.col("team") if "team" in targets.columns else pl.lit(None, dtype=pl.Utf8)
    rank = pl.Series("__rank", [_sample_rank(day, p) for p in targets.get_column("player_lookup")], dtype=pl.UInt64)
    ranked = targets.with_columns(rank).sort("__rank", *KEY_COLUMNS)
    forced = pl.int_range(pl.len()).over("game_id", team) < per_team
    ranked = ranked.with_columns(forced.alias("__forced"))
    n = max(per_date, ranked.get_column("__forced").sum())
    return (
        ranked.sort("__forced", "__rank", *KEY_COLUMNS, descending=[True, False, False, False, False])
        .head(n)
        .drop("__rank", "__forced")
    )


def _sample_rank(day: date, player: str) -> int:
    digest = hashlib.blake2b(f"{day.isoformat()}|{player}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def leak_differences(
    inputs: FeatureInputs,
    rows: pl.DataFrame,
    dates: Sequence[date],
    contract: FeatureContract,
    *,
    tolerance: float,
    feature_set: str = "v12",
    blocks: Mapping[str, Block] | None = None,
    all_players: bool = False,
) -> pl.DataFrame:
    """Rebuild each of `dates` alone from `inputs_before(inputs, day)` with the same blocks and
    compare every column of `rows` (values, `__source`, identity and quality columns) with the
    rebuild. Floats agree within `tolerance` (relative, at least absolute for |x| < 1); NULLs and
    NaNs agree with themselves. Returns one row per differing (target, column), in
    `LEAK_DIFF_SCHEMA`; a target on one side only is one row with column `ROW_MISSING`.

    Each date rebuilds the sample of its candidates `leak_sample_targets` picks with
    `contract.leak_check` (every candidate with `all_players`); their rows are compared cell by
    cell. The other stored rows of the date are matched by key against the date's candidates (a
    rebuild holds exactly one row per candidate), so a row on one side only is still reported.

    `rows` are the features as built for the whole run (histories of every date in memory): a
    block that reads rows dated on or after its target's date shows up as a difference.
    """
    if not dates:
        return pl.DataFrame(schema=LEAK_DIFF_SCHEMA)
    key = list(KEY_COLUMNS)
    sample = contract.leak_check
    rebuilt, sampled, candidates = [], [], []
    for day in dates:
        cut = inputs_before(inputs, day)
        chosen = (
            cut.targets
            if all_players
            else leak_sample_targets(cut.targets, day, sample.players_per_date, sample.players_per_team)
        )
        rebuilt.append(
            build_player_features(replace(cut, targets=chosen), contract, feature_set=feature_set, blocks=blocks)
        )
        sampled.append(chosen.select(key))
        candidates.append(cut.targets.select(key))
    sampled_keys = pl.concat(sampled)
    # One comparison for every date: game_date is part of the key, so a stored row only meets
    # the rebuild of its own date (and a sampled date missing on one side shows as ROW_MISSING).
    stored = rows.filter(pl.col("game_date").is_in(list(dates)))
    found = frame_differences(
        stored.join(sampled_keys, on=key, how="semi"), pl.concat(rebuilt, how="vertical"), tolerance
    )
    other_stored = stored.select(key).join(sampled_keys, on=key, how="anti")
    other_candidates = pl.concat(candidates).join(sampled_keys, on=key, how="anti")
    one_side = [
        other_stored.join(other_candidates, on=key, how="anti").with_columns(
            column=pl.lit(ROW_MISSING), stored=pl.lit("present"), rebuilt=pl.lit("absent")
        ),
        other_candidates.join(other_stored, on=key, how="anti").with_columns(
            column=pl.lit(ROW_MISSING), stored=pl.lit("absent"), rebuilt=pl.lit("present")
        ),
    ]
    return pl.concat(
        [pl.DataFrame(schema=LEAK_DIFF_SCHEMA), found, *[f.cast(LEAK_DIFF_SCHEMA) for f in one_side]]
    ).sort(*KEY_COLUMNS, "column")


def frame_differences(stored: pl.DataFrame, rebuilt: pl.DataFrame, tolerance: float) -> pl.DataFrame:
    """Cells of `stored` that differ from `rebuilt` (matched on KEY_COLUMNS, every other column of
    `rebuilt` compared), in `LEAK_DIFF_SCHEMA` with both values as text."""
    key = list(KEY_COLUMNS)
    schema = rebuilt.schema  # built anew by every `.schema` (~110 columns, three uses per column)
    columns = [c for c in rebuilt.columns if c not in key]
    missing = [c for c in columns if c not in stored.columns]
    if missing:  # stored rows from another contract: every target differs in those columns
        stored = stored.with_columns(pl.lit(None, dtype=schema[c]).alias(c) for c in missing)
    left = stored.select(*key, *columns, pl.lit(True).alias(_STORED))
    right = rebuilt.select(*key, *[pl.col(c).alias(f"{c}{_REBUILT}") for c in columns], pl.lit(True).alias(_REBUILT))
    joined = left.join(right, on=key, how="full", coalesce=True, nulls_equal=True)
    both = pl.col(_STORED).fill_null(False) & pl.col(_REBUILT).fill_null(False)
    joined = joined.with_columns(both.alias("__both"))
    one_side = joined.filter(~pl.col("__both")).select(
        *key,
        column=pl.lit(ROW_MISSING),
        stored=pl.when(pl.col(_STORED).fill_null(False)).then(pl.lit("present")).otherwise(pl.lit("absent")),
        rebuilt=pl.when(pl.col(_REBUILT).fill_null(False)).then(pl.lit("present")).otherwise(pl.lit("absent")),
    )
    differs = {c: ~_agree(pl.col(c), pl.col(f"{c}{_REBUILT}"), schema[c], tolerance) for c in columns}
    cells = joined.filter(pl.col("__both") & pl.any_horizontal(*differs.values()))
    if cells.height == 0:
        return one_side.cast(LEAK_DIFF_SCHEMA)
    long = {
        name: cells.select(*key, *[expr.alias(c) for c, expr in exprs.items()]).unpivot(
            index=key, variable_name="column", value_name=name
        )
        for name, exprs in (
            ("differs", differs),
            ("stored", {c: _text(pl.col(c), schema[c]) for c in columns}),
            ("rebuilt", {c: _text(pl.col(f"{c}{_REBUILT}"), schema[c]) for c in columns}),
        )
    }
    found = (
        long["differs"]
        .filter(pl.col("differs"))
        .join(long["stored"], on=[*key, "column"], how="left")
        .join(long["rebuilt"], on=[*key, "column"], how="left")
    )
    return (
        pl.concat([found.drop("differs"), one_side], how="vertical_relaxed")
        .cast(LEAK_DIFF_SCHEMA)
        .select(list(LEAK_DIFF_SCHEMA))
    )


def _agree(a: pl.Expr, b: pl.Expr, dtype: pl.DataType, tolerance: float) -> pl.Expr:
    both_null = a.is_null() & b.is_null()
    if dtype.is_float():
        both_nan = a.is_nan().fill_null(False) & b.is_nan().fill_null(False)
        scale = pl.max_horizontal(a.abs(), b.abs(), pl.lit(1.0))
        close = ((a - b).abs() <= tolerance * scale).fill_null(False)
        return both_null | both_nan | close | (a == b).fill_null(False)  # == covers equal infinities
    return a.eq_missing(b)


def _text(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    text = expr.list.join(",") if isinstance(dtype, pl.List) else expr.cast(pl.Utf8)
    return text.fill_null("NULL")


def leak_summary(differences: pl.DataFrame, dates: Sequence[date], max_players: int) -> dict[str, object]:
    """What the check's metadata says: dates rebuilt, dates / players / columns that differ
    (players: the first `max_players` in date order), and how many rows and cells."""
    d = differences
    return {
        "dates_checked": [day.isoformat() for day in sorted(dates)],
        "differing_dates": [day.isoformat() for day in d.get_column("game_date").unique().sort().to_list()],
        "differing_rows": d.select(KEY_COLUMNS).unique().height,
        "differing_cells": d.height,
        "differing_columns": {
            str(c): int(n)
            for c, n in d.group_by("column").len().sort("len", "column", descending=[True, False]).iter_rows()
        },
        "differing_players": d.select("game_date", "player_lookup")
        .unique()
        .sort("game_date", "player_lookup")
        .head(max_players)
        .select(pl.concat_str(pl.col("game_date").cast(pl.Utf8), pl.lit(" "), pl.col("player_lookup")))
        .to_series()
        .to_list(),
    }
