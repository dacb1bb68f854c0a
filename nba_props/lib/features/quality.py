"""Per-row feature quality, tiers and the zero-tolerance readiness gate.

Every number is a rule of config/features.yaml, section `quality`: the weight of each source
(real sources: box_scores, lines, schedule, injuries, calculated; then prior_season, default).
`feature_quality_score` is the mean weight over the feature set's required features, capped with
one required default and lower with `many_required_defaults` or more. A row is quality-ready
when its tier is one of `ready_tiers`, no required feature is defaulted and no feature value lies
outside its declared range; otherwise `block_reason` says why. Blocked rows stay in the table;
models only see ready rows."""

from __future__ import annotations

from typing import Any

import polars as pl

from nba_props.lib.features.contract import CATEGORIES, FeatureContract, FeatureSpec, load_contract
from nba_props.lib.features.inputs import KEY_COLUMNS, SOURCES

# The weights, tiers and caps are the rules of config/features.yaml, section quality (loaded once).
_RULES = load_contract().quality
DEFAULT_SOURCE = "default"
SOURCE_WEIGHTS: dict[str, float] = {
    **{s: _RULES.real_source_weight for s in SOURCES},
    "prior_season": _RULES.prior_season_weight,
    DEFAULT_SOURCE: _RULES.default_weight,
}
# (tier, minimum score), best first; below the last one the tier is "critical".
TIERS: tuple[tuple[str, float], ...] = tuple(_RULES.tiers.items())
CRITICAL = "critical"
READY_TIERS = _RULES.ready_tiers
CAP_ONE_REQUIRED_DEFAULT = _RULES.cap_one_required_default
CAP_MANY_REQUIRED_DEFAULTS = _RULES.cap_many_required_defaults
MANY_REQUIRED_DEFAULTS = _RULES.many_required_defaults


def source_weight(source: pl.Expr) -> pl.Expr:
    """Weight of a source column (a NULL source counts as default)."""
    return source.fill_null(DEFAULT_SOURCE).replace_strict(SOURCE_WEIGHTS, return_dtype=pl.Float64)


def is_default(spec: FeatureSpec) -> pl.Expr:
    return pl.col(spec.source_column).fill_null(DEFAULT_SOURCE) == DEFAULT_SOURCE


def out_of_range(spec: FeatureSpec) -> pl.Expr:
    """True when the value is set and outside [min, max] (NaN counts as outside)."""
    value = pl.col(spec.name)
    return value.is_not_null() & (value.is_nan() | (value < spec.min) | (value > spec.max))


def _names_where(specs: list[FeatureSpec], condition) -> pl.Expr:
    if not specs:
        return pl.lit([], dtype=pl.List(pl.Utf8))
    return pl.concat_list(
        [pl.when(condition(s)).then(pl.lit(s.name)).otherwise(pl.lit(None, dtype=pl.Utf8)) for s in specs]
    ).list.drop_nulls()


def tier_expr(score: pl.Expr) -> pl.Expr:
    expr = pl.lit(CRITICAL)
    for tier, floor in reversed(TIERS):
        expr = pl.when(score >= floor).then(pl.lit(tier)).otherwise(expr)
    return expr


def score_quality(frame: pl.DataFrame, contract: FeatureContract, feature_set: str) -> pl.DataFrame:
    """Add the quality columns (contract.QUALITY_COLUMNS) for `feature_set` to a frame holding
    every contract feature's value and source column."""
    for stage in _quality_stages(contract, feature_set):
        frame = frame.with_columns(stage)
    return frame.drop("_mean", "_required_default_names")


# Expressions depend on the contract and the set only; building them (hundreds of when/then over
# ~66 features) costs more than scoring a single date's rows, so they are built once per
# (contract object, set). Keyed by identity (the contract is frozen; load_contract caches it).
_STAGES: dict[tuple[int, str], tuple[FeatureContract, tuple[list[pl.Expr], ...]]] = {}
_STAGES_MAX = 16


