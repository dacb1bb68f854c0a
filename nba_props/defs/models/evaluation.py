"""`model_evaluation`: grade a window of walk-forward predictions against real outcomes and
write the report (markdown + JSON) through the artifact store. `nba-props evaluate` runs it."""

from datetime import date

import dagster as dg

from nba_props.dagster_helpers import settings_metadata
from nba_props.io.artifacts import ArtifactStoreResource
from nba_props.io.io_manager import WarehouseResource
from nba_props.lib import schemas, tables
from nba_props.lib.evaluation import report_markdown
from nba_props.lib.models.graded import evaluation_report, graded_predictions
from nba_props.lib.models.registry import load_models_config

REPORT_DIR = "reports"


class EvaluationWindow(dg.Config):
    start: str
    end: str


@dg.asset(
    name="model_evaluation",
    description="Per family and for the champion: MAE vs the line's MAE, hit rate at edge ≥ 1/3/5 with "
    "Wilson intervals, ROI at real prices, Brier vs the market, calibration, OVER/UNDER split.",
    group_name="models",
    kinds={"duckdb", "polars"},
    deps=["predictions", "box_scores", "player_lines", "schedule"],
)
def model_evaluation(
    context: dg.AssetExecutionContext,
    config: EvaluationWindow,
    warehouse: WarehouseResource,
    artifacts: ArtifactStoreResource,
) -> dg.MaterializeResult:
    start, end = date.fromisoformat(config.start), date.fromisoformat(config.end)
    store = warehouse.warehouse()
    graded = graded_predictions(
        store.load("predictions", start=start, end=end, declared=tables.TABLE_SCHEMAS["predictions"]),
        store.load("box_scores", start=start, end=end, declared=schemas.BOX_SCORES),
        store.load("player_lines", start=start, end=end, declared=schemas.PLAYER_LINES),
        store.load("schedule", start=start, end=end, declared=schemas.SCHEDULE),
    )
    report = evaluation_report(graded, champion=load_models_config().champion, start=start, end=end)
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
            "window": f"{start} .. {end}",
            "settings": settings_metadata(),
        }
    )
