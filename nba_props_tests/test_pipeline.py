"""In-process graph runs into a temp DuckDB: single-run backfills, idempotent reruns, empty
windows and quarantine of malformed input."""

from __future__ import annotations

import shutil
from datetime import date

import dagster as dg
import polars as pl
import pytest

from nba_props.lib import schemas
from nba_props.lib.publish import load_publish_config
from nba_props.lib.sources.files import FilesProvider
from nba_props_tests.conftest import _point_at

START, END = date(2024, 10, 22), date(2024, 10, 26)
RANGE_TAGS = {
    "dagster/asset_partition_range_start": START.isoformat(),
    "dagster/asset_partition_range_end": END.isoformat(),
}


def _run(tags=None, partition_key=None, selection=None, instance=None):
    """One in-process run of the daily job (on `instance` when given, which stays open for reading)."""
    from nba_props import definitions

    if instance is None:
        with dg.DagsterInstance.ephemeral() as ephemeral:
            return _run(tags, partition_key, selection, ephemeral)
    job = definitions.defs().resolve_job_def("nba_props_daily")
    return job.execute_in_process(
        instance=instance,
        tags=tags,
        partition_key=partition_key,
        # an ingest source's step also materializes its quarantine asset
        asset_selection=list(
            dg.AssetSelection.assets(*selection).required_multi_asset_neighbors().resolve(job.asset_layer.asset_graph)
        )
        if selection
        else None,
    )


def _latest_metadata(instance, asset: str, partition: str):
    (record,) = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition]), limit=1
    ).records
    return record.asset_materialization.metadata


def _warehouse():
    from nba_props.io.warehouse import Warehouse
    from nba_props.settings import load_settings

    return Warehouse(load_settings().duckdb_path)


def _check_results(result) -> dict[tuple[str, str], bool]:
    return {
        (e.asset_key.path[-1], e.check_name): e.passed
        for e in (
            ev.asset_check_evaluation_data
            for ev in result.all_events
            if ev.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        )
    }


DAILY_TABLES = ("schedule", "box_scores", "prop_line_snapshots", "injury_report", "player_lines",
                "player_features", "predictions")  # fmt: skip


@pytest.fixture(scope="module")
def range_run(sim_data_dir, tmp_path_factory):
    """One range backfill START..END of the daily job into a template home (read-only once built),
    its ephemeral instance kept open for reading; the tests that start from it get a copy of the home
    through `range_home`."""
    home = tmp_path_factory.mktemp("range") / "home"
    with dg.DagsterInstance.ephemeral() as instance:
        with pytest.MonkeyPatch.context() as env:
            _point_at(env, home, sim_data_dir)
            result = _run(tags=RANGE_TAGS, instance=instance)
        yield result, instance, home


@pytest.fixture
def range_home(range_run, sim_data_dir, tmp_path, monkeypatch):
    """(result, instance, home): the range run, the environment pointing at a copy of its home."""
    result, instance, template = range_run
    home = tmp_path / "home"
    shutil.copytree(template, home)
    _point_at(monkeypatch, home, sim_data_dir)
    return result, instance, home


