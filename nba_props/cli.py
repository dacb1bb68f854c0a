"""`nba-props`: the command line.

  nba-props demo      simulate a season and run the main job over it (single-run backfill)
  nba-props simulate  write a simulated season in the raw formats real data comes in
  nba-props backfill  materialize a date range in one process; prints rows and seconds per asset
  nba-props tables    row counts of every table in the warehouse
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

MAIN_JOB = "nba_props_daily"

DAGSTER_YAML = """\
# Written by nba-props for a project-local DAGSTER_HOME.
telemetry:
  enabled: false
concurrency:
  pools:
    # DuckDB has one writer: assets in the `duckdb` pool run one at a time across runs.
    default_limit: 1
"""


def _dagster_home(settings) -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or settings.home / "dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from exc


def run_backfill(start: date, end: date, select: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Materialize [start, end] for the selection as ONE run (single-run backfill)."""
    import dagster as dg

    from nba_props.definitions import build_definitions
    from nba_props.defs.jobs import MAIN_JOB_NAME
    from nba_props.settings import load_settings

    if end < start:
        raise SystemExit(f"--end {end} is before --start {start}")
    _dagster_home(load_settings())
    job = build_definitions().resolve_job_def(MAIN_JOB_NAME)
    selection = [dg.AssetKey(name) for name in select] if select else None
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance,
            asset_selection=selection,
            tags={
                "dagster/asset_partition_range_start": start.isoformat(),
                "dagster/asset_partition_range_end": end.isoformat(),
            },
            raise_on_error=False,
            # Per-event DEBUG lines drown the summary; the UI keeps the full event log.
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
        return _summarize(instance.all_logs(result.run_id))


def _summarize(records) -> dict[str, dict[str, float]]:
    """Rows, seconds and failed checks per step, read from the run's event log."""
    import dagster as dg

    summary: dict[str, dict[str, float]] = defaultdict(dict)
    started: dict[str, float] = {}
    failed: list[str] = []
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
            rows = metadata.get("dagster/row_count") or metadata.get("rows")
            if rows is not None:
                summary[step]["rows"] = rows.value
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.asset_check_evaluation_data
            if not evaluation.passed:
                summary[step].setdefault("failed_checks", []).append(evaluation.check_name)
    for step in failed:
        summary[step]["failed"] = True
    return dict(summary)


def _print_summary(summary: dict[str, dict[str, float]], wall: float) -> None:
    print(f"{'asset':<28}{'rows':>10}{'seconds':>10}  checks")
    for step, figures in summary.items():
        checks = "FAILED: " + ", ".join(figures["failed_checks"]) if figures.get("failed_checks") else "ok"
        if figures.get("failed"):
            checks = "STEP FAILED"
        print(f"{step:<28}{int(figures.get('rows', 0)):>10}{figures.get('seconds', 0.0):>10.2f}  {checks}")
    print(f"wall time {wall:.1f} s")


def _print_tables() -> None:
    from nba_props.io.warehouse import Warehouse
    from nba_props.settings import load_settings

    settings = load_settings()
    warehouse = Warehouse(settings.duckdb_path)
    print(f"warehouse {settings.duckdb_path}")
    for table, count in sorted(warehouse.row_counts().items()):
        print(f"  nba_props.{table:<26}{count:>10} rows")


def cmd_simulate(args: argparse.Namespace) -> int:
    from nba_props.lib.sources.simulated import simulate_season

    summary = simulate_season(season=args.season, seed=args.seed, out_dir=Path(args.out), n_days=args.days)
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

    os.environ.setdefault("NBA_PROPS_PROVIDER", "simulated")
    settings = load_settings()
    if settings.provider != "simulated":
        raise SystemExit("the demo runs on the simulated league: unset NBA_PROPS_PROVIDER or set it to 'simulated'")
    started = time.perf_counter()
    ensure_simulated_season(settings.data_dir, settings.sim_season, settings.sim_seed)
    print(f"simulated {settings.sim_season} (seed {settings.sim_seed}) in {time.perf_counter() - started:.1f} s "
          f"-> {settings.data_dir}")
    season = seasons.season(settings.sim_season)
    start = season.opening_night
    end = season.regular_season_end if args.days is None else min(
        season.regular_season_end, date.fromordinal(start.toordinal() + args.days - 1)
    )
    print(f"running {MAIN_JOB} for {start} .. {end} as one single-run backfill")
    backfill_started = time.perf_counter()
    summary = run_backfill(start, end)
    _print_summary(summary, time.perf_counter() - backfill_started)
    _print_tables()
    print("\nresults:")
    print(f"  warehouse (DuckDB)  {settings.duckdb_path}   tables nba_props.<asset>")
    print(f"  artifacts           {settings.artifacts_dir}")
    print(f"  simulated raw data  {settings.data_dir}")
    print(f"  Dagster runs        {os.environ['DAGSTER_HOME']}   (open with `make ui`)")
    return 1 if any(f.get("failed") for f in summary.values()) else 0


def cmd_tables(args: argparse.Namespace) -> int:
    _print_tables()
    return 0



def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nba-props", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="simulate a season and run the main job over it")
    demo.add_argument("--days", type=int, default=None, help="only the first N days of the season")
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

    tables = commands.add_parser("tables", help="row counts of the warehouse tables")
    tables.set_defaults(func=cmd_tables)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
