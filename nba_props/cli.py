"""`nba-props`: the command line.

nba-props demo      simulate a season and run the main job over it (single-run backfill)
nba-props simulate  write a simulated season in the raw formats real data comes in
nba-props backfill  materialize a date range in one process; prints rows and seconds per asset
nba-props replay    advance a simulated clock hour by hour; sensors and automation run the graph
nba-props tables    row counts of every table in the warehouse
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

from nba_props.job_names import EVALUATION_JOB, MAIN_JOB, TRAINING_JOB

# The instance config a new DAGSTER_HOME gets; `make ui` copies the same file.
DAGSTER_INSTANCE_TEMPLATE = Path(__file__).with_name("dagster_instance.yaml")


def _dagster_home(settings, explicit: Path | None = None) -> Path:
    """The Dagster instance folder: `explicit`, else $DAGSTER_HOME, else `<home>/dagster_home`
    (given a dagster.yaml when new). Read, never written into the environment."""
    home = Path(explicit or os.environ.get("DAGSTER_HOME") or settings.home / "dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_INSTANCE_TEMPLATE.read_text(encoding="utf-8"), encoding="utf-8")
    return home


def _instance(home: Path):
    import dagster as dg

    return dg.DagsterInstance.from_config(str(home))


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from exc


def run_backfill(
    start: date,
    end: date,
    select: list[str] | None = None,
    *,
    job_name: str = MAIN_JOB,
    exclude: list[str] | None = None,
    settings=None,
    dagster_home: Path | None = None,
    launched_by: str = "cli",
) -> dict[str, dict[str, float]]:
    """Materialize [start, end] for the selection as ONE run (single-run backfill).

    For the training job, start/end are the Mondays (ET) of the first and last week. Resources
    come from `settings` (default: the environment's), the run is recorded in `dagster_home`
    (default: see `_dagster_home`) with the code location's origin (`nba_props.runs.launch`),
    after recovering runs orphaned by a crashed process.
    """
    import dagster as dg

    from nba_props import runs
    from nba_props.settings import load_settings

    if end < start:
        raise SystemExit(f"--end {end} is before --start {start}")
    settings = settings or load_settings()
    home = _dagster_home(settings, dagster_home)
    keys = None  # the whole job
    if select:  # the launcher adds the assets the same step materializes (a source's quarantine)
        keys = [dg.AssetKey(name) for name in select]
    if exclude:
        graph = runs.code_location(settings).job(job_name).asset_layer.asset_graph
        keys = keys or [node.key for node in graph.asset_nodes if node.is_executable]
        keys = [key for key in keys if key.path[-1] not in exclude]
    with _instance(home) as instance:
        runs.recover_orphaned_runs(instance)
        launched = runs.launch(
            instance,
            job_name,
            launched_by=launched_by,
            asset_selection=keys,
            partition_range=(start.isoformat(), end.isoformat()),
            settings=settings,
            # Per-event DEBUG lines drown the summary; the UI keeps the full event log.
            run_config=QUIET_LOGS,
        )
        return _summarize(instance.all_logs(launched.run_id))


QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def daily_downstream_of(name: str) -> list[str]:
    """`name` and every game-date asset downstream of it, from the graph (an asset a later module
    adds joins): what must be built after it, never before (e.g. grading before predictions)."""
    import dagster as dg

    from nba_props import definitions
    from nba_props.partitions import game_date_partitions

    graph = definitions.defs().resolve_asset_graph()
    keys = dg.AssetSelection.assets(name).downstream().resolve(graph)
    return sorted(k.to_user_string() for k in keys if graph.get(k).partitions_def == game_date_partitions)


def mondays(start: date, end: date) -> tuple[date, date]:
    """The training weeks covering [start, end]: Monday of start's week .. Monday of end's week; the
    first week that is a partition when start's Monday is before the first partition day."""
    from nba_props.partitions import FIRST_PARTITION_DAY
    from nba_props.seasons import week_start

    first = week_start(start)
    return (first if first >= FIRST_PARTITION_DAY else first + timedelta(days=7)), week_start(end)


def _summarize(records) -> dict[str, dict[str, float]]:
    """Rows, seconds and failed checks per step, read from the run's event log."""
    import dagster as dg

    summary: dict[str, dict[str, float]] = defaultdict(dict)
    started: dict[str, float] = {}
    failed: list[str] = []
    rows_by_asset: dict[str, dict[str, int]] = defaultdict(dict)
    for record in records:
        event = record.dagster_event
        if event is None or event.step_key is None:
            continue
        step, at = event.step_key, record.timestamp
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[step] = at
        elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            summary[step]["seconds"] = round(at - started.get(step, at), 2)
            if event.event_type == dg.DagsterEventType.STEP_FAILURE:
                failed.append(step)
        elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            metadata = event.step_materialization_data.materialization.metadata
            rows = metadata.get("run_rows") or metadata.get("dagster/row_count")  # the run's total, not a day's
            if rows is not None:
                rows_by_asset[step][event.asset_key.path[-1]] = rows.value
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.asset_check_evaluation_data
            if not evaluation.passed:
                bucket = "warned_checks" if evaluation.severity == dg.AssetCheckSeverity.WARN else "failed_checks"
                summary[step].setdefault(bucket, []).append(evaluation.check_name)
    # a step materializing several assets reports its namesake's rows (ingest: the rows, not the
    # quarantine), else their sum (the publish step: every file's row)
    for step, rows in rows_by_asset.items():
        summary[step]["rows"] = rows[step] if step in rows else sum(rows.values())
    for step in failed:
        summary[step]["failed"] = True
    return dict(summary)


def _print_summary(summary: dict[str, dict[str, float]], wall: float) -> None:
    print(f"{'asset':<28}{'rows':>10}{'seconds':>10}  checks")
    for step, figures in summary.items():
        checks = "ok"
        if figures.get("warned_checks"):
            checks = "warn: " + ", ".join(figures["warned_checks"])
        if figures.get("failed_checks"):
            checks = "FAILED: " + ", ".join(figures["failed_checks"])
        if figures.get("failed"):
            checks = "STEP FAILED"
        print(f"{step:<28}{int(figures.get('rows', 0)):>10}{figures.get('seconds', 0.0):>10.2f}  {checks}")
    print(f"wall time {wall:.1f} s")


def _print_tables(settings=None) -> None:
    from nba_props.io.warehouse import Warehouse
    from nba_props.settings import load_settings

    settings = settings or load_settings()
    warehouse = Warehouse(settings.duckdb_path)
    print(f"warehouse {settings.duckdb_path}")
    for table, count in sorted(warehouse.row_counts().items()):
        print(f"  nba_props.{table:<26}{count:>10} rows")


def cmd_simulate(args: argparse.Namespace) -> int:
    from nba_props.lib.sources.factory import mark_simulated
    from nba_props.sim.season import simulate_season

    summary = simulate_season(season=args.season, seed=args.seed, out_dir=Path(args.out), n_days=args.days)
    mark_simulated(Path(args.out), args.season, args.seed, args.days)  # the `simulated` provider reads it
    print(summary)
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    summary = run_backfill(args.start, args.end, args.select.split(",") if args.select else None)
    _print_summary(summary, time.perf_counter() - started)
    return 1 if any(f.get("failed") for f in summary.values()) else 0


def cmd_demo(args: argparse.Namespace) -> int:
    from nba_props import seasons
    from nba_props.lib.sources.factory import ensure_simulated_season
    from nba_props.settings import load_settings

    settings = load_settings()
    if settings.provider != "simulated":
        raise SystemExit("the demo runs on the simulated league: unset NBA_PROPS_PROVIDER or set it to 'simulated'")
    started = time.perf_counter()
    ensure_simulated_season(settings.data_dir, settings.sim_season, settings.sim_seed)
    print(
        f"simulated {settings.sim_season} (seed {settings.sim_seed}) in {time.perf_counter() - started:.1f} s "
        f"-> {settings.data_dir}"
    )
    season = seasons.season(settings.sim_season)
    start, end = season.opening_night, season.regular_season_end
    # The last days are not backfilled: the replay lets the sensors and automation bring them in.
    replay_start = end - timedelta(days=args.replay_days - 1)
    backfill_end = replay_start - timedelta(days=1)
    failed = False

    model_stage = daily_downstream_of("predictions")  # predictions, grading, health, regime, signal
    print(f"\n[1/4] {MAIN_JOB}: ingest -> lines -> features for {start} .. {backfill_end} (one single-run backfill)")
    failed |= _timed_backfill(start, backfill_end, exclude=model_stage, settings=settings, launched_by="demo")

    first_week, last_week = mondays(start, end)
    if not args.full:
        first_week = max(first_week, last_week - timedelta(weeks=args.weeks - 1))
    print(
        f"\n[2/4] {TRAINING_JOB}: walk-forward training, weeks {first_week} .. {last_week}"
        + ("" if args.full else f" (last {args.weeks}; --full for the whole season)")
    )
    failed |= _timed_backfill(first_week, last_week, job_name=TRAINING_JOB, settings=settings, launched_by="demo")

    print(f"\n[3/4] {MAIN_JOB}: {', '.join(model_stage)} for {first_week} .. {backfill_end}")
    failed |= _timed_backfill(
        max(first_week, start), backfill_end, select=model_stage, settings=settings, launched_by="demo"
    )

    withheld_day = replay_start + timedelta(days=args.replay_days // 2)
    release = datetime.combine(withheld_day + timedelta(days=1), datetime.min.time(), tzinfo=seasons.GAME_TZ)
    print(
        f"\n[4/4] replay {replay_start} .. {end}: the clock advances hour by hour and the sensors and automation "
        f"run the graph; planted fault: the box scores of {withheld_day} arrive only at 12:00 ET the next day"
    )
    report = run_replay(
        replay_start, end, settings=settings, withhold_box_scores={withheld_day: release.replace(hour=12)}
    )
    failed |= any(not run.success for run in report.runs)

    _print_tables(settings)
    _print_prediction_summary(max(first_week, start), end, settings)
    _print_best_bets_summary(max(first_week, start), end, settings)
    print("\nresults:")
    print(f"  warehouse (DuckDB)  {settings.duckdb_path}   tables nba_props.<asset>")
    print(
        f"  artifacts           {settings.artifacts_dir}   (models/week=YYYY-MM-DD/<family>.cbm, "
        "reports/steering/<date>.md)"
    )
    from nba_props.lib.publish import load_publish_config

    prefix = load_publish_config().prefix
    print(f"  published JSON      {settings.artifacts_dir / prefix}   (best-bets/all.json, today.json, admin/..., "
          "systems/model-health.json; `nba-props show best-bets`)")  # fmt: skip
    print(f"  simulated raw data  {settings.data_dir}")
    print(f"  Dagster runs        {_dagster_home(settings)}   (open with `make ui`)")
    return 1 if failed else 0


def _timed_backfill(start: date, end: date, **kwargs) -> bool:
    started = time.perf_counter()
    summary = run_backfill(start, end, **kwargs)
    _print_summary(summary, time.perf_counter() - started)
    return any(f.get("failed") for f in summary.values())


def _print_prediction_summary(start: date, end: date, settings) -> None:
    """Realized accuracy of the walk-forward predictions, read from `prediction_accuracy` (the
    one grading) with the evaluation's own figures (quarantined rows excluded, recommended picks only)."""
    from nba_props.io.warehouse import Warehouse
    from nba_props.lib import tables
    from nba_props.lib.models.graded import summarize_graded, with_market_p_over

    warehouse = Warehouse(settings.duckdb_path)
    if not warehouse.table_exists("prediction_accuracy"):
        return
    summary = summarize_graded(
        with_market_p_over(
            warehouse.load("prediction_accuracy", start=start, end=end,
                           declared=tables.TABLE_SCHEMAS["prediction_accuracy"]),
            warehouse.load("player_lines", start=start, end=end, declared=tables.TABLE_SCHEMAS["player_lines"]),
        )
    )  # fmt: skip
    print(
        f"\nwalk-forward predictions {start} .. {end} (prediction_accuracy, as `nba-props evaluate`; recommended picks, "
        "quarantined rows excluded):"
    )
    print(
        f"  {'family':<16}{'n':>7}{'MAE':>7}{'ratio':>7}{'HR e1+':>9}{'n':>6}{'HR e3+':>9}{'n':>6}{'HR e5+':>9}{'n':>6}"
        f"{'top5/day':>10}{'n':>6}{'ROI e3+':>9}{'n':>6}"
    )
    for family, figures in sorted(summary.items()):
        cells = "".join(
            f"{_rate(block['hr']):>9}{block['wins'] + block['losses']:>6}" for block in figures["hr"].values()
        )
        top = figures["top5_daily"]
        print(
            f"  {family:<16}{figures['n']:>7}{_num(figures['mae']):>7}{_num(figures['mae_ratio']):>7}{cells}"
            f"{_rate(top['hr']):>10}{top['wins'] + top['losses']:>6}{_rate(figures['roi_edge3']):>9}"
            f"{figures['n_roi_edge3']:>6}"
        )


def _print_best_bets_summary(start: date, end: date, settings) -> None:
    """The published best bets of the window, graded from the ledger (the evaluation's record),
    and the newest steering recommendation."""
    from nba_props.io.warehouse import Warehouse
    from nba_props.lib import tables
    from nba_props.lib.evaluation import best_bets_record

    warehouse = Warehouse(settings.duckdb_path)
    if not (warehouse.table_exists("pick_accuracy") and warehouse.table_exists("best_bets")):
        return
    picks = warehouse.load("pick_accuracy", start=start, end=end, declared=tables.TABLE_SCHEMAS["pick_accuracy"])
    slate = warehouse.load("best_bets", start=start, end=end, declared=tables.TABLE_SCHEMAS["best_bets"])
    r = best_bets_record(picks, slate.select("game_date", "health_gate_active"))
    print(f"\nbest bets {start} .. {end} (published_picks graded: pick_accuracy):")
    print(f"  {r['picks']} picks on {r['days_with_picks']} of {r['days']} days, {r['wins']}-{r['losses']} "
          f"(HR {_rate(r['hr'])}, {r['pushes']} pushes, {r['voids']} voids, {r['pending']} pending), ROI "
          f"{_rate(r['roi'])} over {r['n_roi']} priced, health gate closed {r['health_gate_days']} days")  # fmt: skip
    if warehouse.table_exists("steering_report"):
        report = warehouse.load("steering_report", start=start, end=end,
                                declared=tables.TABLE_SCHEMAS["steering_report"])  # fmt: skip
        if report.height:
            last = report.sort("game_date").row(-1, named=True)
            print(f"  steering {last['game_date']}: {last['recommendation']} ({last['reason']})")


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def cmd_train(args: argparse.Namespace) -> int:
    first, last = mondays(args.start, args.end)
    started = time.perf_counter()
    summary = run_backfill(first, last, job_name=TRAINING_JOB)
    _print_summary(summary, time.perf_counter() - started)
    return 1 if any(f.get("failed") for f in summary.values()) else 0


REPORT_FILES = ("evaluation.md", "evaluation.json")


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Run the graph over real data with walk-forward models and write the evaluation report.

    Stops at the first failed step, exits 1 and writes only `evaluation.json` marked
    `"status": "failed"` (any older report in the folder is removed), never a report of figures
    built on a failed step."""
    from nba_props.partitions import GAME_DATE_START
    from nba_props.settings import load_settings

    data = Path(args.data).resolve()
    if not data.is_dir():
        raise SystemExit(f"--data {data} is not a folder (layout of ../shared/data/nba expected)")
    if args.history_days is None:
        from nba_props.lib.models.registry import load_models_config

        args.history_days = load_models_config().training.evaluation_history_days
    if args.history_days < 1:
        raise SystemExit(f"--history-days must be >= 1, got {args.history_days}")
    base = load_settings().home
    out = Path(args.out).resolve() if args.out else base / "reports"
    # A warehouse per data folder keeps evaluations apart from the demo and lets reruns reuse ingest.
    home = base / "evaluation" / data.name
    settings = load_settings(home=home, provider="files", data_dir=data)
    runs = {"settings": settings, "dagster_home": home / "dagster_home", "launched_by": "evaluate"}
    first_day = date.fromisoformat(GAME_DATE_START)
    feature_start = max(first_day, args.start - timedelta(days=args.history_days))
    # History the evaluation ingests before its window: each family trains on its last game
    # dates with data before a week's Monday (reaching back into the previous season early in a
    # season), so features are built for `--history-days` before the window, and box scores for
    # the days the feature build reads behind each feature date (the asset's own window).
    windows = _feature_history_windows()
    box_start = max(first_day, feature_start - timedelta(days=windows.features_box_scores))
    first_week, last_week = mondays(args.start, args.end)
    out.mkdir(parents=True, exist_ok=True)
    for name in REPORT_FILES:  # never leave an older report next to this run's outcome
        (out / name).unlink(missing_ok=True)
    # Lines read the snapshots (and injuries) of their last `lookback_days`; only box scores and
    # the schedule they are matched to are needed for the features' whole history.
    line_start = max(first_day, feature_start - timedelta(days=windows.lines_snapshots + 1))
    steps = [
        (f"ingest: schedule + box scores {box_start} .. {args.end}, lines + injuries {line_start} .. {args.end}",
         lambda: _timed_backfill(box_start, args.end, select=["schedule", "box_scores"], **runs)
         or _timed_backfill(line_start, args.end, select=["prop_line_snapshots", "injury_report"], **runs)),
        (f"lines + features {feature_start} .. {args.end}",
         lambda: _timed_backfill(feature_start, args.end, select=["player_lines", "player_features"], **runs)),
        (f"walk-forward training, weeks {first_week} .. {last_week}",
         lambda: _timed_backfill(first_week, last_week, job_name=TRAINING_JOB, **runs)),
        (f"predictions and everything built from them (grading, health, signals, best bets, the ledger) "
         f"{args.start} .. {args.end}",
         lambda: _timed_backfill(args.start, args.end, select=daily_downstream_of("predictions"), **runs)),
    ]  # fmt: skip
    total = len(steps) + 1
    for i, (title, run) in enumerate(steps, start=1):
        print(f"\n[{i}/{total}] {title}")
        if run():
            return _evaluation_failed(out, args, f"[{i}/{total}] {title}")
    print(f"\n[{total}/{total}] grading and report")
    try:
        report_md, report_json = run_evaluation(args.start, args.end, **runs)
    except SystemExit as error:
        print(error)
        return _evaluation_failed(out, args, f"[{total}/{total}] grading and report")
    (out / "evaluation.md").write_text(report_md)
    (out / "evaluation.json").write_text(json.dumps(report_json, indent=2, sort_keys=True, default=str))
    print(report_md)
    print(f"\nwrote {out / 'evaluation.md'} and {out / 'evaluation.json'} (warehouse {home / 'warehouse.duckdb'})")
    return 0


def _feature_history_windows():
    """The history windows the feature assets read, from the same config objects they use."""
    from nba_props.lib.features.contract import load_contract
    from nba_props.lib.features.rules import history_windows
    from nba_props.lib.lines import load_line_config

    return history_windows(load_contract(), load_line_config())


def _evaluation_failed(out: Path, args: argparse.Namespace, step: str) -> int:
    report = {"status": "failed", "failed_steps": [step],
              "window": {"start": args.start.isoformat(), "end": args.end.isoformat()}}  # fmt: skip
    (out / "evaluation.json").write_text(json.dumps(report, indent=2, sort_keys=True))
    print(f"\nFAILED at {step}: no report written ({out / 'evaluation.json'} is marked failed)", file=sys.stderr)
    return 1


def run_evaluation(
    start: date, end: date, *, settings=None, dagster_home: Path | None = None, launched_by: str = "evaluate"
) -> tuple[str, dict]:
    """Materialize `model_evaluation` for the window; return the report it wrote (resources and
    instance as in `run_backfill`)."""
    from nba_props import runs
    from nba_props.io.artifacts import LocalArtifactStore
    from nba_props.settings import load_settings

    settings = settings or load_settings()
    home = _dagster_home(settings, dagster_home)
    with _instance(home) as instance:
        runs.recover_orphaned_runs(instance)
        launched = runs.launch(
            instance,
            EVALUATION_JOB,
            launched_by=launched_by,
            settings=settings,
            run_config={
                "ops": {"model_evaluation": {"config": {"start": start.isoformat(), "end": end.isoformat()}}},
                **QUIET_LOGS,
            },
        )
    if not launched.success:
        raise SystemExit("model_evaluation failed: see the run in the Dagster UI")
    store = LocalArtifactStore(settings.artifacts_dir)
    return store.read_bytes("reports/evaluation.md").decode(), store.read_json("reports/evaluation.json")


def run_replay(
    start: date,
    end: date,
    *,
    settings=None,
    dagster_home: Path | None = None,
    withhold_box_scores: dict[date, datetime] | None = None,
    speed: float = 0.0,
):
    """Replay [start, end] hour by hour with the sensors and automation driving the graph (see
    `nba_props.replay`); returns the report after printing what ran, when and why, and every alert."""
    from nba_props.replay import Replay, print_report
    from nba_props.settings import load_settings

    if end < start:
        raise SystemExit(f"--end {end} is before --start {start}")
    settings = settings or load_settings()
    home = _dagster_home(settings, dagster_home)
    with _instance(home) as instance:
        from nba_props import runs

        for recovered in runs.recover_orphaned_runs(instance):  # a crashed run must not block the replay
            print(f"recovered orphaned run {recovered.run_id}: {recovered.reason}")
        replay = Replay(settings, instance, withhold_box_scores=withhold_box_scores, speed=speed)
        report = replay.run(start, end)
    print_report(report)
    return report


def cmd_replay(args: argparse.Namespace) -> int:
    from nba_props import seasons

    withheld = {}
    for day in args.withhold_box_scores or []:
        release = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=seasons.GAME_TZ)
        withheld[day] = release.replace(hour=args.release_hour)
    report = run_replay(args.start, args.end, withhold_box_scores=withheld, speed=args.speed)
    return 1 if any(not run.success for run in report.runs) else 0


def publish_assets() -> list[str]:
    """The publish assets (config/publish.yaml), in the graph's order."""
    from nba_props.lib.publish import load_publish_config

    return list(load_publish_config().assets)


def cmd_publish(args: argparse.Namespace) -> int:
    from nba_props.seasons import today_et

    start = args.date or today_et()
    end = args.end or start
    failed = _timed_backfill(start, end, select=publish_assets())
    from nba_props.lib.publish import load_publish_config
    from nba_props.settings import load_settings

    print(f"published files under {load_settings().artifacts_dir / load_publish_config().prefix}")
    return 1 if failed else 0


def cmd_show(args: argparse.Namespace) -> int:
    """`show best-bets`: the current all.json (or, with --date, the version published for that
    date, kept in the warehouse table best_bets_all_json) as a terminal table."""
    import json

    from nba_props.io.artifacts import LocalArtifactStore
    from nba_props.io.warehouse import Warehouse
    from nba_props.lib.exports.best_bets_files import all_json_table
    from nba_props.lib.publish import load_publish_config
    from nba_props.settings import load_settings

    settings = load_settings()
    config = load_publish_config()
    path = config.relpath(config.files_of("best_bets_all_json")[0], date.today())
    if args.date is None:
        store = LocalArtifactStore(settings.artifacts_dir)
        if not store.exists(path):
            print(f"no {path} under {settings.artifacts_dir} yet: run `nba-props publish` (or make demo)")
            return 1
        payload = store.read_json(path)
    else:
        store = Warehouse(settings.duckdb_path)
        rows = (
            store.load("best_bets_all_json", start=args.date, end=args.date)
            if store.table_exists("best_bets_all_json")
            else None
        )
        if rows is None or rows.height == 0:
            print(f"nothing published for {args.date}: run `nba-props publish --date {args.date}`")
            return 1
        payload = json.loads(rows.item(0, "payload"))
    print(all_json_table(payload))
    return 0


def cmd_tables(args: argparse.Namespace) -> int:
    _print_tables()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nba-props", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="simulate a season and run the main job over it")
    demo.add_argument("--weeks", type=int, default=4, help="train and predict the last N weeks (default 4)")
    demo.add_argument("--full", action="store_true", help="train and predict every week of the season")
    demo.add_argument(
        "--replay-days", type=int, default=3, help="the season's last N days come in through the replay (default 3)"
    )
    demo.set_defaults(func=cmd_demo)

    simulate = commands.add_parser("simulate", help="write a simulated season in the raw formats")
    simulate.add_argument("--season", default="2024-25")
    simulate.add_argument("--seed", type=int, default=7)
    simulate.add_argument("--out", required=True)
    simulate.add_argument("--days", type=int, default=None, help="only the first N game days")
    simulate.set_defaults(func=cmd_simulate)

    backfill = commands.add_parser("backfill", help="materialize a date range in one run")
    backfill.add_argument("--start", type=_parse_date, required=True)
    backfill.add_argument("--end", type=_parse_date, required=True)
    backfill.add_argument("--select", default=None, help="comma-separated asset names (default: all)")
    backfill.set_defaults(func=cmd_backfill)

    train = commands.add_parser("train", help="train every model family for the weeks covering a date range")
    train.add_argument("--start", type=_parse_date, required=True)
    train.add_argument("--end", type=_parse_date, required=True)
    train.set_defaults(func=cmd_train)

    evaluate = commands.add_parser("evaluate", help="walk-forward evaluation on a real data folder")
    evaluate.add_argument("--data", required=True, help="folder in the layout of ../shared/data/nba")
    evaluate.add_argument("--start", type=_parse_date, required=True)
    evaluate.add_argument("--end", type=_parse_date, required=True)
    evaluate.add_argument("--out", default=None, help="report folder (default $NBA_PROPS_HOME/reports)")
    evaluate.add_argument(
        "--history-days",
        type=int,
        default=None,
        help="calendar days before --start to build features for, i.e. the training history "
        "(default: training.evaluation_history_days of config/models.yaml; box scores are "
        "ingested as many days further back as player_features reads)",
    )
    evaluate.set_defaults(func=cmd_evaluate)

    replay = commands.add_parser(
        "replay", help="advance a simulated clock hour by hour and let the sensors and automation run the graph"
    )
    replay.add_argument("--start", type=_parse_date, required=True)
    replay.add_argument("--end", type=_parse_date, required=True)
    replay.add_argument(
        "--withhold-box-scores",
        type=_parse_date,
        action="append",
        metavar="DATE",
        help="plant a fault: the provider keeps DATE's box scores until the next day at --release-hour ET (repeatable)",
    )
    replay.add_argument("--release-hour", type=int, default=12, help="ET hour withheld box scores appear (default 12)")
    replay.add_argument(
        "--speed",
        type=float,
        default=0.0,
        help="simulated seconds per wall-clock second, to watch it in the UI (default 0: as fast as possible)",
    )
    replay.set_defaults(func=cmd_replay)

    publish = commands.add_parser("publish", help="re-materialize the published JSON files (v1/...) of dates")
    publish.add_argument("--date", type=_parse_date, default=None, help="the game date (default: today, ET)")
    publish.add_argument("--end", type=_parse_date, default=None, help="publish --date .. --end in one run")
    publish.set_defaults(func=cmd_publish)

    show = commands.add_parser("show", help="print a published file in the terminal")
    show.add_argument("what", choices=["best-bets"], help="best-bets: the season record and a day's picks")
    show.add_argument(
        "--date", type=_parse_date, default=None,
        help="the date's all.json as published for it (default: the current v1/best-bets/all.json)",
    )  # fmt: skip
    show.set_defaults(func=cmd_show)

    tables = commands.add_parser("tables", help="row counts of the warehouse tables")
    tables.set_defaults(func=cmd_tables)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except Exception as error:
        runs = sys.modules.get("nba_props.runs")  # loaded by any command that launched a run
        if runs is not None and isinstance(error, runs.PoolWaitTimeout):
            print(f"not launched: {error}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
