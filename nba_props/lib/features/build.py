"""The `player_features` orchestrator: run the feature blocks, check them against the contract,
fill defaults, count range errors, score quality and conform to the declared schema.

    build_player_features(inputs, contract, feature_set="v12") -> one row per target

Every contract feature (of all sets) is computed; the quality and readiness columns are scored
for `feature_set` (recorded in the `feature_set` column). Nothing is clipped: a value outside its
declared range is kept, counted in `out_of_range_features` and blocks the row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import polars as pl

from nba_props.lib.features.contract import (
    BLOCKS,
    IDENTITY_COLUMNS,
    FeatureContract,
    load_contract,
    player_features_schema,
)
from nba_props.lib.features.inputs import KEY_COLUMNS, SOURCES, FeatureInputs, source_column
from nba_props.lib.features.quality import DEFAULT_SOURCE, score_quality
from nba_props.lib.schemas import conform, empty
from nba_props.seasons import season_label_expr

Block = Callable[[FeatureInputs], pl.DataFrame]
SOURCE_SUFFIX = "__source"


class FeatureContractError(ValueError):
    """A block's output disagrees with the feature contract (a programming error, never data)."""


def default_block(name: str) -> Block:
    """The library block of that name (imported lazily: team_context lives in its own module)."""
    if name == "player_history":
        from nba_props.lib.features.player_history import player_history_features

        return player_history_features
    if name == "vegas":
        from nba_props.lib.features.vegas import vegas_features

        return vegas_features
    if name == "team_context":
        from nba_props.lib.features.team_context import team_context_features

        return team_context_features
    raise KeyError(f"unknown feature block {name!r}")


def build_player_features(
    inputs: FeatureInputs,
    contract: FeatureContract | None = None,
    *,
    feature_set: str = "v12",
    blocks: Mapping[str, Block] | None = None,
) -> pl.DataFrame:
    """Features for every target row of `inputs`, in `player_features_schema(contract)`.

    `blocks` replaces library blocks by name (tests); every name in contract.BLOCKS must resolve.
    """
    contract = contract or load_contract()
    contract.features_of(feature_set)  # validates the set name
    schema = player_features_schema(contract)
    targets = _checked_targets(inputs.targets)
    if targets.height == 0:
        return empty(schema)
    overrides = dict(blocks or {})
    unknown_blocks = sorted(set(overrides) - set(BLOCKS))
    if unknown_blocks:
        raise FeatureContractError(f"unknown blocks {unknown_blocks}; known: {list(BLOCKS)}")

    frame = targets.select(*KEY_COLUMNS, *_identity_exprs(targets))
    produced: dict[str, str] = {}
    for name in BLOCKS:
        block = overrides.get(name) or default_block(name)
        out = block(inputs)
        features = _check_block_output(name, out, contract, produced)
        value_cols = [pl.col(f).cast(pl.Float64) for f in features]
        source_cols = [pl.col(source_column(f)).cast(pl.Utf8) for f in features]
        frame = frame.join(
            out.select(*KEY_COLUMNS, *value_cols, *source_cols), on=list(KEY_COLUMNS), how="left", maintain_order="left"
        )
    missing = [f for f in contract.names if f not in produced]
    if missing:
        raise FeatureContractError(f"contract features produced by no block: {missing}")
    _check_sources(frame, contract)
    frame = frame.with_columns(_filled(contract))
    frame = score_quality(frame, contract, feature_set)
    return conform(frame, schema).sort(*KEY_COLUMNS)


def _checked_targets(targets: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in KEY_COLUMNS if c not in targets.columns]
    if missing:
        raise ValueError(f"targets lack key columns {missing}")
    nulls = targets.filter(pl.any_horizontal([pl.col(c).is_null() for c in KEY_COLUMNS]))
    if nulls.height:
        raise ValueError(f"{nulls.height} target rows have a NULL key column")
    dupes = targets.group_by(list(KEY_COLUMNS)).len().filter(pl.col("len") > 1)
    if dupes.height:
        raise ValueError(f"targets are not unique by {KEY_COLUMNS}: {dupes.head(5).to_dicts()}")
    return targets


def _identity_exprs(targets: pl.DataFrame) -> list[pl.Expr]:
    exprs = []
    for name, dtype in IDENTITY_COLUMNS.items():
        if name in targets.columns:
            exprs.append(pl.col(name).cast(dtype))
        elif name == "season":
            exprs.append(season_label_expr(pl.col("game_date")).alias("season"))
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
    return exprs


