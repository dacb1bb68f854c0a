"""`model_evaluation`: the report (markdown + JSON, through the artifact store) of a window of
walk-forward predictions, read graded from `prediction_accuracy` (never graded again here).
`nba-props evaluate` materializes prediction_accuracy for the window, then runs it."""

from datetime import date, timedelta

import dagster as dg
import polars as pl

from nba_props.dagster_helpers import labels
from nba_props.io.artifacts import ArtifactStoreResource
from nba_props.io.io_manager import WarehouseResource
from nba_props.lib import champion as champion_lib
from nba_props.lib import health, schemas, tables
from nba_props.lib.evaluation import best_bets_record, evaluation_report, load_evaluation_config, report_markdown
from nba_props.lib.features.contract import load_contract
from nba_props.lib.models.graded import with_market_p_over
from nba_props.lib.models.registry import load_models_config
from nba_props.lib.models.training import requires_line
from nba_props.resources import SettingsResource
from nba_props.seasons import week_start, week_starts

REPORT_DIR = "reports"
FEATURE_COLUMNS = ["game_date", "game_id", "player_lookup", "line", "is_quality_ready", "block_reason"]


class EvaluationWindow(dg.Config):
    start: str
    end: str


def _training_skips(instance: dg.DagsterInstance, start: date, end: date) -> dict[str, str]:
    """ "YYYY-MM-DD/family" -> reason for the families the training runs of the window's weeks
    skipped (recorded in `trained_models` materialization metadata, not in the registry table)."""
    weeks = [week.isoformat() for week in week_starts(start, end)]
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("trained_models"), asset_partitions=weeks), limit=50 * len(weeks)
    ).records
    skipped: dict[str, str] = {}
    seen: set[str] = set()
    for record in records:  # newest first: only each week's latest materialization counts
        week = record.partition_key
        if week in seen or record.asset_materialization is None:
            continue
        seen.add(week)
        value = record.asset_materialization.metadata.get("skipped")
        data = getattr(value, "data", None) or {}
        skipped.update({k: str(v) for k, v in data.items() if k.startswith(f"{week}/")})
    return skipped


def _chosen_champions(store, models, start: date, end: date) -> pl.DataFrame:
    """The champion chosen by evidence for each day of the window (lib/champion.py), from model
    health recomputed over the graded predictions since the season label's first day (the scan's
    anchor; the window's own predictions are usually all there is: the seed until they count)."""
    rules = health.load_health_config()
    anchor = champion_lib.label_first_day(start)
    accuracy = store.load("prediction_accuracy", start=anchor - timedelta(days=max(rules.windows)), end=end,
                          declared=tables.TABLE_SCHEMAS["prediction_accuracy"])  # fmt: skip
    registry = store.load("trained_models", start=anchor - timedelta(days=rules.staleness.lookback_days), end=end,
                          partition_column="week_start", declared=tables.TABLE_SCHEMAS["trained_models"])  # fmt: skip
    choices: list[pl.DataFrame] = []
    health.model_performance(accuracy, registry, start=start, end=end, champion=models.champion,
                             families=[f.id for f in models.enabled_families], config=rules, choices=choices)  # fmt: skip
    return choices[0] if choices else pl.DataFrame(schema=champion_lib.SCHEMA)


@dg.asset(
    name="model_evaluation",
    description="Per family: recommended picks' hit rate at edge ≥ 1/3/5 (Wilson intervals), ROI at real "
    "sportsbook prices with its N, top-5 per day, MAE vs the line, Brier vs the market, coverage (what was "
    "predicted, blocked, quarantined, and why), naive baselines on the champion's rows, calibration.",
    group_name="models",
    **labels("models", "on_demand"),
    kinds={"duckdb", "polars"},
    deps=[
        "prediction_accuracy",
        "box_scores",
        "player_lines",
        "player_features",
        "trained_models",
        "pick_accuracy",
        "best_bets",
    ],
)
def model_evaluation(
    context: dg.AssetExecutionContext,
    config: EvaluationWindow,
    warehouse: WarehouseResource,
    artifacts: ArtifactStoreResource,
    settings: SettingsResource,
) -> dg.MaterializeResult:
    start, end = date.fromisoformat(config.start), date.fromisoformat(config.end)
    store, models, eval_config = warehouse.warehouse(), load_models_config(), load_evaluation_config()
    contract = load_contract()
    box = store.load("box_scores", start=start - timedelta(days=eval_config.baseline_history_days), end=end,
                     declared=schemas.BOX_SCORES)  # fmt: skip
    graded = with_market_p_over(
        store.load("prediction_accuracy", start=start, end=end, declared=tables.TABLE_SCHEMAS["prediction_accuracy"]),
        store.load("player_lines", start=start, end=end, declared=tables.TABLE_SCHEMAS["player_lines"]),
    )
    if graded.height == 0:
        raise dg.Failure(
            f"no graded predictions in {start} .. {end}: nothing to evaluate (were lines, features, "
            "training, predictions and prediction_accuracy materialized for the window?)"
        )
    features = store.load("player_features", start=start, end=end, declared=tables.TABLE_SCHEMAS["player_features"])
    registry = store.load("trained_models", start=week_start(start), end=end, partition_column="week_start",
                          declared=tables.TABLE_SCHEMAS["trained_models"])  # fmt: skip
    report = evaluation_report(
        graded,
        champions=_chosen_champions(store, models, start, end),
        families=[f.id for f in models.enabled_families],
        champion=models.champion,
        start=start,
        end=end,
        features=features.select(FEATURE_COLUMNS),
        registry=registry,
        box_scores=box,
        needs_line={f.id: requires_line(f, contract) for f in models.enabled_families},
        skipped=_training_skips(context.instance, start, end),
        config=eval_config,
    )
    # what the system would really have published: the graded ledger (empty when the window's
    # picks were not built; the section is then left out)
    picks = store.load("pick_accuracy", start=start, end=end, declared=tables.TABLE_SCHEMAS["pick_accuracy"])
    if picks.height:
        slate = store.load("best_bets", start=start, end=end, declared=tables.TABLE_SCHEMAS["best_bets"])
        report["best_bets"] = best_bets_record(picks, slate.select("game_date", "health_gate_active"))
    broken = {f: fam["coverage"]["broken_identities"] for f, fam in report["families"].items()
              if fam["coverage"]["broken_identities"]}  # fmt: skip
    if broken:
        raise dg.Failure(f"coverage arithmetic does not add up: {broken}")
    markdown = report_markdown(report)
    files = artifacts.store()
    json_uri = files.write_json(f"{REPORT_DIR}/evaluation.json", report)
    md_uri = files.write_bytes(f"{REPORT_DIR}/evaluation.md", markdown.encode())
    champion = report["families"].get(report["champion"], {})
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.md(markdown),
            "json": json_uri,
            "markdown": md_uri,
            "graded_rows": graded.height,
            "champion_mae_ratio": champion.get("mae_ratio"),
            "chosen_champion_hr3": ((report["chosen_champion"].get("hr") or {}).get("3") or {}).get("hr"),
            "chosen_champion_switches": len(report["chosen_champion"]["switches"]),
            "best_bets_hr": (report.get("best_bets") or {}).get("hr"),
            "best_bets_picks": (report.get("best_bets") or {}).get("picks", 0),
            "window": f"{start} .. {end}",
            "settings": settings.metadata(),
        }
    )
