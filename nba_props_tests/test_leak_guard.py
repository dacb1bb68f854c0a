"""The blocking `leak_free` check of `player_features` can fail.

A single-run backfill holds the box scores of every date of its range while it builds the
earlier dates. A feature block whose as-of join also matches same-day rows (planted here as a
test-only variant of the player-history block) changes the features of every date but the last,
so a check that rebuilds only the last date never sees it. The check rebuilds a sample of
dates spread over the range, each from inputs cut strictly before it, and must catch it —
through the asset's own check code path, on the simulated league and on real data.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from pydantic import ValidationError

from nba_props.lib import schemas
from nba_props.lib.features.build import build_player_features
from nba_props.lib.features.checks import (
    LEAK_DIFF_SCHEMA,
    ROW_MISSING,
    frame_differences,
    inputs_before,
    leak_differences,
    leak_sample_dates,
    leak_sample_targets,
    leak_summary,
)
from nba_props.lib.features.contract import FeatureContract, load_contract
from nba_props.lib.features.inputs import KEY_COLUMNS, FeatureInputs
from nba_props.lib.features.player_history import (
    MIN_GAMES,
    feature_pair,
    player_game_log,
    player_history_features,
    target_frame,
)
from nba_props.lib.lines import build_player_lines, load_line_config
from nba_props.lib.sources.files import FilesProvider

CONTRACT = load_contract()
LEAK = CONTRACT.leak_check
PLANTED = "points_avg_last_5"


# ---------------------------------------------------------------------------------------------
# the planted leak: a test-only variant of the player-history block


def player_history_with_same_day_games(inputs: FeatureInputs) -> pl.DataFrame:
    """The library block, except that `points_avg_last_5` comes from an as-of join that also
    matches the target date's own box-score rows (`allow_exact_matches=True`)."""
    honest = player_history_features(inputs)
    log = player_game_log(inputs.box_history).select("player_lookup", "game_date", "n", "w5_pts").sort("game_date")
    joined = target_frame(inputs.targets).join_asof(
        log, on="game_date", by="player_lookup", strategy="backward", allow_exact_matches=True, check_sortedness=False
    )
    count = pl.min_horizontal(pl.col("n"), pl.lit(5))
    leaky = joined.select(
        *KEY_COLUMNS, *feature_pair(PLANTED, pl.col("w5_pts") / count, count >= MIN_GAMES[5], "box_scores")
    )
    return honest.drop(PLANTED, f"{PLANTED}__source").join(leaky, on=list(KEY_COLUMNS), how="left")


LEAKY_BLOCKS = {"player_history": player_history_with_same_day_games}


# ---------------------------------------------------------------------------------------------
# what a single-run backfill of [start, end] hands the asset (the partition mappings' windows)


def backfill_inputs(provider: FilesProvider, start: date, end: date) -> dict[str, pl.DataFrame]:
    """The asset's inputs for one run over [start, end]: player_lines of [start - 120, end] (built in
    one run, as the player_lines backfill does), box scores of [start - 640, end - 1], and the
    range's schedule and injury reports."""
    from nba_props.defs.features.assets import WINDOWS

    config = load_line_config()
    lines_start = start - timedelta(days=WINDOWS.features_lines)
    candidate_lines = build_player_lines(
        provider.prop_line_snapshots(lines_start - timedelta(days=WINDOWS.lines_snapshots), end).rows,
        provider.schedule(lines_start, end).rows,
        provider.box_scores(lines_start - timedelta(days=WINDOWS.lines_box_scores), end).rows,
        provider.injury_report(lines_start, end).rows,
        start=lines_start,
        end=end,
        config=config,
    )
    return {
        "candidate_lines": candidate_lines,
        "box_history": provider.box_scores(
            start - timedelta(days=WINDOWS.features_box_scores), end - timedelta(days=1)
        ).rows,
        "schedule": provider.schedule(start, end).rows,
        "injuries": provider.injury_report(start, end).rows,
    }


class FramesIOManager(dg.IOManager):
    """Hands each upstream asset's prepared frame to the asset and keeps what it stores."""

    def __init__(self, frames: dict[str, pl.DataFrame]):
        self.frames, self.stored = frames, {}

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        self.stored[context.asset_key.path[-1]] = obj

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        return self.frames[context.asset_key.path[-1]]


UPSTREAM = {
    "candidate_lines": "player_lines",
    "box_history": "box_scores",
    "schedule": "schedule",
    "injuries": "injury_report",
}


