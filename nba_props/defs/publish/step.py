"""The publish assets in one step: a subsettable multi-asset over the six publish assets
(config/publish.yaml). Each stays an asset of its own: its files, table, checks, lineage (only
the inputs it reads), automation, freshness and per-partition metadata. A run loads each input
once and writes the selected assets in the config's order.

One step, not six: every step costs Dagster's bookkeeping whatever it computes (its start and end
events, each input's provenance lookup, load and events), and a run of the publish assets
computes little (~10-40 ms an asset for a day); six steps loaded the same season windows of the
ledger, its grading and best_bets six times. A file failing its schema writes nothing for its
asset; the step's other assets are written, then its blocking check fails the step."""

from collections.abc import Iterator

import dagster as dg
import polars as pl

from nba_props.defs.publish import writer
from nba_props.defs.publish.admin import ADMIN
from nba_props.defs.publish.inputs import INPUTS
from nba_props.defs.publish.public import PUBLIC
from nba_props.io.artifacts import ArtifactStoreResource
from nba_props.resources import ClockResource

PUBLISHED = {p.name: p for p in (*PUBLIC, *ADMIN)}
if list(PUBLISHED) != list(writer.CONFIG.assets):
    raise ValueError(f"the publish step's assets {list(PUBLISHED)} must be config/publish.yaml's, in its order")


def _out(published) -> tuple[dg.AssetOut, list[dg.AssetCheckSpec]]:
    kwargs = writer.asset_kwargs(published.name, published.description)
    out = dg.AssetOut(
        key=published.name,
        description=kwargs["description"],
        group_name=kwargs["group_name"],
        kinds=kwargs["kinds"],
        metadata=kwargs["metadata"],
        owners=kwargs["owners"],
        tags=kwargs["tags"],
        is_required=False,  # a subset run writes only the selected assets
    )
    return out, kwargs["check_specs"]


_OUTS = {name: _out(p) for name, p in PUBLISHED.items()}
_DAILY = writer.asset_kwargs(next(iter(PUBLISHED)), "")


@dg.multi_asset(
    name="publish",
    outs={name: out for name, (out, _) in _OUTS.items()},
    ins=INPUTS,
    internal_asset_deps={name: p.upstream() for name, p in PUBLISHED.items()},
    check_specs=[spec for _, specs in _OUTS.values() for spec in specs],
    partitions_def=_DAILY["partitions_def"],
    backfill_policy=_DAILY["backfill_policy"],
    pool=_DAILY["pool"],
    can_subset=True,
)
def publish(
    context: dg.AssetExecutionContext,
    artifacts: ArtifactStoreResource,
    clock: ClockResource,
    ledger: pl.DataFrame,
    graded: pl.DataFrame,
    best_bets: pl.DataFrame,
    schedule: pl.DataFrame,
    performance: pl.DataFrame,
    signal_health: pl.DataFrame,
    registry: pl.DataFrame,
    predictions: pl.DataFrame,
    alerts: pl.DataFrame,
) -> Iterator:
    loaded = {"ledger": ledger, "graded": graded, "best_bets": best_bets, "schedule": schedule,
              "performance": performance, "signal_health": signal_health, "registry": registry,
              "predictions": predictions, "alerts": alerts}  # fmt: skip
    store = artifacts.store()
    selected = {key.to_user_string() for key in context.selected_asset_keys}
    for name, published in PUBLISHED.items():
        if name in selected:
            yield from published.run(context, store, clock, loaded)
