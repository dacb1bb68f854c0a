"""Best bets: from the day's predictions to ranked picks (pure polars, no dagster).

Rules: `config/filters.yaml` (`SelectionConfig`, validated here). The asset is
`nba_props/defs/picks/best_bets.py`; one row per CANDIDATE player-game (selected or not).

Day X, in order (`best_bets`):
1. Candidates (`choose_candidates`): per (game_id, player_lookup) the RECOMMENDED (OVER / UNDER),
   non-quarantined prediction with a line and the largest edge among the serving models (only
   serving models predict); ties: the family order of config/models.yaml, then model_id.
   `annotate_candidates` attaches: models agreeing (recommended predictions on the same side at
   edge >= `candidates.agreement_edge`, the candidate's own included), the champion's signed edge
   (+ on the same side), a direction conflict (a recommended prediction on the other side), and
   the consensus annotation (only votes at edge >= `candidates.consensus_edge`: agreeing models,
   their distinct feature sets, and a quantile UNDER consensus = the candidate is UNDER and at
   least `quantile_under_min_votes` quantile-loss models vote UNDER). Stored, never used to rank.
   The champion of X is the one chosen by evidence (lib/champion.py: model_performance_daily's
   `next_champion` of X - 1; the configured champion when there is none).
2. Health gate: X's champion's `model_performance_daily` row of X - 1 in a `health_gate.states`
   state (BLOCKED) -> every candidate of X unselected, `health_gate_active`, reason in the row.
3. Filters, in the YAML's order (the issue's): each says whether it WOULD block a candidate (a
   NULL input never blocks). `rejected_by` = the first ENFORCING filter that blocks; observe-mode
   filters that would block are listed in `observed_by` (they never reject).
4. Ranking by edge (ties: confidence, game_id, player_lookup), optional caps per day / team /
   game (off by default; a capped candidate is unselected with `rejected_by` NULL), `rank` 1..n.
5. Ultra tier: the first `ultra.rules` rule a candidate of an ultra feature set (v12 / v12_noveg)
   meets (`ultra_rule`); `ultra_public` = selected, ultra, and (UNDER, or the graded ultra OVER
   record as of X - 1 reaches `ultra.public_over`).
6. Angles (<= `angles.max_angles`, ordered): ultra, high conviction, direction x line tier,
   consensus, one per active signal (its season HR from `signal_health_daily` of X - 1),
   warnings (observe filters that would block), a direction-health warning.

History (why graded PREDICTIONS, not graded picks): Dagster's asset graph is acyclic and the
ledger (`published_picks`) and its grading are downstream of `best_bets`, so best_bets cannot
read them. Every history figure it uses - the blacklist, the ultra live hit rate and the public
OVER gate, the angles' hit rates, the model-direction affinity - is computed from the graded
predictions (`prediction_accuracy`) of the days BEFORE X (season-to-date = X's season label, or
a rolling window of days before X), re-deriving each past day's candidate with the SAME pure
functions (`choose_candidates`, `annotate_candidates`, `ultra_rule_expr`). The history figures
are therefore those of the candidates before filters (the filters need each day's features,
signals and health, which the history input does not carry): an approximation of the published
picks' record, stated in every figure's name (`candidate` history).

No number is typed into an angle: templates live in the YAML and may contain no digit
(validated); every number in an angle's text is a computed figure, returned beside the rows
(`angle_figures`) and audited by `unexplained_angle_numbers` (the asset's check).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Literal, NamedTuple

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nba_props import seasons
from nba_props.lib import schemas, signals
from nba_props.lib.config_files import CONFIG_DIR, load_config
from nba_props.lib.grading import LOSS, OVER, UNDER, WIN
from nba_props.lib.models.predict import PREDICTIONS_SCHEMA

FILTERS_CONFIG_PATH = CONFIG_DIR / "filters.yaml"
TABLE = "best_bets"
KEY = ("game_id", "player_lookup")
TOLERANCE = 1e-9  # float noise: an edge of exactly 5.0 meets a 5.0 floor
ENFORCE, OBSERVE = "enforce", "observe"
QUANTILE = "Quantile"
ACTIVE, SHADOW = "active", "shadow"
ANTI_PATTERN = "ANTI_PATTERN"
PICK_KEY = ["game_id", "player_lookup"]
_DIGIT = re.compile(r"\d")
# a number standing alone in a text ("62.5%", "N=40"), not a digit inside a word ("3pt_bounce", "v12")
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w])")


# ---------------------------------------------------------------------------------------------
# config


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _no_digits(text: str, what: str) -> str:
    if _DIGIT.search(text):
        raise ValueError(f"{what} {text!r} contains a digit: quote computed figures through placeholders only")
    return text


class _Filter(_Rules):
    description: str = Field(min_length=1)
    mode: Literal["enforce", "observe"]
    label: str = Field(min_length=1, description="Short text of the warning angle (no digits).")

    @field_validator("label")
    @classmethod
    def _label(cls, value: str) -> str:
        return _no_digits(value, "filter label")


class BlacklistFilter(_Filter):
    """The day's champion's season-to-date graded recommended picks of the player at edge >= min_edge
    (as of X - 1): at least min_picks of them at a hit rate strictly below hr_below."""

    id: Literal["blacklist"]
    min_edge: float = Field(ge=0)
    min_picks: int = Field(ge=1)
    hr_below: float = Field(gt=0, lt=1)


class EdgeFloorFilter(_Filter):
    """edge below the config's `edge_floor`."""

    id: Literal["edge_floor"]


class UnderEdgeNonV12Filter(_Filter):
    """UNDER from a family outside `ultra.feature_sets` (the v12 family) with edge below min_edge."""

    id: Literal["under_edge_non_v12"]
    min_edge: float = Field(ge=0)


class ModelDirectionAffinityFilter(_Filter):
    """The candidate's (family, direction) season-to-date candidate record as of X - 1: at least
    min_n graded at a hit rate strictly below hr_below."""

    id: Literal["model_direction_affinity"]
    min_n: int = Field(ge=1)
    hr_below: float = Field(gt=0, lt=1)


class FamiliarMatchupFilter(_Filter):
    """games_vs_opponent_season >= games_at_least."""

    id: Literal["familiar_matchup"]
    games_at_least: int = Field(ge=1)


class QualityFilter(_Filter):
    """feature_quality_score strictly below min_score."""

    id: Literal["quality"]
    min_score: float = Field(ge=0, le=100)


class UnderLowLineFilter(_Filter):
    """UNDER with a line strictly below line_below."""

    id: Literal["under_low_line"]
    line_below: float = Field(gt=0)


class UnderLineDeltaFilter(_Filter):
    """UNDER with |prop_line_delta| >= delta_at_least (player_lines' delta vs the previous lined game)."""

    id: Literal["under_line_delta"]
    delta_at_least: float = Field(gt=0)


class UnderNegativePlusMinusFilter(_Filter):
    """UNDER after >= streak_at_least straight games with a negative plus-minus."""

    id: Literal["under_negative_plus_minus"]
    streak_at_least: int = Field(ge=1)