def test_range_backfill_is_one_run_and_matches_the_provider(range_home, sim_data_dir):
    result, instance, _ = range_home
    assert result.success
    # Single-run backfill: each asset's step ran once for the whole range.
    steps = [e.step_key for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_START]
    assert sorted(steps) == sorted(
        [
            "schedule",
            "box_scores",
            "prop_line_snapshots",
            "injury_report",
            "player_lines",
            "player_features",
            "predictions",
            "prediction_accuracy",
            "model_performance_daily",
            "pre_game_signal",
            "market_regime",
            "signal_tags",
            "signal_health_daily",
            "best_bets",
            "published_picks",
            "pick_accuracy",
            "steering_report",
            "publish",  # every publish asset (config/publish.yaml) in one step
        ]
    )
    published = {m.asset_key.to_user_string() for m in result.asset_materializations_for_node("publish")}
    assert published == set(load_publish_config().assets)
    checks = _check_results(result)
    # The only allowed failure is the warn-level ready share: the simulated league has no prior
    # season, so its opening week is mostly blocked (fewer than 5 games per player).
    failed = {k for k, passed in checks.items() if not passed}
    assert checks and failed <= {("player_features", "ready_share_above_floor")}, failed
    assert checks[("player_features", "leak_free")]

    (features,) = [m for m in result.asset_materializations_for_node("player_features")][:1]
    for key in (
        "run_rows",
        "ready_share",
        "run_quality_tiers",
        "run_defaults_by_feature",
        "run_line_diagnostics",
        "settings",
    ):
        assert key in features.metadata, key
    (lines_materialization,) = result.asset_materializations_for_node("player_lines")[:1]
    assert set(lines_materialization.metadata["run_diagnostics"].value) <= {
        "LINE_SOURCE",
        "NO_PROP_LINE",
        "LINE_SANITY_REJECT",
    }

    provider = FilesProvider(sim_data_dir)
    warehouse = _warehouse()
    expected_box = provider.box_scores(START, END).rows
    stored_box = warehouse.load("box_scores", start=START, end=END, declared=schemas.BOX_SCORES)
    assert stored_box.height == expected_box.height > 500
    assert stored_box.sort(schemas.BOX_SCORES_KEY).equals(expected_box.sort(schemas.BOX_SCORES_KEY))
    lines = warehouse.load("prop_line_snapshots", start=START, end=END, declared=schemas.PROP_LINE_SNAPSHOTS)
    assert lines.height == provider.prop_line_snapshots(START, END).rows.height > 0
    assert set(lines.get_column("game_date").unique()) <= {date(2024, 10, d) for d in range(22, 27)}
    # One feature row per candidate, and only quality-ready rows may be predicted later.
    candidates = warehouse.load("player_lines", start=START, end=END, declared=schemas.PLAYER_LINES)
    stored_features = warehouse.load("player_features", start=START, end=END)
    assert stored_features.height == candidates.height > 0
    ready = stored_features.filter(pl.col("is_quality_ready"))
    assert ready.filter(pl.col("required_default_count") > 0).height == 0

    # One run wrote five partitions: each partition's latest materialization carries that date's
    # own figures (what the UI plots), never the range's totals.
    days = [f"2024-10-{d}" for d in range(22, 27)]
    rows_per_day = {}
    for table in DAILY_TABLES:
        per_day = dict(warehouse.load(table, start=START, end=END).group_by("game_date").len().iter_rows())
        rows_per_day[table] = per_day
        for day in days:
            metadata = _latest_metadata(instance, table, day)
            assert metadata["dagster/row_count"].value == per_day.get(date.fromisoformat(day), 0), (table, day)
            assert metadata["run_rows"].value == sum(per_day.values()), table
    box_per_day = [rows_per_day["box_scores"].get(date.fromisoformat(d), 0) for d in days]
    assert len(set(box_per_day)) > 1 and sum(box_per_day) > 500  # the days differ: a plot that is not flat
    games = warehouse.load("schedule", start=START, end=END).filter(pl.col("game_date") == date(2024, 10, 24))
    assert _latest_metadata(instance, "schedule", "2024-10-24")["games"].value == games.height > 0
    features_24th = stored_features.filter(pl.col("game_date") == date(2024, 10, 24))
    ready_24th = _latest_metadata(instance, "player_features", "2024-10-24")["ready_rows"].value
    assert ready_24th == features_24th["is_quality_ready"].sum()


def test_rerunning_a_date_replaces_exactly_that_date(range_home):
    result, _, _ = range_home
    assert result.success
    warehouse = _warehouse()
    before = warehouse.load("box_scores").group_by("game_date").len().sort("game_date")
    assert _run(partition_key="2024-10-24").success
    stored = warehouse.load("box_scores")
    assert before.equals(stored.group_by("game_date").len().sort("game_date"))
    assert not stored.select("game_id", "player_id").is_duplicated().any()


def test_a_window_before_the_season_is_empty_but_typed(nba_home):
    result = _run(
        tags={
            "dagster/asset_partition_range_start": "2024-10-10",
            "dagster/asset_partition_range_end": "2024-10-12",
        }
    )
    assert result.success
    frame = _warehouse().load(
        "box_scores", start=date(2024, 10, 10), end=date(2024, 10, 12), declared=schemas.BOX_SCORES
    )
    assert frame.height == 0 and frame.schema == schemas.BOX_SCORES