def run_asset(asset: dg.AssetsDefinition, start: date, end: date, inputs: dict[str, pl.DataFrame]):
    """Materialize the asset over [start, end] as one run (a single-run backfill) with the given
    inputs; (stored rows, {check name: AssetCheckEvaluation}, run succeeded)."""
    from nba_props.partitions import game_date_partitions
    from nba_props.resources import SettingsResource

    io = FramesIOManager({UPSTREAM[name]: frame for name, frame in inputs.items()})
    upstream = [dg.AssetSpec(name, partitions_def=game_date_partitions) for name in UPSTREAM.values()]
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [asset, *upstream],
            selection=[asset.key],
            resources={"io_manager": io, "settings": SettingsResource(public={"provider": "test"})},
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": start.isoformat(),
                "dagster/asset_partition_range_end": end.isoformat(),
            },
            raise_on_error=False,
        )
        checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
        return io.stored.get("player_features"), checks, result.success


def as_inputs(start: date, end: date, raw: dict[str, pl.DataFrame]) -> FeatureInputs:
    """The FeatureInputs the asset builds from its inputs."""
    lines = raw["candidate_lines"]
    return FeatureInputs(
        targets=lines.filter(pl.col("game_date").is_between(start, end)),
        box_history=raw["box_history"],
        line_history=lines,
        schedule=raw["schedule"],
        injuries=raw["injuries"],
    )


# ---------------------------------------------------------------------------------------------
# the sample of dates


def test_sample_dates_spread_over_the_range_with_first_and_last():
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(10)]
    # indices round(i * 9 / 4) for i = 0..4: 0, 2 (2.25), 4 (4.5 rounds to even), 7 (6.75), 9
    assert leak_sample_dates(reversed(days), 5) == [days[0], days[2], days[4], days[7], days[9]]
    assert leak_sample_dates(days + days, 3) == [days[0], days[4], days[9]]  # duplicates collapse (4.5 -> 4)
    assert leak_sample_dates(days[:4], 5) == days[:4]  # fewer than n: every date
    assert leak_sample_dates([], 5) == []
    with pytest.raises(ValueError, match="at least 2"):
        leak_sample_dates(days, 1)


def test_the_sample_size_lives_in_the_contract_and_is_validated():
    assert LEAK.sample_dates >= 5
    raw = CONTRACT.model_dump(mode="json")
    raw["leak_check"]["sample_dates"] = 4
    with pytest.raises(ValidationError, match="sample_dates"):
        FeatureContract.model_validate(raw)
    raw = CONTRACT.model_dump(mode="json")
    del raw["leak_check"]
    with pytest.raises(ValidationError, match="leak_check"):
        FeatureContract.model_validate(raw)
    for field in ("players_per_date", "players_per_team"):
        raw = CONTRACT.model_dump(mode="json")
        raw["leak_check"][field] = 0
        with pytest.raises(ValidationError, match=field):
            FeatureContract.model_validate(raw)
        del raw["leak_check"][field]
        with pytest.raises(ValidationError, match=field):
            FeatureContract.model_validate(raw)


def test_the_player_sample_covers_every_team_of_every_game_and_is_deterministic():
    day = date(2025, 1, 7)
    rows = [
        {
            "game_date": day,
            "game_id": f"g{g}",
            "player_lookup": f"p{g}{side}{i}",
            "team": f"T{g}{side}",
            "opponent": f"T{g}{'b' if side == 'a' else 'a'}",
        }
        for g in range(6)
        for side in "ab"
        for i in range(8)
    ]
    targets = _frame(rows, schemas.PLAYER_LINES)
    chosen = leak_sample_targets(targets, day, per_date=20, per_team=1)
    assert chosen.height == 20 and chosen.select(KEY_COLUMNS).is_unique().all()
    assert chosen.select("game_id", "team").n_unique() == 12  # every side of every game
    assert chosen.equals(leak_sample_targets(targets.reverse(), day, per_date=20, per_team=1))  # order-free
    assert not chosen.equals(leak_sample_targets(targets, day + timedelta(days=1), per_date=20, per_team=1))
    # the per-team floor wins over the count; a date with no more candidates than the count: all
    assert (
        leak_sample_targets(targets, day, per_date=5, per_team=2).group_by("game_id", "team").len()["len"].to_list()
        == [2] * 12
    )
    assert leak_sample_targets(targets, day, per_date=96, per_team=1).height == 96


# ---------------------------------------------------------------------------------------------
# inputs cut strictly before the date


def _frame(rows: list[dict], schema: pl.Schema) -> pl.DataFrame:
    return schemas.conform(pl.DataFrame(rows), schema) if rows else schemas.empty(schema)