class MinSignalsFilter(_Filter):
    """signal_count (active signals, model_health included) strictly below min_count."""

    id: Literal["min_signals"]
    min_count: int = Field(ge=1)


class ConfidenceFloorFilter(_Filter):
    """confidence (on [0, 1]) strictly below the candidate family's floor (no floor: never)."""

    id: Literal["confidence_floor"]
    floors: dict[str, float] = Field(default_factory=dict)

    @field_validator("floors")
    @classmethod
    def _unit(cls, value: dict[str, float]) -> dict[str, float]:
        bad = {k: v for k, v in value.items() if not 0 <= v <= 1}
        if bad:
            raise ValueError(f"confidence floors are on [0, 1] (confidence = |2 p_over - 1|), got {bad}")
        return value


class AntiPatternFilter(_Filter):
    """The candidate's signals (active and shadow tags) contain every signal of an ANTI_PATTERN combo of the registry."""

    id: Literal["anti_pattern"]


FilterRule = Annotated[
    BlacklistFilter
    | EdgeFloorFilter
    | UnderEdgeNonV12Filter
    | ModelDirectionAffinityFilter
    | FamiliarMatchupFilter
    | QualityFilter
    | UnderLowLineFilter
    | UnderLineDeltaFilter
    | UnderNegativePlusMinusFilter
    | MinSignalsFilter
    | ConfidenceFloorFilter
    | AntiPatternFilter,
    Field(discriminator="id"),
]
# the order; the YAML lists every filter exactly once, in this order
FILTER_ORDER = (
    "blacklist",
    "edge_floor",
    "under_edge_non_v12",
    "model_direction_affinity",
    "familiar_matchup",
    "quality",
    "under_low_line",
    "under_line_delta",
    "under_negative_plus_minus",
    "min_signals",
    "confidence_floor",
    "anti_pattern",
)


class CandidateRules(_Rules):
    agreement_edge: float = Field(ge=0)
    consensus_edge: float = Field(ge=0)
    quantile_under_min_votes: int = Field(ge=1)


class HealthGate(_Rules):
    states: tuple[str, ...] = Field(min_length=1)


class Caps(_Rules):
    per_day: int | None = Field(default=None, ge=1)
    per_team: int | None = Field(default=None, ge=1)
    per_game: int | None = Field(default=None, ge=1)

    @property
    def enabled(self) -> bool:
        return any(v is not None for v in (self.per_day, self.per_team, self.per_game))


class UltraRule(_Rules):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1)
    min_edge: float = Field(ge=0)
    direction: Literal["OVER", "UNDER"] | None = None

    @field_validator("label")
    @classmethod
    def _label(cls, value: str) -> str:
        return _no_digits(value, "ultra rule label")


class PublicOver(_Rules):
    min_n: int = Field(ge=1)
    min_hr: float = Field(gt=0, le=1)


class Ultra(_Rules):
    feature_sets: tuple[str, ...] = Field(min_length=1)
    rules: tuple[UltraRule, ...] = Field(min_length=1)
    public_over: PublicOver


class LineTier(_Rules):
    label: str = Field(min_length=1)
    below: float  # upper bound, exclusive (.inf for the last tier)

    @field_validator("label")
    @classmethod
    def _label(cls, value: str) -> str:
        return _no_digits(value, "line tier label")


class DirectionHealth(_Rules):
    window_days: int = Field(ge=1)
    min_n: int = Field(ge=1)
    warn_below: float = Field(gt=0, lt=1)


class Templates(_Rules):
    """Angle texts. Placeholders: {hr} (percent, one decimal) and {n} (count), both computed from
    graded history as of X - 1, and {rule} {direction} {tier} {signal} {filter} (labels). No digit."""

    ultra: str
    ultra_no_history: str
    high_conviction: str
    direction_tier: str
    consensus: str
    signal: str
    warning: str
    direction_health: str
    below_break_even: str  # wraps a record angle whose hit rate is below break-even: {angle}

    @model_validator(mode="after")
    def _texts(self) -> Templates:
        allowed = {"hr", "n", "rule", "direction", "tier", "signal", "filter", "angle"}
        for name, text in self.model_dump().items():
            _no_digits(text, f"angle template {name}")
            unknown = set(re.findall(r"{(\w*)}", text)) - allowed
            if unknown:
                raise ValueError(f"angle template {name}: unknown placeholders {sorted(unknown)}")
        return self


class Angles(_Rules):
    max_angles: int = Field(ge=1, le=5)
    min_n: int = Field(ge=1, description="an HR is quoted only over at least this many graded candidates")
    high_conviction_edge: float = Field(ge=0)
    consensus_min_votes: int = Field(ge=2)
    skip_signals: tuple[str, ...] = ()
    signal_hr_column: str = "hr_season"
    signal_n_column: str = "n_season"
    # a record quoted below this hit rate is not a reason for the pick: it is shown wrapped in
    # `templates.below_break_even` (a caution), never as support
    break_even: float = Field(gt=0, lt=1)
    direction_health: DirectionHealth
    templates: Templates


class SelectionConfig(_Rules):
    version: str = Field(min_length=1)
    edge_floor: float = Field(ge=0)
    candidates: CandidateRules
    health_gate: HealthGate
    filters: tuple[FilterRule, ...]
    caps: Caps = Caps()
    ultra: Ultra
    line_tiers: tuple[LineTier, ...] = Field(min_length=1)
    angles: Angles

    @model_validator(mode="after")
    def _valid(self) -> SelectionConfig:
        ids = tuple(f.id for f in self.filters)
        if ids != FILTER_ORDER:
            raise ValueError(f"filters must be listed once each in the issue's order {FILTER_ORDER}, got {ids}")
        bounds = [t.below for t in self.line_tiers]
        if bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
            raise ValueError(f"line tiers must have increasing upper bounds, got {bounds}")
        return self

    def filter(self, filter_id: str) -> _Filter:
        return next(f for f in self.filters if f.id == filter_id)


def load_selection_config(path: str | Path | None = None) -> SelectionConfig:
    return load_config(SelectionConfig, path or FILTERS_CONFIG_PATH)


# ---------------------------------------------------------------------------------------------
# the signal registry's anti-pattern combos


def anti_pattern_combos() -> tuple[tuple[str, ...], ...]:
    """The signal names of each ANTI_PATTERN combo of the signal registry (`lib/signals.py`)."""
    return tuple(tuple(c.signals) for c in signals.load_signal_registry().anti_patterns)


# ---------------------------------------------------------------------------------------------
# input contracts (the columns read; missing optional columns are NULL and never fire)