def test_malformed_rows_are_quarantined_not_lost(nba_home, sim_data_dir, tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(sim_data_dir, data)
    (box_csv,) = (data / "box_scores").glob("player_logs_*.csv")
    good_rows = FilesProvider(data).box_scores(date(2024, 10, 22), date(2024, 10, 22)).rows.height
    # A row whose points are not a number, on the first game day.
    header = box_csv.read_text().splitlines()[0].split(",")
    first = box_csv.read_text().splitlines()[1].split(",")
    row = dict(zip(header, first, strict=True))
    row.update(PLAYER_ID="999999", PLAYER_NAME="Broken Row", GAME_DATE="2024-10-22", PTS="twelve")
    with box_csv.open("a") as handle:
        handle.write(",".join(row[c] for c in header) + "\n")
    monkeypatch.setenv("NBA_PROPS_DATA_DIR", str(data))

    result = _run(partition_key="2024-10-22", selection=["schedule", "box_scores"])
    assert result.success
    warehouse = _warehouse()
    stored = warehouse.load("box_scores", start=date(2024, 10, 22), end=date(2024, 10, 22), declared=schemas.BOX_SCORES)
    assert stored.height == good_rows
    quarantine = warehouse.load("ingest_quarantine", declared=schemas.QUARANTINE)
    broken = quarantine.filter(pl.col("raw").str.contains("Broken Row"))
    assert broken.height == 1
    assert broken.item(0, "asset") == "box_scores"
    assert broken.item(0, "game_date") == date(2024, 10, 22)
    materializations = {m.asset_key.path[-1]: m for m in result.asset_materializations_for_node("box_scores")}
    assert materializations["box_scores"].metadata["quarantined_rows"].value == 1
    # The quarantine is an asset of its own: the graph shows where the rows come from, and the
    # partition's metadata how many.
    quarantined = materializations["box_scores_quarantine"]
    assert quarantined.partition == "2024-10-22"
    assert quarantined.metadata["quarantined_rows"].value == 1
    assert quarantined.metadata["dagster/row_count"].value == 1
    assert quarantined.metadata["run_by_reason"].value == {broken.item(0, "reason"): 1}
    assert materializations["box_scores"].metadata["dagster/row_count"].value == good_rows
    assert materializations["box_scores"].metadata["run_rows"].value == good_rows


def test_quarantine_assets_count_per_partition_and_own_their_rows_of_the_shared_table(
    nba_home, sim_data_dir, tmp_path, monkeypatch
):
    data = tmp_path / "data"
    shutil.copytree(sim_data_dir, data)
    (box_csv,) = (data / "box_scores").glob("player_logs_*.csv")
    lines = box_csv.read_text().splitlines()
    header = lines[0].split(",")
    row = dict(zip(header, lines[1].split(","), strict=True))
    with box_csv.open("a") as handle:  # two broken rows on the 23rd, none on the 22nd and 24th
        for n in (1, 2):
            broken = dict(row, PLAYER_ID=f"99999{n}", PLAYER_NAME=f"Broken {n}", GAME_DATE="2024-10-23", PTS="x")
            handle.write(",".join(broken[c] for c in header) + "\n")
    monkeypatch.setenv("NBA_PROPS_DATA_DIR", str(data))
    warehouse = _warehouse()
    other_source = pl.DataFrame(
        [(date(2024, 10, 23), "schedule", "s.json", 1, "kept", "{}")], schema=schemas.QUARANTINE, orient="row"
    )
    warehouse.replace_partitions("ingest_quarantine", other_source, start=date(2024, 10, 23), end=date(2024, 10, 23),
                                 where={"asset": "schedule"}, declared=schemas.QUARANTINE)  # fmt: skip

    result = _run(tags={"dagster/asset_partition_range_start": "2024-10-22",
                        "dagster/asset_partition_range_end": "2024-10-24"}, selection=["box_scores"])  # fmt: skip
    assert result.success
    per_partition = {
        m.partition: m.metadata["quarantined_rows"].value
        for m in result.asset_materializations_for_node("box_scores")
        if m.asset_key == dg.AssetKey("box_scores_quarantine")
    }
    assert per_partition == {"2024-10-22": 0, "2024-10-23": 2, "2024-10-24": 0}
    stored = warehouse.load("ingest_quarantine", declared=schemas.QUARANTINE).sort("asset", "source_row")
    assert stored.filter(pl.col("asset") == "box_scores")["raw"].str.contains("Broken").all()
    assert stored.filter(pl.col("asset") == "box_scores").height == 2
    # the box-score step replaced only its own rows of the shared table
    assert stored.filter(pl.col("asset") == "schedule").rows() == other_source.rows()


def test_materializations_carry_the_resolved_settings_without_secrets(nba_home, monkeypatch):
    monkeypatch.setenv("NBA_PROPS_ODDS_API_KEY", "sk-test-secret-123")
    result = _run(partition_key="2024-10-22")
    for asset in ("schedule", "box_scores", "prop_line_snapshots", "injury_report"):
        (materialization,) = [m for m in result.asset_materializations_for_node(asset)
                              if m.asset_key == dg.AssetKey(asset)]  # fmt: skip
        settings = materialization.metadata["settings"].value
        assert settings["provider"] == "files", asset
        assert "sk-test-secret-123" not in str(materialization.metadata), asset