def _quality_stages(contract: FeatureContract, feature_set: str) -> tuple[list[pl.Expr], ...]:
    key = (id(contract), feature_set)
    hit = _STAGES.get(key)
    if hit is None or hit[0] is not contract:
        if len(_STAGES) >= _STAGES_MAX:
            _STAGES.clear()
        hit = _STAGES[key] = (contract, _build_quality_stages(contract, feature_set))
    return hit[1]


def _build_quality_stages(contract: FeatureContract, feature_set: str) -> tuple[list[pl.Expr], ...]:
    """The `with_columns` stages of `score_quality`, in order."""
    specs = contract.features_of(feature_set)
    required = contract.required_of(feature_set)
    scored = required or specs
    mean_weight = pl.mean_horizontal([source_weight(pl.col(s.source_column)) for s in scored])
    required_defaults = pl.sum_horizontal([is_default(s).cast(pl.Int32) for s in required]) if required else pl.lit(0)
    category_scores = []
    for category in CATEGORIES:
        members = [s for s in specs if s.category == category]
        score = (
            pl.mean_horizontal([source_weight(pl.col(s.source_column)) for s in members])
            if members
            else pl.lit(None, dtype=pl.Float64)
        )
        category_scores.append(score.alias(f"quality_{category}"))
    everything = list(contract.features)
    first = [
        pl.lit(feature_set).alias("feature_set"),
        mean_weight.alias("_mean"),
        required_defaults.cast(pl.Int32).alias("required_default_count"),
        _names_where(specs, is_default).alias("default_feature_names"),
        _names_where(required, is_default).alias("_required_default_names"),
        _names_where(everything, out_of_range).alias("out_of_range_feature_names"),
        *category_scores,
    ]
    second = [
        pl.col("default_feature_names").list.len().cast(pl.Int32).alias("default_feature_count"),
        pl.col("out_of_range_feature_names").list.len().cast(pl.Int32).alias("out_of_range_features"),
        pl.when(pl.col("required_default_count") >= MANY_REQUIRED_DEFAULTS)
        .then(pl.min_horizontal(pl.col("_mean"), pl.lit(CAP_MANY_REQUIRED_DEFAULTS)))
        .when(pl.col("required_default_count") >= 1)
        .then(pl.min_horizontal(pl.col("_mean"), pl.lit(CAP_ONE_REQUIRED_DEFAULT)))
        .otherwise(pl.col("_mean"))
        .alias("feature_quality_score"),
    ]
    third = [tier_expr(pl.col("feature_quality_score")).alias("quality_tier")]
    ready = (
        pl.col("quality_tier").is_in(READY_TIERS)
        & (pl.col("required_default_count") == 0)
        & (pl.col("out_of_range_features") == 0)
    )
    reasons = [
        pl.when(pl.col("required_default_count") > 0).then(
            pl.lit("required_defaults: ") + pl.col("_required_default_names").list.join(", ")
        ),
        pl.when(pl.col("out_of_range_features") > 0).then(
            pl.lit("out_of_range: ") + pl.col("out_of_range_feature_names").list.join(", ")
        ),
        # The tier is named only when it is the sole cause (a required default caps the score).
        pl.when(
            ~pl.col("quality_tier").is_in(READY_TIERS)
            & (pl.col("required_default_count") == 0)
            & (pl.col("out_of_range_features") == 0)
        ).then(
            pl.lit("quality_tier: ")
            + pl.col("quality_tier")
            + pl.lit(" (")
            + pl.col("feature_quality_score").round(1).cast(pl.Utf8)
            + pl.lit(")")
        ),
    ]
    fourth = [
        ready.alias("is_quality_ready"),
        pl.when(ready)
        .then(pl.lit(None, dtype=pl.Utf8))
        .otherwise(pl.concat_str(reasons, separator="; ", ignore_nulls=True))
        .alias("block_reason"),
    ]
    return first, second, third, fourth