# the predictions' columns read (the predictions table's own schema, without the quarantine reason)
PREDICTION_COLUMNS = pl.Schema({c: t for c, t in PREDICTIONS_SCHEMA.items() if c != "quarantine_reason"})
HISTORY_COLUMNS = pl.Schema({**PREDICTION_COLUMNS, "result": pl.Utf8})
SIGNAL_TAGS_CONTRACT = pl.Schema(
    {"game_id": pl.Utf8, "player_lookup": pl.Utf8, "model_id": pl.Utf8, "signal": pl.Utf8, "state": pl.Utf8}
)
# signal_health_daily: the columns the signal angles read (hit rate as a fraction; the
# columns' names are `angles.signal_hr_column` / `signal_n_column`)
SIGNAL_HEALTH_CONTRACT = pl.Schema(
    {"game_date": pl.Date, "name": pl.Utf8, "kind": pl.Utf8, "hr_season": pl.Float64, "n_season": pl.Int64}
)
LINE_COLUMNS = pl.Schema(
    {
        "game_id": pl.Utf8,
        "player_lookup": pl.Utf8,
        "player_name": pl.Utf8,
        "team": pl.Utf8,
        "opponent": pl.Utf8,
        "tip_time_utc": pl.Datetime("us", "UTC"),
        "line_book": pl.Utf8,
        "over_price": pl.Int32,
        "under_price": pl.Int32,
        "prop_line_delta": pl.Float64,
    }
)
FEATURE_COLUMNS = pl.Schema(
    {
        "game_id": pl.Utf8,
        "player_lookup": pl.Utf8,
        "feature_quality_score": pl.Float64,
        "games_vs_opponent_season": pl.Float64,
        "negative_plus_minus_streak": pl.Float64,
    }
)
HEALTH_COLUMNS = pl.Schema({"game_date": pl.Date, "family": pl.Utf8, "state": pl.Utf8})