def _check_block_output(
    block: str, out: pl.DataFrame, contract: FeatureContract, produced: dict[str, str]
) -> list[str]:
    """The contract features a block produced; raises on any disagreement with the contract."""
    if not isinstance(out, pl.DataFrame):
        raise FeatureContractError(f"block {block} returned {type(out).__name__}, not a polars DataFrame")
    missing_key = [c for c in KEY_COLUMNS if c not in out.columns]
    if missing_key:
        raise FeatureContractError(f"block {block} output lacks key columns {missing_key}")
    dupes = out.group_by(list(KEY_COLUMNS)).len().filter(pl.col("len") > 1)
    if dupes.height:
        raise FeatureContractError(
            f"block {block} returned {dupes.height} duplicated keys, e.g. {dupes.head(3).to_dicts()}"
        )
    columns = [c for c in out.columns if c not in KEY_COLUMNS]
    values = [c for c in columns if not c.endswith(SOURCE_SUFFIX)]
    sources = {c[: -len(SOURCE_SUFFIX)] for c in columns if c.endswith(SOURCE_SUFFIX)}
    known = set(contract.names)
    unknown = sorted((set(values) | sources) - known)
    if unknown:
        raise FeatureContractError(f"block {block} produced columns that are not contract features: {unknown}")
    unpaired = sorted(set(values) ^ sources)
    if unpaired:
        raise FeatureContractError(f"block {block}: features without a value/source pair: {unpaired}")
    for feature in values:
        owner = contract.feature(feature).block
        if feature in produced:
            raise FeatureContractError(f"feature {feature} produced by blocks {produced[feature]} and {block}")
        if owner != block:
            raise FeatureContractError(
                f"feature {feature} produced by block {block}; the contract assigns it to {owner}"
            )
        produced[feature] = block
    return values


def _check_sources(frame: pl.DataFrame, contract: FeatureContract) -> None:
    # One pass over every source column finds the offenders (a per-column unique() is a query
    # per feature, paid on every call); the details are gathered only for those.
    flags = frame.select(_per_contract("source_flags", contract, _source_flag_exprs)).row(0)
    bad = {}
    for spec, flagged in zip(contract.features, flags, strict=True):
        if not flagged:
            continue
        values = frame.get_column(spec.source_column).drop_nulls().unique().to_list()
        wrong = sorted(set(values) - set(SOURCES))
        if wrong:
            bad[spec.name] = wrong
    if bad:
        raise FeatureContractError(f"unknown feature sources (allowed {list(SOURCES)}): {bad}")


def _source_flag_exprs(contract: FeatureContract) -> list[pl.Expr]:
    allowed = list(SOURCES)
    return [
        (pl.col(s.source_column).is_not_null() & ~pl.col(s.source_column).is_in(allowed)).any().alias(s.name)
        for s in contract.features
    ]


# Expressions that depend on the contract only are built once per contract object (as the
# quality stages are): building ~130 when/then expressions costs more than applying them to a
# single date's rows, which the leak check rebuilds several times per run.
_EXPRS: dict[tuple[str, int], tuple[FeatureContract, list[pl.Expr]]] = {}
_EXPRS_MAX = 16


def _per_contract(
    name: str, contract: FeatureContract, builder: Callable[[FeatureContract], list[pl.Expr]]
) -> list[pl.Expr]:
    key = (name, id(contract))
    hit = _EXPRS.get(key)
    if hit is None or hit[0] is not contract:
        if len(_EXPRS) >= _EXPRS_MAX:
            _EXPRS.clear()
        hit = _EXPRS[key] = (contract, builder(contract))
    return hit[1]


def _filled(contract: FeatureContract) -> list[pl.Expr]:
    return _per_contract("filled", contract, _filled_exprs)


def _filled_exprs(contract: FeatureContract) -> list[pl.Expr]:
    """NULL value or source, or source "default" -> the contract default with source "default"."""
    exprs = []
    for spec in contract.features:
        value, source = pl.col(spec.name), pl.col(spec.source_column)
        defaulted = value.is_null() | source.is_null() | (source == DEFAULT_SOURCE)
        exprs.append(pl.when(defaulted).then(pl.lit(spec.default)).otherwise(value).alias(spec.name))
        exprs.append(pl.when(defaulted).then(pl.lit(DEFAULT_SOURCE)).otherwise(source).alias(spec.source_column))
    return exprs