def feature_range_violations(rows: pl.DataFrame, contract: FeatureContract) -> pl.DataFrame:
    """One row per (row, feature) whose value lies outside the contract range (for asset checks)."""
    schema = {"game_date": pl.Date, "game_id": pl.Utf8, "player_lookup": pl.Utf8, "feature": pl.Utf8,
              "value": pl.Float64, "min": pl.Float64, "max": pl.Float64}  # fmt: skip
    specs = [s for s in contract.features if s.name in rows.columns]
    if rows.height == 0 or not specs:
        return pl.DataFrame(schema=schema)
    flagged = rows.filter(pl.any_horizontal([out_of_range(s) for s in specs]))
    if flagged.height == 0:
        return pl.DataFrame(schema=schema)
    bounds = pl.DataFrame(
        {"feature": [s.name for s in specs], "min": [s.min for s in specs], "max": [s.max for s in specs]},
        schema={"feature": pl.Utf8, "min": pl.Float64, "max": pl.Float64},
    )
    long = flagged.select(*KEY_COLUMNS, *[pl.col(s.name).cast(pl.Float64) for s in specs]).unpivot(
        index=list(KEY_COLUMNS), variable_name="feature", value_name="value"
    )
    return (
        long.join(bounds, on="feature", how="inner")
        .filter(
            pl.col("value").is_not_null()
            & (pl.col("value").is_nan() | (pl.col("value") < pl.col("min")) | (pl.col("value") > pl.col("max")))
        )
        .select(list(schema))
        .sort(*KEY_COLUMNS, "feature")
    )


def quality_summary(rows: pl.DataFrame, contract: FeatureContract) -> dict[str, Any]:
    """Counts for run metadata: ready rows and share, tiers, defaults per feature, block reasons
    (by kind: required_defaults / out_of_range / quality_tier) and the most-defaulted required
    features behind the blocks."""
    total = rows.height
    if total == 0:
        return {"rows": 0, "ready_rows": 0, "ready_share": 0.0, "tiers": {}, "defaults_by_feature": {},
                "block_reasons": {}, "blocking_features": {}, "out_of_range_by_feature": {}}  # fmt: skip
    ready = int(rows["is_quality_ready"].sum())
    tiers = {str(k): int(v) for k, v in rows.group_by("quality_tier").len().sort("quality_tier").iter_rows()}
    specs = [s for s in contract.features if s.source_column in rows.columns]
    defaults = rows.select([is_default(s).sum().alias(s.name) for s in specs]).row(0, named=True)
    kinds = (
        rows.filter(pl.col("block_reason").is_not_null())
        .select(pl.col("block_reason").str.split("; ").list.eval(pl.element().str.extract(r"^([a-z_]+):", 1)))
        .explode("block_reason")
        .group_by("block_reason")
        .len()
        .sort("block_reason")
    )
    required_names = {s.name for s in contract.features if s.required}
    blocked = rows.filter(~pl.col("is_quality_ready"))
    blocking = (
        blocked.select(pl.col("default_feature_names").explode())
        .filter(pl.col("default_feature_names").is_in(sorted(required_names)))
        .group_by("default_feature_names")
        .len()
        .sort("len", "default_feature_names", descending=[True, False])
    )
    out_of_range = (
        rows.select(pl.col("out_of_range_feature_names").explode())
        .drop_nulls()
        .group_by("out_of_range_feature_names")
        .len()
    )
    return {
        "rows": total,
        "ready_rows": ready,
        "ready_share": round(ready / total, 4),
        "tiers": tiers,
        "defaults_by_feature": {k: int(v) for k, v in defaults.items() if v},
        "block_reasons": {str(k): int(v) for k, v in kinds.iter_rows() if k is not None},
        "blocking_features": {str(k): int(v) for k, v in blocking.iter_rows()},
        "out_of_range_by_feature": {
            str(k): int(v) for k, v in out_of_range.sort("out_of_range_feature_names").iter_rows()
        },
    }