def _take(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    return schemas.conform(frame, schema, missing="null", extra="drop")


# The champion: one family name for every day, or a frame (game_date, champion) - the day's
# champion chosen by evidence (lib/champion.py `champions_for_days`: model_performance_daily's
# `next_champion` of the day before, the configured champion when there is none).
Champion = str | pl.DataFrame


def champion_frame(champion: Champion, days: Sequence[date]) -> pl.DataFrame:
    """(game_date, champion) for `days` (a frame is passed through, restricted to its columns)."""
    if isinstance(champion, str):
        return pl.DataFrame({"game_date": list(days), "champion": [champion] * len(days)},
                            schema={"game_date": pl.Date, "champion": pl.Utf8})  # fmt: skip
    return champion.select(pl.col("game_date").cast(pl.Date), pl.col("champion").cast(pl.Utf8)).unique("game_date")


def champion_rows(frame: pl.DataFrame, champion: Champion) -> pl.DataFrame:
    """The rows of `frame` (with game_date, family) whose family is the champion of their day
    (a day without a champion in the frame has none)."""
    if isinstance(champion, str):
        return frame.filter(pl.col("family") == champion)
    days = champion.select("game_date", pl.col("champion").alias("_champion"))
    return (
        frame.join(days, on="game_date", how="inner").filter(pl.col("family") == pl.col("_champion")).drop("_champion")
    )


# ---------------------------------------------------------------------------------------------
# output


BEST_BETS_SCHEMA = pl.Schema(
    {
        "game_date": pl.Date,
        "game_id": pl.Utf8,
        "player_lookup": pl.Utf8,
        "player_name": pl.Utf8,
        "team": pl.Utf8,
        "opponent": pl.Utf8,
        "tip_time_utc": pl.Datetime("us", "UTC"),
        "model_id": pl.Utf8,
        "family": pl.Utf8,
        "feature_set": pl.Utf8,
        "predicted_points": pl.Float64,
        "line": pl.Float64,
        "line_book": pl.Utf8,
        "market_type": pl.Utf8,
        "price": pl.Int32,
        "edge": pl.Float64,
        "direction": pl.Utf8,
        "p_over": pl.Float64,
        "confidence": pl.Float64,
        "feature_quality_score": pl.Float64,
        "signals": pl.List(pl.Utf8),
        "signal_count": pl.Int64,
        "shadow_signals": pl.List(pl.Utf8),
        "models_agreeing": pl.Int64,
        "champion_edge": pl.Float64,
        "direction_conflict": pl.Boolean,
        "consensus_votes": pl.Int64,
        "consensus_feature_sets": pl.Int64,
        "quantile_under_consensus": pl.Boolean,
        "health_gate_active": pl.Boolean,
        "health_gate_reason": pl.Utf8,
        "selected": pl.Boolean,
        "rejected_by": pl.Utf8,
        "observed_by": pl.List(pl.Utf8),
        "rank": pl.Int64,
        "ultra": pl.Boolean,
        "ultra_public": pl.Boolean,
        "ultra_rule": pl.Utf8,
        "angles": pl.List(pl.Utf8),
    }
)
BEST_BETS_DOC = {
    "game_date": "Game date (America/New_York): the partition key.",
    "game_id": "Canonical game id YYYYMMDD_AWAY_HOME.",
    "player_lookup": "Normalized player name.",
    "player_name": "Display name (player_lines).",
    "team": "The player's team (player_lines).",
    "opponent": "The opponent (player_lines).",
    "tip_time_utc": "Scheduled tip (UTC).",
    "model_id": "The candidate's source model: the recommended lined prediction with the largest edge.",
    "family": "The source model's family (config/models.yaml).",
    "feature_set": "The source family's feature set.",
    "predicted_points": "The source model's prediction.",
    "line": "The prediction's line.",
    "line_book": "The book of the line (player_lines).",
    "market_type": "sportsbook or dfs.",
    "price": "American price of the candidate's direction (NULL on DFS lines).",
    "edge": "|predicted_points - line| of the source model.",
    "direction": "OVER or UNDER.",
    "p_over": "The source model's calibrated P(over).",
    "confidence": "|2 p_over - 1| on [0, 1].",
    "feature_quality_score": "player_features' quality score (0-100).",
    "signals": "Active signals tagged on the candidate's prediction (signal_tags).",
    "signal_count": "Number of active signals, model_health included.",
    "shadow_signals": "Shadow-state signals tagged (recorded, never counted).",
    "models_agreeing": "Recommended predictions on the same side at the agreement edge or more (itself included).",
    "champion_edge": "The day's champion family's edge (chosen by evidence), signed: positive on the candidate's side, negative against; "
    "NULL without a lined champion prediction.",
    "direction_conflict": "True when another model recommends the other side.",
    "consensus_votes": "Consensus annotation: recommended predictions on the same side at the consensus edge or more.",
    "consensus_feature_sets": "Consensus annotation: distinct feature sets among those votes.",
    "quantile_under_consensus": "Consensus annotation: an UNDER candidate with enough quantile-model UNDER votes.",
    "health_gate_active": "True when the day's champion's state on the day before closes the day (no picks).",
    "health_gate_reason": "Why the gate closed (champion, state, day); NULL when open.",
    "selected": "True for a published best bet (passed the gate, every enforcing filter and the caps).",
    "rejected_by": "The first enforcing filter that rejected the candidate; NULL when selected, or when only the "
    "health gate or a cap left it out.",
    "observed_by": "Observe-mode filters that would have blocked it (they never reject).",
    "rank": "1.. by edge among the day's selected picks; NULL otherwise.",
    "ultra": "True when an ultra-tier rule matches the candidate (rule in ultra_rule).",
    "ultra_public": "A selected ultra pick that may be shown as ultra (OVER only once the graded ultra OVER record "
    "reaches the configured size and hit rate).",
    "ultra_rule": "Id of the first matching ultra rule; NULL when none.",
    "angles": "Up to five pick angles, ordered; every number quoted is a hit rate or count computed from graded "
    "history as of the day before.",
}
ANGLE_FIGURES_SCHEMA = pl.Schema(
    {
        "game_date": pl.Date,
        "game_id": pl.Utf8,
        "player_lookup": pl.Utf8,
        "position": pl.Int64,
        "angle": pl.Utf8,
        "figures": pl.List(pl.Utf8),
    }
)


# ---------------------------------------------------------------------------------------------
# candidates


def family_table(families: Sequence[object]) -> pl.DataFrame:
    """family, feature_set, loss and the tie order (position in config/models.yaml) of each family
    (`FamilyConfig`-like objects with id, feature_set, loss)."""
    return pl.DataFrame(
        {
            "family": [f.id for f in families],
            "feature_set": [str(f.feature_set) for f in families],
            "loss": [str(f.loss) for f in families],
            "family_order": list(range(len(families))),
        },
        schema={"family": pl.Utf8, "feature_set": pl.Utf8, "loss": pl.Utf8, "family_order": pl.Int64},
    )


def recommended_lined(predictions: pl.DataFrame) -> pl.DataFrame:
    """Recommended (OVER / UNDER), non-quarantined predictions with a line and an edge."""
    return predictions.filter(
        pl.col("recommendation").is_in((OVER, UNDER))
        & ~pl.col("quarantined").fill_null(False)
        & pl.col("line").is_not_null()
        & pl.col("edge").is_not_null()
    )


def choose_candidates(predictions: pl.DataFrame, families: pl.DataFrame) -> pl.DataFrame:
    """One row per (game_id, player_lookup): the recommended lined prediction with the largest
    edge (ties: family order, then model_id), with feature_set / loss of its family. Keeps every
    column of the chosen prediction."""
    rows = recommended_lined(predictions).join(families, on="family", how="left")
    rows = rows.with_columns(pl.col("family_order").fill_null(len(families)))
    return (
        rows.sort(
            ["game_id", "player_lookup", "edge", "family_order", "model_id"],
            descending=[False, False, True, False, False],
        )  # fmt: skip
        .unique(PICK_KEY, keep="first", maintain_order=True)
        .drop("family_order")
    )


def annotate_candidates(
    candidates: pl.DataFrame, predictions: pl.DataFrame, families: pl.DataFrame, champion: Champion,
    rules: CandidateRules,
) -> pl.DataFrame:  # fmt: skip
    """models_agreeing, champion_edge (the day's champion's), direction_conflict and the consensus
    annotation."""
    votes = (
        recommended_lined(predictions)
        .join(families.select("family", "feature_set", "loss"), on="family", how="left")
        .select(
            *PICK_KEY,
            pl.col("recommendation").alias("v_dir"),
            pl.col("edge").alias("v_edge"),
            pl.col("feature_set").alias("v_fs"),
            pl.col("loss").alias("v_loss"),
        )  # fmt: skip
    )
    same = pl.col("v_dir") == pl.col("direction")
    agree = same & (pl.col("v_edge") >= rules.agreement_edge - TOLERANCE)
    vote = pl.col("v_edge") >= rules.consensus_edge - TOLERANCE
    tally = (
        candidates.select(*PICK_KEY, "direction")
        .join(votes, on=PICK_KEY, how="inner")
        .group_by(PICK_KEY)
        .agg(
            agree.sum().cast(pl.Int64).alias("models_agreeing"),
            (~same).any().alias("direction_conflict"),
            (same & vote).sum().cast(pl.Int64).alias("consensus_votes"),
            pl.col("v_fs").filter(same & vote).n_unique().cast(pl.Int64).alias("consensus_feature_sets"),
            ((pl.col("v_dir") == UNDER) & vote & (pl.col("v_loss") == QUANTILE)).sum().alias("_q_under"),
        )
    )
    champ = (
        champion_rows(predictions, champion)
        .filter(~pl.col("quarantined").fill_null(False) & pl.col("edge").is_not_null())
        .sort("model_id")
        .unique(PICK_KEY, keep="first")
        .select(*PICK_KEY, pl.col("edge").alias("_c_edge"), pl.col("direction").alias("_c_dir"))
    )
    out = candidates.join(tally, on=PICK_KEY, how="left").join(champ, on=PICK_KEY, how="left")
    return out.with_columns(
        pl.col("models_agreeing").fill_null(0),
        pl.col("direction_conflict").fill_null(False),
        pl.col("consensus_votes").fill_null(0),
        pl.col("consensus_feature_sets").fill_null(0),
        ((pl.col("direction") == UNDER) & (pl.col("_q_under").fill_null(0) >= rules.quantile_under_min_votes)).alias(
            "quantile_under_consensus"
        ),
        pl.when(pl.col("_c_dir") == pl.col("direction"))
        .then(pl.col("_c_edge"))
        .otherwise(-pl.col("_c_edge"))
        .alias("champion_edge"),
    ).drop("_q_under", "_c_edge", "_c_dir")


def ultra_rule_expr(config: SelectionConfig) -> pl.Expr:
    """The id of the first ultra rule the candidate meets (NULL: none): a family of
    `ultra.feature_sets`, edge >= the rule's min_edge, and the rule's direction when it has one."""
    ultra = config.ultra
    expr = pl.lit(None, dtype=pl.Utf8)
    for rule in reversed(ultra.rules):  # the first rule wins: build from the last
        cond = pl.col("feature_set").is_in(ultra.feature_sets) & (pl.col("edge") >= rule.min_edge - TOLERANCE)
        if rule.direction is not None:
            cond = cond & (pl.col("direction") == rule.direction)
        expr = pl.when(cond).then(pl.lit(rule.id)).otherwise(expr)
    return expr


def line_tier_expr(config: SelectionConfig) -> pl.Expr:
    expr = pl.lit(None, dtype=pl.Utf8)
    for tier in reversed(config.line_tiers):
        expr = pl.when(pl.col("line") < tier.below).then(pl.lit(tier.label)).otherwise(expr)
    return expr


def history_candidates(
    history: pl.DataFrame, families: pl.DataFrame, champion: Champion, config: SelectionConfig
) -> pl.DataFrame:
    """The graded (WIN / LOSS) candidates of past days, re-derived with the daily functions, with
    `ultra_rule`, `line_tier` and `win`."""
    history = _take(history, HISTORY_COLUMNS)
    cands = choose_candidates(history, families)
    cands = annotate_candidates(cands, history, families, champion, config.candidates)
    return cands.filter(pl.col("result").is_in((WIN, LOSS))).with_columns(
        ultra_rule_expr(config).alias("ultra_rule"),
        line_tier_expr(config).alias("line_tier"),
        (pl.col("result") == WIN).alias("win"),
    )


# ---------------------------------------------------------------------------------------------
# figures as of X - 1


def as_of(
    graded: pl.DataFrame, targets: pl.DataFrame, keys: Sequence[str] = (), *, window_days: int | None = None
) -> pl.DataFrame:
    """`targets` (game_date X and `keys`) with `wins` and `n` of the `graded` rows (game_date,
    keys, win) of the same keys BEFORE X: season-to-date (X's season label, its days before X)
    when window_days is None, else the window_days days X - window_days .. X - 1."""
    keys = list(keys)
    by = keys or ["_all"]
    graded = graded.with_columns(pl.lit(1).alias("_all")) if not keys else graded
    targets = targets.with_columns(pl.lit(1).alias("_all")) if not keys else targets
    season = seasons.season_label_expr(pl.col("game_date"))
    daily = (
        graded.group_by("game_date", *by)
        .agg(pl.col("win").sum().cast(pl.Int64).alias("wins"), pl.len().cast(pl.Int64).alias("n"))
        .with_columns(season.alias("_season"))
        .sort("game_date")
    )
    group = by + ["_season"] if window_days is None else by
    daily = daily.with_columns(
        pl.col("wins").cum_sum().over(group, order_by="game_date").alias("_cw"),
        pl.col("n").cum_sum().over(group, order_by="game_date").alias("_cn"),
    ).select("game_date", *group, "_cw", "_cn")
    out = targets.with_columns(season.alias("_season"), (pl.col("game_date") - pl.duration(days=1)).alias("_to")).sort(
        "_to"
    )

    def lookup(frame: pl.DataFrame, on: str, suffix: str) -> pl.DataFrame:
        right = daily.rename({"_cw": f"_cw{suffix}", "_cn": f"_cn{suffix}", "game_date": f"_d{suffix}"})
        return frame.sort(on).join_asof(
            right, left_on=on, right_on=f"_d{suffix}", by=group, strategy="backward", check_sortedness=False
        )

    out = lookup(out, "_to", "_end")
    wins = pl.col("_cw_end").fill_null(0)
    n = pl.col("_cn_end").fill_null(0)
    if window_days is not None:
        out = lookup(out.with_columns((pl.col("_to") - pl.duration(days=window_days)).alias("_from")), "_from", "_beg")
        wins = wins - pl.col("_cw_beg").fill_null(0)
        n = n - pl.col("_cn_beg").fill_null(0)
    out = out.with_columns(wins.alias("wins"), n.alias("n"))
    return out.select(*targets.columns, "wins", "n").drop("_all", strict=False)


def _figure(graded: pl.DataFrame, targets: pl.DataFrame, keys: Sequence[str], prefix: str, **kw) -> pl.DataFrame:
    found = as_of(graded, targets.select("game_date", *keys).unique(), keys, **kw)
    return found.rename({"wins": f"{prefix}_wins", "n": f"{prefix}_n"})


def blacklist_figures(
    history: pl.DataFrame, targets: pl.DataFrame, champion: Champion, rule: BlacklistFilter
) -> pl.DataFrame:
    """Per (game_date X, player_lookup): the season-to-date graded recommended non-quarantined
    picks of the player at edge >= min_edge before X (bl_wins, bl_n) of X's champion."""
    picks = (
        recommended_lined(_take(history, HISTORY_COLUMNS))
        .filter((pl.col("edge") >= rule.min_edge - TOLERANCE) & pl.col("result").is_in((WIN, LOSS)))
        .with_columns((pl.col("result") == WIN).alias("win"))
    )
    days = champion_frame(champion, targets.get_column("game_date").unique().to_list())
    parts = []
    for (family,), on_days in days.partition_by("champion", as_dict=True).items():
        part = targets.join(on_days.select("game_date"), on="game_date", how="semi")
        parts.append(_figure(picks.filter(pl.col("family") == family), part, ["player_lookup"], "bl"))
    if not parts:
        return _figure(picks.clear(), targets, ["player_lookup"], "bl")
    return pl.concat(parts)


def day_figures(graded: pl.DataFrame, days: Sequence[date], config: SelectionConfig) -> pl.DataFrame:
    """Per day X: the candidate-history figures that do not depend on the candidate (ultra,
    ultra OVER, high conviction, consensus), as of X - 1."""
    targets = pl.DataFrame({"game_date": list(days)}, schema={"game_date": pl.Date})
    angles = config.angles
    parts = {
        "ultra": graded.filter(pl.col("ultra_rule").is_not_null()),
        "ultra_over": graded.filter(pl.col("ultra_rule").is_not_null() & (pl.col("direction") == OVER)),
        "high": graded.filter(pl.col("edge") >= angles.high_conviction_edge - TOLERANCE),
        "cons": graded.filter(pl.col("consensus_votes") >= angles.consensus_min_votes),
    }
    out = targets
    for prefix, rows in parts.items():
        out = out.join(_figure(rows, targets, [], prefix), on="game_date", how="left")
    return out


# ---------------------------------------------------------------------------------------------
# filters


def _block_exprs(config: SelectionConfig, combos: Sequence[Sequence[str]]) -> dict[str, pl.Expr]:
    """Per filter id, True when the filter would block the candidate (NULL inputs never block)."""
    under = pl.col("direction") == UNDER
    out: dict[str, pl.Expr] = {}
    for f in config.filters:
        match f:
            case BlacklistFilter():
                e = (pl.col("bl_n") >= f.min_picks) & (pl.col("bl_wins") < f.hr_below * pl.col("bl_n") - TOLERANCE)
            case EdgeFloorFilter():
                e = pl.col("edge") < config.edge_floor - TOLERANCE
            case UnderEdgeNonV12Filter():
                e = (
                    under
                    & ~pl.col("feature_set").is_in(config.ultra.feature_sets)
                    & (pl.col("edge") < f.min_edge - TOLERANCE)
                )
            case ModelDirectionAffinityFilter():
                e = (pl.col("aff_n") >= f.min_n) & (pl.col("aff_wins") < f.hr_below * pl.col("aff_n") - TOLERANCE)
            case FamiliarMatchupFilter():
                e = pl.col("games_vs_opponent_season") >= f.games_at_least
            case QualityFilter():
                e = pl.col("feature_quality_score") < f.min_score
            case UnderLowLineFilter():
                e = under & (pl.col("line") < f.line_below)
            case UnderLineDeltaFilter():
                e = under & (pl.col("prop_line_delta").abs() >= f.delta_at_least - TOLERANCE)
            case UnderNegativePlusMinusFilter():
                e = under & (pl.col("negative_plus_minus_streak") >= f.streak_at_least)
            case MinSignalsFilter():
                e = pl.col("signal_count") < f.min_count
            case ConfidenceFloorFilter():
                floor = pl.col("family").replace_strict(f.floors, default=None, return_dtype=pl.Float64)
                e = pl.col("confidence") < floor - TOLERANCE
            case AntiPatternFilter():
                e = pl.lit(False)
                # a combo may name a shadow signal: its tags are recorded on the candidate too
                tagged = pl.concat_list("signals", "shadow_signals")
                for combo in combos:
                    e = e | pl.all_horizontal(tagged.list.contains(s) for s in combo)
            case _:  # pragma: no cover - the discriminated union is exhaustive
                raise TypeError(f)
        out[f.id] = e.fill_null(False)
    return out


def apply_filters(rows: pl.DataFrame, config: SelectionConfig, combos: Sequence[Sequence[str]]) -> pl.DataFrame:
    """rejected_by (first enforcing filter that blocks) and observed_by (observe filters that
    would block), plus one `_block_<id>` column per filter (dropped by the caller)."""
    blocks = _block_exprs(config, combos)
    rows = rows.with_columns(e.alias(f"_block_{fid}") for fid, e in blocks.items())
    enforce = [f.id for f in config.filters if f.mode == ENFORCE]
    observe = [f.id for f in config.filters if f.mode == OBSERVE]
    rejected = pl.coalesce([pl.when(pl.col(f"_block_{i}")).then(pl.lit(i)) for i in enforce] or [pl.lit(None)])
    if observe:
        observed = pl.concat_list(
            [pl.when(pl.col(f"_block_{i}")).then(pl.lit(i)).otherwise(pl.lit(None, dtype=pl.Utf8)) for i in observe]
        ).list.drop_nulls()
    else:
        observed = pl.lit([], dtype=pl.List(pl.Utf8))
    return rows.with_columns(rejected.cast(pl.Utf8).alias("rejected_by"), observed.alias("observed_by"))


def filter_counts(rows: pl.DataFrame, config: SelectionConfig, days: Sequence[date]) -> pl.DataFrame:
    """Per day and filter: `would_block` (every candidate it blocks, whatever the order) and
    `rejected` (candidates it rejected first; 0 for an observe filter)."""
    frames = []
    for f in config.filters:
        frames.append(
            rows.group_by("game_date").agg(
                pl.lit(f.id).alias("filter"),
                pl.lit(f.mode).alias("mode"),
                pl.col(f"_block_{f.id}").sum().cast(pl.Int64).alias("would_block"),
                (pl.col("rejected_by") == f.id).sum().cast(pl.Int64).alias("rejected"),
            )
        )
    grid = pl.DataFrame({"game_date": list(days)}, schema={"game_date": pl.Date}).join(
        pl.DataFrame(
            {
                "filter": [f.id for f in config.filters],
                "mode": [f.mode for f in config.filters],
                "order": list(range(len(config.filters))),
            }
        ),  # fmt: skip
        how="cross",
    )
    counted = pl.concat(frames) if frames and rows.height else None
    if counted is None:
        out = grid.with_columns(
            pl.lit(0, dtype=pl.Int64).alias("would_block"), pl.lit(0, dtype=pl.Int64).alias("rejected")
        )
    else:
        out = grid.join(counted.drop("mode"), on=["game_date", "filter"], how="left").with_columns(
            pl.col("would_block").fill_null(0), pl.col("rejected").fill_null(0)
        )
    return out.sort("game_date", "order").drop("order")


# ---------------------------------------------------------------------------------------------
# ranking and caps

RANK_ORDER = (["game_date", "edge", "confidence", "game_id", "player_lookup"], [False, True, True, False, False])


def rank_and_cap(rows: pl.DataFrame, caps: Caps) -> pl.DataFrame:
    """`selected` (eligible and within the caps, greedily in rank order) and `rank` 1.. per day."""
    rows = rows.sort(RANK_ORDER[0], descending=RANK_ORDER[1], nulls_last=True)
    eligible = ~pl.col("health_gate_active") & pl.col("rejected_by").is_null()
    if not caps.enabled:
        rows = rows.with_columns(eligible.alias("selected"))
    else:
        ok: list[bool] = []
        day_n: dict[object, int] = {}
        team_n: dict[tuple, int] = {}
        game_n: dict[tuple, int] = {}
        for r in (
            rows.with_columns(eligible.alias("_eligible"))
            .select("game_date", "team", "game_id", "_eligible")
            .iter_rows(named=True)
        ):
            d, t, g = r["game_date"], (r["game_date"], r["team"]), (r["game_date"], r["game_id"])
            fits = r["_eligible"] and (
                (caps.per_day is None or day_n.get(d, 0) < caps.per_day)
                and (caps.per_team is None or team_n.get(t, 0) < caps.per_team)
                and (caps.per_game is None or game_n.get(g, 0) < caps.per_game)
            )
            if fits:
                day_n[d] = day_n.get(d, 0) + 1
                team_n[t] = team_n.get(t, 0) + 1
                game_n[g] = game_n.get(g, 0) + 1
            ok.append(bool(fits))
        rows = rows.with_columns(pl.Series("selected", ok, dtype=pl.Boolean))
    return (
        rows.with_columns(
            pl.when(pl.col("selected"))
            .then(pl.col("selected").cast(pl.Int64).cum_sum().over("game_date"))  # rows are in rank order
            .otherwise(None)
            .alias("_r")
        )
        .with_columns(pl.col("_r").alias("rank"))
        .drop("_r")
    )


# ---------------------------------------------------------------------------------------------
# angles


def fmt_hr(wins: int, n: int) -> str:
    return f"{100.0 * wins / n:.1f}"


def _labels(config: SelectionConfig) -> dict[str, str]:
    """Ultra rule ids and filter ids -> their labels (distinct id namespaces by construction)."""
    return {**{r.id: r.label for r in config.ultra.rules}, **{f.id: f.label for f in config.filters}}


def _angles_of(
    row: dict, config: SelectionConfig, signal_hr: dict, labels: dict[str, str]
) -> list[tuple[str, list[str]]]:
    a, t = config.angles, config.angles.templates
    out: list[tuple[str, list[str]]] = []

    def rate(wins: int | None, n: int | None) -> tuple[str, str] | None:
        if not n or n < a.min_n:
            return None
        return fmt_hr(wins or 0, n), str(n)

    def record(text: str, hit_rate: float, figures: list[str]) -> tuple[str, list[str]]:
        """A record angle; below break-even it is a caution, never a reason for the pick."""
        if hit_rate < a.break_even - TOLERANCE:
            return t.below_break_even.format(angle=text), figures
        return text, figures

    if row["ultra_rule"] is not None:
        q = rate(row["ultra_wins"], row["ultra_n"])
        rule = labels[row["ultra_rule"]]
        if q:
            out.append(record(t.ultra.format(rule=rule, hr=q[0], n=q[1]), row["ultra_wins"] / row["ultra_n"], list(q)))
        else:
            out.append((t.ultra_no_history.format(rule=rule), []))
    if row["edge"] >= a.high_conviction_edge - TOLERANCE and (q := rate(row["high_wins"], row["high_n"])):
        out.append(record(t.high_conviction.format(hr=q[0], n=q[1]), row["high_wins"] / row["high_n"], list(q)))
    if row["line_tier"] is not None and (q := rate(row["tier_wins"], row["tier_n"])):
        text = t.direction_tier.format(direction=row["direction"], tier=row["line_tier"], hr=q[0], n=q[1])
        out.append(record(text, row["tier_wins"] / row["tier_n"], list(q)))
    if row["consensus_votes"] >= a.consensus_min_votes and (q := rate(row["cons_wins"], row["cons_n"])):
        out.append(record(t.consensus.format(hr=q[0], n=q[1]), row["cons_wins"] / row["cons_n"], list(q)))
    sig = []
    for s in row["signals"] or []:
        if s in a.skip_signals:
            continue
        found = signal_hr.get((row["game_date"], s))
        if found and found[1] and found[1] >= a.min_n and found[0] is not None:
            hr, n = f"{100.0 * found[0]:.1f}", str(int(found[1]))
            sig.append((-found[0], s, record(t.signal.format(signal=s, hr=hr, n=n), found[0], [hr, n])))
    out.extend(item for *_, item in sorted(sig))
    for fid in row["observed_by"] or []:
        out.append((t.warning.format(filter=labels[fid]), []))
    dn, dw = row["dir_n"], row["dir_wins"]
    dh = a.direction_health
    if dn and dn >= dh.min_n and dw < dh.warn_below * dn - TOLERANCE:
        hr = fmt_hr(dw, dn)
        out.append((t.direction_health.format(direction=row["direction"], hr=hr, n=str(dn)), [hr, str(dn)]))
    return out[: a.max_angles]


SEP = "\x1f"  # joins an angle's figures in the flat frame (never in a formatted number)
# the columns an angle reads (iterating only these keeps the row loop cheap)
ANGLE_INPUTS = ["game_date", "game_id", "player_lookup", "direction", "edge", "line_tier", "consensus_votes", "signals",
                "observed_by", "ultra_rule", "ultra_wins", "ultra_n", "high_wins", "high_n", "tier_wins", "tier_n",
                "cons_wins", "cons_n", "dir_wins", "dir_n"]  # fmt: skip


def build_angles(
    rows: pl.DataFrame, config: SelectionConfig, signal_health: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows with `angles`, angle_figures: per angle the formatted figures its text quotes)."""
    a = config.angles
    signal_hr: dict = {}
    if signal_health.height:
        sh = signal_health
        if "kind" in sh.columns:
            sh = sh.filter(pl.col("kind") == "signal")
        for r in sh.select("game_date", "name", a.signal_hr_column, a.signal_n_column).iter_rows():
            # signal health of X - 1 serves day X
            signal_hr[(r[0] + timedelta(days=1), r[1])] = (r[2], r[3])
    # flat rows (one per angle), turned into lists by polars: building a Series per row is slow
    keys = rows.select(ANGLE_INPUTS)
    labels = _labels(config)
    index, position, texts, figures = [], [], [], []
    for i, row in enumerate(keys.iter_rows(named=True)):
        for p, (text, figs) in enumerate(_angles_of(row, config, signal_hr, labels), start=1):
            index.append(i)
            position.append(p)
            texts.append(text)
            figures.append(SEP.join(figs))
    flat = pl.DataFrame(
        {"_i": index, "position": position, "angle": texts, "_f": figures},
        schema={"_i": pl.Int64, "position": pl.Int64, "angle": pl.Utf8, "_f": pl.Utf8},
    )
    keyed = (
        keys.select("game_date", "game_id", "player_lookup")
        .with_row_index("_i")
        .with_columns(pl.col("_i").cast(pl.Int64))
    )
    angle_figures = (
        flat.join(keyed, on="_i", how="left")
        .with_columns(
            pl.when(pl.col("_f") == "")
            .then(pl.lit([], dtype=pl.List(pl.Utf8)))
            .otherwise(pl.col("_f").str.split(SEP))
            .alias("figures")
        )
        .sort("_i", "position")
        .select(ANGLE_FIGURES_SCHEMA.names())
    )
    lists = flat.sort("_i", "position").group_by("_i", maintain_order=True).agg(pl.col("angle").alias("angles"))
    out = (
        rows.with_row_index("_i")
        .with_columns(pl.col("_i").cast(pl.Int64))
        .join(lists, on="_i", how="left")
        .with_columns(pl.col("angles").fill_null(pl.lit([], dtype=pl.List(pl.Utf8))))
        .drop("_i")
    )
    return out, angle_figures


def unexplained_angle_numbers(angle_figures: pl.DataFrame) -> pl.DataFrame:
    """Angles whose text quotes a number that is not one of its computed figures (the audit:
    empty when every number comes from graded history)."""
    bad = []
    for r in angle_figures.iter_rows(named=True):
        quoted = NUMBER.findall(r["angle"])
        extra = [x for x in quoted if x not in set(r["figures"] or [])]
        if extra:
            bad.append((r["game_date"], r["game_id"], r["player_lookup"], r["angle"], ", ".join(extra)))
    return pl.DataFrame(
        bad,
        schema={
            "game_date": pl.Date,
            "game_id": pl.Utf8,
            "player_lookup": pl.Utf8,
            "angle": pl.Utf8,
            "unexplained": pl.Utf8,
        },  # fmt: skip
        orient="row",
    )


# ---------------------------------------------------------------------------------------------
# the day's best bets


def health_gate(health: pl.DataFrame, days: Sequence[date], champion: Champion, gate: HealthGate) -> pl.DataFrame:
    """Per day X: health_gate_active (X's champion's row of X - 1 in a gate state) and the reason."""
    prev = _take(health, HEALTH_COLUMNS).select(
        (pl.col("game_date") + pl.duration(days=1)).alias("game_date"),
        pl.col("family"),
        pl.col("state"),
        pl.col("game_date").alias("_prev"),
    )
    prev = champion_rows(prev, champion_frame(champion, days))
    active = pl.col("state").is_in(gate.states).fill_null(False)
    return (
        pl.DataFrame({"game_date": list(days)}, schema={"game_date": pl.Date})
        .join(prev, on="game_date", how="left")
        .select(
            "game_date",
            active.alias("health_gate_active"),
            pl.when(active)
            .then(pl.format("champion {} was {} on {}: no picks", pl.col("family"), pl.col("state"), pl.col("_prev")))
            .otherwise(None)
            .alias("health_gate_reason"),
        )
    )


def signal_lists(tags: pl.DataFrame) -> pl.DataFrame:
    """Per (game_id, player_lookup, model_id): active `signals` and `shadow_signals` (sorted)."""
    tags = _take(tags, SIGNAL_TAGS_CONTRACT)
    return tags.group_by("game_id", "player_lookup", "model_id").agg(
        pl.col("signal").filter(pl.col("state") == ACTIVE).unique().sort().alias("signals"),
        pl.col("signal").filter(pl.col("state") == SHADOW).unique().sort().alias("shadow_signals"),
    )


class Selection(NamedTuple):
    rows: pl.DataFrame
    filter_counts: pl.DataFrame
    angle_figures: pl.DataFrame
    history_figures: pl.DataFrame


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def best_bets(
    predictions: pl.DataFrame,
    signal_tags: pl.DataFrame,
    lines: pl.DataFrame,
    features: pl.DataFrame,
    health: pl.DataFrame,
    signal_health: pl.DataFrame,
    history: pl.DataFrame,
    *,
    start: date,
    end: date,
    champion: Champion,
    families: pl.DataFrame,
    config: SelectionConfig,
    combos: Sequence[Sequence[str]] = (),
) -> Selection:
    """`Selection`: the best_bets rows of start .. end, the filter counts per day and filter, the
    angle_figures, and per day the candidate-independent history figures (`day_figures` plus
    `ultra_over_public`).

    `predictions`, `signal_tags`, `lines`, `features`: the days' own rows; `health`:
    model_performance_daily of start - 1 .. end - 1; `signal_health`: signal_health_daily of
    start - 1 .. end - 1; `history`: prediction_accuracy of the days before (each day X uses only
    the rows before X: the history may reach end - 1). `champion`: the day's champion (a frame
    game_date, champion: chosen by evidence) or one family for every day; it sets the health gate,
    champion_edge and the blacklist's record."""
    days = days_between(start, end)
    champion = champion_frame(champion, days)
    preds = _take(predictions, PREDICTION_COLUMNS).filter(pl.col("game_date").is_between(start, end))
    cands = annotate_candidates(choose_candidates(preds, families), preds, families, champion, config.candidates)

    tags = signal_lists(signal_tags)
    rows = cands.join(tags, on=["game_id", "player_lookup", "model_id"], how="left").with_columns(
        pl.col("signals").fill_null(pl.lit([], dtype=pl.List(pl.Utf8))),
        pl.col("shadow_signals").fill_null(pl.lit([], dtype=pl.List(pl.Utf8))),
    )
    rows = rows.with_columns(pl.col("signals").list.len().cast(pl.Int64).alias("signal_count"))
    rows = rows.join(_take(lines, LINE_COLUMNS), on=PICK_KEY, how="left").join(
        _take(features, FEATURE_COLUMNS), on=PICK_KEY, how="left"
    )
    rows = rows.with_columns(
        pl.when(pl.col("direction") == OVER).then(pl.col("over_price")).otherwise(pl.col("under_price")).alias("price"),
        ultra_rule_expr(config).alias("ultra_rule"),
        line_tier_expr(config).alias("line_tier"),
    )

    # history as of X - 1
    graded = history_candidates(history.filter(pl.col("game_date") < end), families, champion, config)
    rows = rows.join(
        blacklist_figures(history.filter(pl.col("game_date") < end), rows, champion, config.filter("blacklist")),
        on=["game_date", "player_lookup"], how="left",
    )  # fmt: skip
    rows = rows.join(_figure(graded, rows, ["family", "direction"], "aff"), on=["game_date", "family", "direction"],
                     how="left")  # fmt: skip
    rows = rows.join(_figure(graded, rows, ["direction", "line_tier"], "tier"),
                     on=["game_date", "direction", "line_tier"], how="left", nulls_equal=True)  # fmt: skip
    rows = rows.join(
        _figure(graded, rows, ["direction"], "dir", window_days=config.angles.direction_health.window_days),
        on=["game_date", "direction"], how="left",
    )  # fmt: skip
    po = config.ultra.public_over
    per_day = day_figures(graded, days, config).with_columns(
        (
            (pl.col("ultra_over_n") >= po.min_n)
            & (pl.col("ultra_over_wins") >= po.min_hr * pl.col("ultra_over_n") - TOLERANCE)
        )
        .fill_null(False)
        .alias("ultra_over_public")
    )
    rows = rows.join(per_day, on="game_date", how="left")

    rows = rows.join(health_gate(health, days, champion, config.health_gate), on="game_date", how="left")
    rows = apply_filters(rows, config, combos)
    counts = filter_counts(rows, config, days)
    rows = rank_and_cap(rows, config.caps)

    over_open = pl.col("ultra_over_public")
    rows = rows.with_columns(
        pl.col("ultra_rule").is_not_null().alias("ultra"),
        (pl.col("ultra_rule").is_not_null() & pl.col("selected") & ((pl.col("direction") != OVER) | over_open)).alias(
            "ultra_public"
        ),
    )
    rows, figures = build_angles(rows, config, signal_health)
    out = schemas.conform(rows, BEST_BETS_SCHEMA, missing="error", extra="drop")
    return Selection(out.sort("game_date", "game_id", "player_lookup"), counts, figures, per_day.sort("game_date"))


