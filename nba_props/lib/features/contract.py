"""The feature contract: `config/features.yaml` loaded and validated by pydantic.

One entry per feature (name, description, unit, valid range, default, required, sets, category,
block, line_derived). The contract decides which columns `player_features` has (`player_features_schema`),
which features each set holds (`features_of`), which of them gate a row (`required_of`) and what
a defaulted feature is worth (quality.py).

"No vegas" means no line at all: every feature computed from a prop line is `line_derived`, and a
set flagged `no_vegas` (every set whose name says "noveg" must be) may hold none of them, so a
model of that set cannot recover the line. A line-derived feature may declare `default: null`:
its "cannot be computed" value is then NULL (the model sees a missing value), never a number that
reads like a real line relation (0 = "line equals average", "books agree", "line unchanged").

Signal features (issue 11) are contract features in NO set (`sets: []`): computed, checked,
range-validated and stored like every feature, read by the pick signals and filters, never by a
model (a model's columns are `feature_columns(family.feature_set)`, so they cannot reach one).
They are optional and their "cannot be computed" value is NULL (a signal reading NULL does not
fire). Their thresholds are the `signal_features` rules.

An extension set (issue 13) is a set that `extends` another and `adds` named features to it, after
the parent's columns: `v13_noveg` is v12_noveg plus minutes and role history that are stored as
signal features; `v14_noveg` is v13_noveg's list plus `teammates_out_points_prev_game` (extensions
do not nest: each names its parent plain set and every added feature). Added features keep their
contract entry (NULL default, no quality score); a model of the set reads a NULL as missing, as it
does a line-derived NULL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from nba_props.lib.config_files import CONFIG_DIR, load_config
from nba_props.lib.features.inputs import KEY_COLUMNS, SOURCES, source_column
from nba_props.lib.features.rules import (
    FeatureChecks,
    PlayerHistoryRules,
    QualityRules,
    SeasonRule,
    SignalFeatureRules,
    TeamContextConfig,
    TeamLogConfig,
    VegasRules,
)

DEFAULT_PATH = CONFIG_DIR / "features.yaml"

FeatureSetName = Literal["v9", "v12", "v12_noveg", "v13_noveg", "v14_noveg"]
FEATURE_SETS: tuple[str, ...] = ("v9", "v12", "v12_noveg", "v13_noveg", "v14_noveg")
Category = Literal["player_history", "team_context", "matchup", "vegas", "game_context"]
CATEGORIES: tuple[str, ...] = ("player_history", "team_context", "matchup", "vegas", "game_context")
BlockName = Literal["player_history", "vegas", "team_context"]
BLOCKS: tuple[str, ...] = ("player_history", "vegas", "team_context")
NOVEG_SET, FULL_SET = "v12_noveg", "v12"

# Columns carried over from the targets (player_lines) next to the key. `is_home` is not here:
# it is a feature (Float64), the target's boolean feeds it.
IDENTITY_COLUMNS = pl.Schema(
    {
        "player_name": pl.Utf8,
        "player_id": pl.Int64,
        "team": pl.Utf8,
        "opponent": pl.Utf8,
        "season": pl.Utf8,
        "game_status": pl.Utf8,
        "injury_status": pl.Utf8,
        "has_line": pl.Boolean,
        "line": pl.Float64,  # the chosen line as is (NULL without one), for predictions/grading
        "line_book": pl.Utf8,
        "market_type": pl.Utf8,  # sportsbook | dfs of the chosen line (NULL without one); not a contract feature
        # (a family with `market_type_feature` reads it as the model input `market_is_dfs`)
        "line_diagnostic": pl.Utf8,
    }
)
KEY_SCHEMA = pl.Schema({"game_date": pl.Date, "game_id": pl.Utf8, "player_lookup": pl.Utf8})
QUALITY_COLUMNS = pl.Schema(
    {
        "feature_set": pl.Utf8,
        "feature_quality_score": pl.Float64,
        "quality_tier": pl.Utf8,
        "required_default_count": pl.Int32,
        "default_feature_count": pl.Int32,
        "default_feature_names": pl.List(pl.Utf8),
        **{f"quality_{category}": pl.Float64 for category in CATEGORIES},
        "out_of_range_features": pl.Int32,
        "out_of_range_feature_names": pl.List(pl.Utf8),
        "is_quality_ready": pl.Boolean,
        "block_reason": pl.Utf8,
    }
)


# What the non-feature columns mean (the UI's column schema); feature columns are described by
# their contract entry (`player_features_descriptions`).
KEY_DOC = {
    "game_date": "Game date (America/New_York): the partition key; features use only games before it.",
    "game_id": "Canonical game id YYYYMMDD_AWAY_HOME.",
    "player_lookup": "Normalized player name: with game_id, the row's key.",
}
IDENTITY_DOC = {
    "player_name": "Player name (from player_lines).",
    "player_id": "League player id; NULL for a player never seen in box scores.",
    "team": "The player's newest team before the date.",
    "opponent": "The opposing team's tricode.",
    "season": "Season label of the game date, e.g. 2024-25.",
    "game_status": "The game's schedule status on the date.",
    "injury_status": "Status of the newest injury report before tip; NULL without one.",
    "has_line": "True when any book posted a points line before tip.",
    "line": "The chosen line as is (NULL without one), for predictions and grading; not a feature.",
    "line_book": "The book of the chosen line.",
    "market_type": "sportsbook or dfs of the chosen line (NULL without one); not a contract feature (a family "
    "with market_type_feature reads it as market_is_dfs).",
    "line_diagnostic": "LINE_SOURCE, NO_PROP_LINE or LINE_SANITY_REJECT (from player_lines).",
}
QUALITY_DOC = {
    "feature_set": "The feature set the quality columns score (the contract's default set).",
    "feature_quality_score": "Mean source weight of the set's required features (all of them when none is "
    "required), capped when required features are defaulted (config/features.yaml quality).",
    "quality_tier": "Tier of the quality score (gold / silver / bronze / poor / critical; floors in config).",
    "required_default_count": "Number of the set's required features that were defaulted.",
    "default_feature_count": "Number of the set's features that were defaulted.",
    "default_feature_names": "The set's defaulted features.",
    **{
        f"quality_{category}": f"Mean source weight of the set's {category} features (NULL when it has none)."
        for category in CATEGORIES
    },
    "out_of_range_features": "Number of features whose value lies outside its contract range.",
    "out_of_range_feature_names": "The features whose value lies outside its contract range.",
    "is_quality_ready": "True when the tier is a ready tier, no required feature is defaulted and no value is "
    "out of range: only ready rows are predicted.",
    "block_reason": "Why the row is not ready (required_defaults / out_of_range / quality_tier); NULL when ready.",
}


class FeatureSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*[a-z0-9]$")
    description: str = Field(min_length=1)
    unit: str = Field(min_length=1)
    min: float
    max: float
    default: float | None  # None (only for line-derived and signal features): defaulted = NULL
    required: bool
    # the model feature sets holding it; empty = a signal feature (read by signals and filters only)
    sets: tuple[FeatureSetName, ...]
    category: Category
    block: BlockName
    line_derived: bool = False  # computed from a prop line (the line, its moves, books, streaks vs it, ...)

    @model_validator(mode="after")
    def _check(self) -> FeatureSpec:
        if "__" in self.name:
            raise ValueError(f"{self.name}: '__' is reserved for source columns")
        if not self.sets and self.required:
            raise ValueError(f"{self.name}: a feature in no set (a signal feature) cannot be required")
        if self.default is None:
            if not (self.line_derived or self.is_signal) or self.required:
                raise ValueError(
                    f"{self.name}: a NULL default is only allowed for optional line-derived features "
                    "and signal features (in no set)"
                )
        elif not self.min <= self.default <= self.max:
            raise ValueError(f"{self.name}: need min <= default <= max, got {self.min} <= {self.default} <= {self.max}")
        if self.min >= self.max:
            raise ValueError(f"{self.name}: empty range [{self.min}, {self.max}]")
        if len(set(self.sets)) != len(self.sets):
            raise ValueError(f"{self.name}: duplicate set in {self.sets}")
        if self.line_derived and self.required:
            raise ValueError(f"{self.name}: line-derived features cannot be required (players without lines)")
        if self.line_derived and self.category != "vegas":
            raise ValueError(f"{self.name}: a line-derived feature must have category vegas")
        return self

    @property
    def source_column(self) -> str:
        return source_column(self.name)

    @property
    def is_signal(self) -> bool:
        """In no model feature set: read by signals and filters only."""
        return not self.sets

    def column_description(self) -> str:
        """The value column's description, from this entry: what it is, unit, range, default, role."""
        default = "NULL" if self.default is None else f"{self.default:g}"
        role = "required (a default blocks the row)" if self.required else "optional"
        sets = f"sets {', '.join(self.sets)}" if self.sets else "no model set (read by signals and filters only)"
        return (
            f"{self.description} Unit: {self.unit}; valid [{self.min:g}, {self.max:g}]; default {default}; "
            f"{role}; {sets}; {self.category}" + ("; derived from a prop line." if self.line_derived else ".")
        )

    def source_description(self) -> str:
        return (
            f"Where {self.name} came from: one of {', '.join(SOURCES)} "
            f"('default': not computable, the value is the contract default {'NULL' if self.default is None else f'{self.default:g}'})."
        )