def test_inputs_before_cut_every_input_at_the_date():
    d1, d2, d3 = date(2025, 1, 6), date(2025, 1, 7), date(2025, 1, 8)
    tip = datetime(2025, 1, 8, 0, 30, tzinfo=UTC)  # 19:30 ET on Jan 7
    box = _frame(
        [{"game_date": d, "game_id": f"g{d.day}", "player_lookup": "a", "points": 10} for d in (d1, d2, d3)],
        schemas.BOX_SCORES,
    )
    lines = _frame(
        [{"game_date": d, "game_id": f"g{d.day}", "player_lookup": "a", "line": 9.5} for d in (d1, d2, d3)],
        schemas.PLAYER_LINES,
    )
    schedule = _frame(
        [
            {"game_date": d, "game_id": f"g{d.day}", "home_team": "BOS", "away_team": "NYK", "tip_time_utc": tip}
            for d in (d1, d2, d3)
        ],
        schemas.SCHEDULE,
    )
    injuries = _frame(
        [
            {"game_date": d, "player_lookup": p, "team": t, "status": "out"}
            for d, p, t in ((d1, "x", "BOS"), (d2, "y", "NYK"), (d2, "z", "LAL"), (d3, "w", "BOS"))
        ],
        schemas.INJURY_REPORT,
    )
    inputs = FeatureInputs(
        targets=lines.filter(pl.col("game_date") >= d2),
        box_history=box,
        line_history=lines,
        schedule=schedule,
        injuries=injuries,
    )
    cut = inputs_before(inputs, d2)
    assert cut.targets["game_date"].to_list() == [d2]
    assert cut.box_history["game_date"].to_list() == [d1]
    assert sorted(cut.line_history["game_date"].to_list()) == [d1, d2]  # history + the day's own candidates
    assert cut.schedule["game_date"].to_list() == [d2]
    assert sorted(cut.injuries["player_lookup"].to_list()) == ["y", "z"]  # no capture time: known before tip

    # With a capture time (`reported_at`), reports captured at or after the day's last tip are
    # dropped (no game can know them); unknown capture: kept.
    early_report = _frame(
        [{"game_date": d2, "player_lookup": "v", "team": "BOS", "status": "out"}], schemas.INJURY_REPORT
    )
    captured = pl.concat([injuries, early_report]).with_columns(
        # x (d1), y (captured at the day's only tip), z (an hour after it), w (d3), v (before tip)
        reported_at=pl.Series(
            [tip, tip, tip + timedelta(hours=1), None, tip - timedelta(minutes=1)], dtype=schemas.UTC_TS
        )
    )
    cut = inputs_before(FeatureInputs(inputs.targets, box, lines, schedule, captured), d2)
    assert sorted(cut.injuries["player_lookup"].to_list()) == ["v"]  # y (at tip) and z (after) are cut


# ---------------------------------------------------------------------------------------------
# the comparison


def test_frame_differences_compare_every_column_and_name_each_cell():
    key = {"game_date": [date(2025, 1, 7)] * 3, "game_id": ["g"] * 3, "player_lookup": ["a", "b", "c"]}
    stored = pl.DataFrame(
        {
            **key,
            "x": [1.0, None, float("nan")],
            "x__source": ["box_scores", "default", "box_scores"],
            "names": [["x"], [], None],
        }
    )
    same = stored.clone()
    assert frame_differences(stored, same, 1e-9).height == 0
    # summation-order noise stays within the relative tolerance
    noisy = stored.with_columns(pl.Series("x", [1.0 + 1e-12, None, float("nan")]))
    assert frame_differences(stored, noisy, 1e-9).height == 0
    rebuilt = pl.DataFrame(
        {
            "game_date": [date(2025, 1, 7)] * 3,
            "game_id": ["g"] * 3,
            "player_lookup": ["a", "b", "d"],
            "x": [1.5, 0.0, 2.0],
            "x__source": ["box_scores", "box_scores", "box_scores"],
            "names": [["x"], ["y"], None],
        }
    )
    diffs = frame_differences(stored, rebuilt, 1e-9)
    assert diffs.schema == LEAK_DIFF_SCHEMA
    got = {(r["player_lookup"], r["column"], r["stored"], r["rebuilt"]) for r in diffs.iter_rows(named=True)}
    assert got == {
        ("a", "x", "1.0", "1.5"),
        ("b", "x", "NULL", "0.0"),
        ("b", "x__source", "default", "box_scores"),
        ("b", "names", "", "y"),
        ("c", ROW_MISSING, "present", "absent"),
        ("d", ROW_MISSING, "absent", "present"),
    }
    summary = leak_summary(diffs, [date(2025, 1, 7)], max_players=2)
    assert summary["differing_dates"] == ["2025-01-07"]
    assert summary["differing_rows"] == 4 and summary["differing_cells"] == 6
    assert summary["differing_columns"] == {ROW_MISSING: 2, "x": 2, "names": 1, "x__source": 1}
    assert summary["differing_players"] == ["2025-01-07 a", "2025-01-07 b"]