# ---------------------------------------------------------------------------------------------
# audits and metadata


def invalid_ranks(rows: pl.DataFrame) -> pl.DataFrame:
    """Days whose selected ranks are not exactly 1..n (or a rank on an unselected row)."""
    stray = rows.filter(~pl.col("selected") & pl.col("rank").is_not_null()).select("game_date")
    per_day = (
        rows.filter(pl.col("selected"))
        .group_by("game_date")
        .agg(pl.col("rank").sort().alias("ranks"), pl.len().alias("n"))
        .filter(pl.col("ranks") != pl.int_ranges(1, pl.col("n") + 1))
        .select("game_date")
    )
    return pl.concat([stray, per_day]).unique()


def gate_violations(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.filter(pl.col("health_gate_active") & pl.col("selected"))


def below_floor(rows: pl.DataFrame, config: SelectionConfig) -> pl.DataFrame:
    """Selected picks below the edge floor (only meaningful when the edge_floor filter enforces)."""
    if config.filter("edge_floor").mode != ENFORCE:
        return rows.clear()
    return rows.filter(pl.col("selected") & (pl.col("edge") < config.edge_floor - TOLERANCE))


def filter_summary_markdown(counts: pl.DataFrame) -> str:
    lines = ["| filter | mode | rejected | would block |", "|---|---|---|---|"]
    for r in counts.iter_rows(named=True):
        lines.append(f"| {r['filter']} | {r['mode']} | {r['rejected']} | {r['would_block']} |")
    return "\n".join(lines)


def picks_markdown(rows: pl.DataFrame) -> str:
    lines = [
        "| rank | player | direction | line | edge | family | ultra | angles |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows.filter(pl.col("selected")).sort("rank").iter_rows(named=True):
        angles = "; ".join(r["angles"] or []).replace("|", "/")
        ultra = "public" if r["ultra_public"] else ("yes" if r["ultra"] else "")
        lines.append(
            f"| {r['rank']} | {r['player_name'] or r['player_lookup']} | {r['direction']} | {r['line']:g} | "
            f"{r['edge']:.2f} | {r['family']} | {ultra} | {angles} |"
        )
    if len(lines) == 2:
        lines.append("| | no picks | | | | | | |")
    return "\n".join(lines)


__all__ = [
    "BEST_BETS_DOC", "BEST_BETS_SCHEMA", "FILTER_ORDER", "KEY", "SelectionConfig", "TABLE", "annotate_candidates",
    "anti_pattern_combos", "as_of", "below_floor", "best_bets", "choose_candidates", "family_table",
    "filter_summary_markdown", "gate_violations", "history_candidates", "invalid_ranks", "load_selection_config",
    "picks_markdown", "ultra_rule_expr", "unexplained_angle_numbers",
]  # fmt: skip