class LeakCheckConfig(BaseModel):
    """The `leak_check` section: how the blocking leak check of player_features samples and compares."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sample_dates: int = Field(ge=5)  # the first, the last and dates between (all when fewer)
    # players rebuilt per sampled date: at least `players_per_team` of every team of every game
    # of the date, then more up to `players_per_date` (all when the date has no more)
    players_per_date: int = Field(ge=1)
    players_per_team: int = Field(ge=1)
    float_tolerance: float = Field(ge=0.0, lt=1e-3)
    max_players_reported: int = Field(ge=1)


class SetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(min_length=1)
    no_vegas: bool = False  # holds no line-derived feature (validated)
    # an extension set: the parent's features, then `adds` (feature names, in this order)
    extends: FeatureSetName | None = None
    adds: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> SetSpec:
        if bool(self.extends) != bool(self.adds):
            raise ValueError("a set with `extends` must `adds` features, and `adds` needs `extends`")
        if len(set(self.adds)) != len(self.adds):
            raise ValueError(f"duplicate names in adds: {self.adds}")
        return self


class FeatureContract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    default_set: FeatureSetName = "v12"
    sets: dict[FeatureSetName, SetSpec]
    leak_check: LeakCheckConfig
    # the rules of the blocks, the quality score and the checks (lib/features/rules.py)
    season_rule: SeasonRule
    player_history: PlayerHistoryRules
    team_logs: TeamLogConfig
    team_context: TeamContextConfig
    vegas: VegasRules
    signal_features: SignalFeatureRules
    quality: QualityRules
    checks: FeatureChecks
    features: tuple[FeatureSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> FeatureContract:
        names = [f.name for f in self.features]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate feature names: {duplicates}")
        clashes = sorted(set(names) & (set(KEY_COLUMNS) | set(IDENTITY_COLUMNS) | set(QUALITY_COLUMNS)))
        if clashes:
            raise ValueError(f"feature names clash with key/identity/quality columns: {clashes}")
        missing_sets = set(FEATURE_SETS) - set(self.sets)
        if missing_sets:
            raise ValueError(f"sets section lacks {sorted(missing_sets)}")
        vegas = set(self.line_derived_features)
        members = {s: {f.name for f in self.features if s in f.sets} for s in FEATURE_SETS}
        for set_name, spec in self.sets.items():
            if not spec.extends:
                continue
            if members[set_name]:
                raise ValueError(f"extension set {set_name}: list its features in `adds`, not in features' sets")
            parent = self.sets.get(spec.extends)
            if parent is None or parent.extends:
                raise ValueError(f"set {set_name} extends {spec.extends!r}: not a plain set of this contract")
            unknown = sorted(set(spec.adds) - set(names))
            if unknown:
                raise ValueError(f"set {set_name} adds unknown features: {unknown}")
            already = sorted(set(spec.adds) & members[spec.extends])
            if already:
                raise ValueError(f"set {set_name} adds features {spec.extends} already holds: {already}")
            required = sorted(n for n in spec.adds if self.feature(n).required)
            if required:
                raise ValueError(f"set {set_name} adds required features (an added feature is optional): {required}")
            members[set_name] = members[spec.extends] | set(spec.adds)
        for set_name, spec in self.sets.items():
            if "noveg" in set_name and not spec.no_vegas:
                raise ValueError(f"set {set_name}: its name says no vegas, so it must be flagged no_vegas: true")
            leaked = sorted(members[set_name] & vegas) if spec.no_vegas else []
            if leaked:
                raise ValueError(f"no_vegas set {set_name} holds line-derived features: {leaked}")
        not_features = sorted(set(self.checks.must_vary) - set(names))
        if not_features:
            raise ValueError(f"checks.must_vary names unknown features: {not_features}")
        if not members["v9"] <= members["v12"]:
            raise ValueError(f"v9 must be a subset of v12; not in v12: {sorted(members['v9'] - members['v12'])}")
        expected_noveg = members[FULL_SET] - vegas
        if members[NOVEG_SET] != expected_noveg:
            raise ValueError(
                "v12_noveg must be v12 minus the line-derived features: "
                f"extra {sorted(members[NOVEG_SET] - expected_noveg)}, missing {sorted(expected_noveg - members[NOVEG_SET])}"
            )
        return self

    # -- lookups -----------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def line_derived_features(self) -> tuple[str, ...]:
        """Features computed from a prop line, in contract order."""
        return tuple(f.name for f in self.features if f.line_derived)

    @property
    def vegas_line_features(self) -> tuple[str, ...]:
        """Alias of `line_derived_features` (a set holding any of them needs a line)."""
        return self.line_derived_features

    def holds_line_features(self, set_name: str) -> bool:
        """True when the set holds a line-derived feature (a model of it needs a line on every row)."""
        return bool(set(self.feature_columns(set_name)) & set(self.vegas_line_features))

    @property
    def signal_feature_names(self) -> tuple[str, ...]:
        """Features in no model set (read by signals and filters only), in contract order."""
        return tuple(f.name for f in self.features if f.is_signal)

    @property
    def no_vegas_sets(self) -> tuple[str, ...]:
        return tuple(name for name, spec in self.sets.items() if spec.no_vegas)

    def feature(self, name: str) -> FeatureSpec:
        for spec in self.features:
            if spec.name == name:
                return spec
        raise KeyError(f"unknown feature {name!r}")

    def _check_set(self, set_name: str) -> None:
        if set_name not in FEATURE_SETS:
            raise ValueError(f"unknown feature set {set_name!r}; known: {', '.join(FEATURE_SETS)}")

    def features_of(self, set_name: str) -> list[FeatureSpec]:
        """The set's features in the model column order: contract order; an extension set's
        parent features first, then its `adds` in their listed order."""
        self._check_set(set_name)
        spec = self.sets[set_name]
        if spec.extends:
            return [*self.features_of(spec.extends), *(self.feature(n) for n in spec.adds)]
        return [f for f in self.features if set_name in f.sets]

    def required_of(self, set_name: str) -> list[FeatureSpec]:
        return [f for f in self.features_of(set_name) if f.required]

    def feature_columns(self, set_name: str) -> list[str]:
        return [f.name for f in self.features_of(set_name)]

    def of_block(self, block: str) -> list[FeatureSpec]:
        return [f for f in self.features if f.block == block]


def load_contract(path: str | Path | None = None) -> FeatureContract:
    """Load and validate the contract (default: nba_props/config/features.yaml). Cached per path."""
    return load_config(FeatureContract, path or DEFAULT_PATH)


def feature_columns(set_name: str, contract: FeatureContract | None = None) -> list[str]:
    """Value columns of a feature set, in contract order."""
    return (contract or load_contract()).feature_columns(set_name)


def player_features_schema(contract: FeatureContract | None = None) -> pl.Schema:
    """Columns of `player_features`: key, identity, every feature (value + source), quality."""
    contract = contract or load_contract()
    columns: dict[str, pl.DataType] = {**KEY_SCHEMA, **IDENTITY_COLUMNS}
    for spec in contract.features:
        columns[spec.name] = pl.Float64
        columns[spec.source_column] = pl.Utf8
    columns.update(QUALITY_COLUMNS)
    return pl.Schema(columns)


def player_features_descriptions(contract: FeatureContract | None = None) -> dict[str, str]:
    """A description of every column of `player_features_schema`: key, identity and quality columns
    from the docs above, each feature and its source column from its contract entry."""
    contract = contract or load_contract()
    descriptions = {**KEY_DOC, **IDENTITY_DOC}
    for spec in contract.features:
        descriptions[spec.name] = spec.column_description()
        descriptions[spec.source_column] = spec.source_description()
    return {**descriptions, **QUALITY_DOC}