# ---------------------------------------------------------------------------------------------
# the planted leak on the simulated league: lib and asset


@pytest.fixture(scope="module")
def sim_run(sim_data_dir):
    """Days 5..12 of the simulated season as one run, with the inputs its backfill would hold
    (from day 5 on most players have the 3 earlier games a last-5 average needs)."""
    from nba_props.seasons import season

    opening = season("2024-25").opening_night
    start, end = opening + timedelta(days=4), opening + timedelta(days=11)
    return start, end, backfill_inputs(FilesProvider(sim_data_dir), start, end)


def test_the_old_last_date_check_misses_the_planted_leak_the_sampled_check_catches_it(sim_run):
    start, end, raw = sim_run
    inputs = as_inputs(start, end, raw)
    honest = build_player_features(inputs, CONTRACT)
    leaky = build_player_features(inputs, CONTRACT, blocks=LEAKY_BLOCKS)
    assert leaky.height == honest.height > 500
    dates = leak_sample_dates(inputs.targets["game_date"].to_list(), LEAK.sample_dates)
    game_days = inputs.targets["game_date"].n_unique()
    assert dates[0] == start and dates[-1] == end and len(dates) == min(LEAK.sample_dates, game_days) >= 5

    def check(rows, days, blocks=None):
        return leak_differences(inputs, rows, days, CONTRACT, tolerance=LEAK.float_tolerance, blocks=blocks)

    # the old check: only the last date, whose same-day box scores are not in memory
    assert check(leaky, [end], LEAKY_BLOCKS).height == 0
    # the new check: a sample spread over the range
    found = check(leaky, dates, LEAKY_BLOCKS)
    assert found.height > 0
    assert set(found["game_date"]) == set(dates) - {end}
    feature_columns = set(CONTRACT.names) | {f"{n}__source" for n in CONTRACT.names}
    assert set(found["column"]) & feature_columns <= {PLANTED, f"{PLANTED}__source"}
    assert PLANTED in set(found["column"])
    # hand check of one cell: the stored (leaky) value includes the player's same-day points
    row = found.filter(pl.col("column") == PLANTED).row(0, named=True)
    played = (
        raw["box_history"]
        .filter(
            (pl.col("player_lookup") == row["player_lookup"])
            & (pl.col("game_date") <= row["game_date"])
            & pl.col("played").fill_null(True)
            & pl.col("points").is_not_null()
        )
        .sort("game_date")
    )
    assert played["game_date"][-1] == row["game_date"]  # he played that day
    last5 = played["points"].tail(5).to_list()
    assert len(last5) >= MIN_GAMES[5]  # a differing leaky value is a real one
    assert float(row["stored"]) == pytest.approx(sum(last5) / len(last5))
    # the production blocks pass the same check
    assert check(honest, dates).height == 0


def test_the_player_sample_finds_a_subset_of_the_full_rebuild_and_still_matches_every_row(sim_run):
    start, end, raw = sim_run
    inputs = as_inputs(start, end, raw)
    dates = leak_sample_dates(inputs.targets["game_date"].to_list(), LEAK.sample_dates)
    leaky = build_player_features(inputs, CONTRACT, blocks=LEAKY_BLOCKS)

    def check(rows, blocks=None, all_players=False):
        return leak_differences(
            inputs, rows, dates, CONTRACT, tolerance=LEAK.float_tolerance, blocks=blocks, all_players=all_players
        )

    full, sampled = check(leaky, LEAKY_BLOCKS, all_players=True), check(leaky, LEAKY_BLOCKS)
    assert 0 < sampled.height < full.height  # the sample rebuilds fewer rows than the date holds
    assert sampled.join(full, on=sampled.columns, how="anti", nulls_equal=True).height == 0  # same cells
    assert set(sampled["game_date"]) == set(full["game_date"]) and set(sampled["column"]) == set(full["column"])

    # a stored row missing, or one no candidate has, is reported whether or not it was sampled
    day = dates[1]
    day_targets = inputs_before(inputs, day).targets
    chosen = leak_sample_targets(day_targets, day, LEAK.players_per_date, LEAK.players_per_team)
    unsampled = day_targets.join(chosen, on=list(KEY_COLUMNS), how="anti")
    assert unsampled.height > 0
    honest = build_player_features(inputs, CONTRACT)
    assert check(honest).height == 0
    drop_sampled, drop_unsampled = chosen.row(0, named=True), unsampled.row(0, named=True)
    stranger = honest.filter(pl.col("game_date") == day).head(1).with_columns(player_lookup=pl.lit("nobody_here"))
    tampered = pl.concat(
        [
            honest.filter(
                ~(
                    (pl.col("game_date") == day)
                    & pl.col("player_lookup").is_in([drop_sampled["player_lookup"], drop_unsampled["player_lookup"]])
                )
            ),
            stranger,
        ]
    )
    got = {(r["player_lookup"], r["column"], r["stored"], r["rebuilt"]) for r in check(tampered).iter_rows(named=True)}
    assert got == {
        (drop_sampled["player_lookup"], ROW_MISSING, "absent", "present"),
        (drop_unsampled["player_lookup"], ROW_MISSING, "absent", "present"),
        ("nobody_here", ROW_MISSING, "present", "absent"),
    }


