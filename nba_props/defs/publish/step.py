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


# each asset's keywords (description with its files, labels, metadata, its checks); the step's
# partitions, backfill policy and pool are every publish asset's (`writer.asset_kwargs`)
_KWARGS = {name: writer.asset_kwargs(name, p.description) for name, p in PUBLISHED.items()}
_STEP = next(iter(_KWARGS.values()))


@dg.multi_asset(
    name="publish",
    outs={
        name: dg.AssetOut(
            key=name,
            description=kw["description"],
            group_name=kw["group_name"],
            kinds=kw["kinds"],
            metadata=kw["metadata"],
            owners=kw["owners"],
            tags=kw["tags"],
            is_required=False,  # a subset run writes only the selected assets
        )
        for name, kw in _KWARGS.items()
    },
    ins=INPUTS,
    internal_asset_deps={name: p.upstream() for name, p in PUBLISHED.items()},
    check_specs=[spec for kw in _KWARGS.values() for spec in kw["check_specs"]],
    partitions_def=_STEP["partitions_def"],
    backfill_policy=_STEP["backfill_policy"],
    pool=_STEP["pool"],
    can_subset=True,
)
def publish(
    context: dg.AssetExecutionContext, artifacts: ArtifactStoreResource, clock: ClockResource, **loaded: pl.DataFrame
) -> Iterator:
    """`loaded`: every input of `INPUTS` by name, each read once for the step."""
    store = artifacts.store()
    selected = {key.to_user_string() for key in context.selected_asset_keys}
    for name, published in PUBLISHED.items():
        if name in selected:
            yield from published.run(context, store, clock, loaded)