def _meta(evaluation) -> dict:
    return {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()}


def test_the_asset_check_fails_on_a_planted_leak_and_names_it(sim_run):
    from nba_props.defs.features.assets import build_player_features_asset, player_features

    start, end, raw = sim_run
    rows, checks, succeeded = run_asset(build_player_features_asset(blocks=LEAKY_BLOCKS), start, end, raw)
    leak = checks["leak_free"]
    assert not leak.passed and leak.severity == dg.AssetCheckSeverity.ERROR
    assert not succeeded  # the check is blocking: the run fails
    meta = _meta(leak)
    assert PLANTED in meta["differing_columns"]
    assert len(meta["dates_checked"]) == min(LEAK.sample_dates, rows["game_date"].n_unique()) >= 5
    assert meta["dates_checked"][0] == start.isoformat() and meta["dates_checked"][-1] == end.isoformat()
    # every sampled date but the last (whose same-day rows are not in memory) is caught
    assert meta["differing_dates"] == meta["dates_checked"][:-1]
    assert 0 < len(meta["differing_players"]) <= LEAK.max_players_reported
    assert meta["offending_rows"] > 0 and PLANTED in meta["sample"]
    # the leak passes every other check: only leak_free can stop it
    assert all(c.passed for name, c in checks.items() if name not in ("leak_free", "ready_share_above_floor"))
    # the production asset on the same inputs passes and stores different values
    honest_rows, honest_checks, honest_succeeded = run_asset(player_features, start, end, raw)
    assert honest_checks["leak_free"].passed and honest_succeeded
    assert honest_rows.height == rows.height
    assert not honest_rows.sort(*KEY_COLUMNS)[PLANTED].equals(rows.sort(*KEY_COLUMNS)[PLANTED])
    (spec,) = [s for s in player_features.check_specs if s.name == "leak_free"]
    assert spec.blocking


# ---------------------------------------------------------------------------------------------
# real data: the production build of 2025-01-06..2025-01-20 in one run passes


def _shared_data() -> Path:
    override = os.environ.get("NBA_PROPS_SHARED_DATA")
    return Path(override) if override else Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nba"


@pytest.mark.real_data
def test_real_two_weeks_in_one_run_pass_and_a_planted_leak_fails():
    data = _shared_data()
    if not (data / "box_scores" / "player_logs_2024-25.csv").is_file():
        pytest.skip(f"real NBA data not found at {data}")
    from nba_props.defs.features.assets import build_player_features_asset, player_features

    start, end = date(2025, 1, 6), date(2025, 1, 20)
    raw = backfill_inputs(FilesProvider(data), start, end)
    rows, checks, succeeded = run_asset(player_features, start, end, raw)
    assert rows.height > 3000 and rows["line"].is_not_null().sum() > 500  # DFS board lines
    leak = checks["leak_free"]
    meta = _meta(leak)
    assert leak.passed and succeeded, meta
    assert meta["dates_checked"][0] == start.isoformat() and meta["dates_checked"][-1] == end.isoformat()
    assert len(meta["dates_checked"]) == min(LEAK.sample_dates, rows["game_date"].n_unique()) >= 5
    assert meta["offending_rows"] == 0
    # the same run with the planted leak fails on the real data too
    _, leaky_checks, _ = run_asset(build_player_features_asset(blocks=LEAKY_BLOCKS), start, end, raw)
    leaky_meta = _meta(leaky_checks["leak_free"])
    assert not leaky_checks["leak_free"].passed and PLANTED in leaky_meta["differing_columns"]
