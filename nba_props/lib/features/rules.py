"""The rules of the feature store: thresholds and windows of the feature blocks, the quality
score, the checks of `player_features` and the history windows its inputs read.

The values live in `config/features.yaml` (sections `season_rule`, `player_history`,
`team_logs`, `team_context`, `vegas`, `quality`, `checks`), are validated here and are loaded
once with the contract (`load_contract()`, cached). No model has defaults: a value exists in
the YAML only, so tuning a rule never touches Python.

The history windows of the asset graph (how many days of box scores / lines an asset reads)
are *derived* from these rules in `history_windows`, never typed a second time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from nba_props.lib.features.contract import FeatureContract
    from nba_props.lib.lines import LineConfig


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeasonRule(_Rules):
    """ "Season" statistics: the current season from `min_games` games before the date, else the
    previous season (`prior_season`). Used by the player-history, team-context and vegas blocks."""

    min_games: int = Field(ge=1)
    # Calendar days of box scores the rule needs behind a date: from the last date of a season
    # (end of June) back over the whole previous season to its opening night.
    history_days: int = Field(ge=365)


class PlayerHistoryRules(_Rules):
    """Thresholds of the player-history block. Its "last N games" windows (3, 5, 7, 10) are not
    here: they are part of the feature names (points_avg_last_5 ...), i.e. of the contract."""

    trend_games: int = Field(ge=2)  # recent_trend: the last half vs the half before
    shot_min_fga: int = Field(ge=1)  # 3PA rate / FT rate need this many FGA in the window
    ppm_min_minutes: float = Field(gt=0)  # points per minute needs this many minutes in the window
    dnp_team_games: int = Field(ge=1)  # dnp_rate: the team's last N games
    dnp_min_team_games: int = Field(ge=1)
    deviation_days: int = Field(ge=1)  # deviation_last_3_vs_60d: the calendar-day window
    deviation_min_games: int = Field(ge=1)
    structural_gap_days: int = Field(ge=1)  # a game this many days after the previous one is a structural change
    structural_cap: int = Field(ge=1)
    zscore_std_floor: float = Field(gt=0)
    breakout_z: float
    breakout_points: float


class TeamLogConfig(_Rules):
    """Team totals from box scores (lib/features/team_logs.py); also the plays definition of the
    player usage features."""

    fta_weight: float = Field(gt=0)  # plays = FGA + fta_weight * FTA + TOV
    regulation_minutes: float = Field(gt=0)
    overtime_minutes: float = Field(gt=0)
    players_on_court: int = Field(ge=1)
    rolling_minutes_games: int = Field(ge=1)  # window of the player's "recent minutes per game"


class FatigueConfig(_Rules):
    start: float
    back_to_back_penalty: float
    rested_bonus: float
    rested_days: int = Field(ge=1)  # days_rest (calendar days since the previous game) for the bonus
    busy_games_7d: int = Field(ge=1)
    busy_games_penalty: float
    heavy_minutes_7d: float
    heavy_minutes_penalty: float
    high_mpg: float
    high_mpg_penalty: float
    b2b_window_days: int = Field(ge=1)
    one_b2b_penalty: float
    two_b2b_penalty: float
    floor: float
    ceiling: float


class TeamContextConfig(_Rules):
    """The team-context block (lib/features/team_context.py); the season rule is `SeasonRule`."""

    min_usage_minutes: float = Field(gt=0)  # player USG% needs this many minutes in the chosen period
    rest_cap_days: int = Field(ge=1)  # team days of rest (D - previous game - 1) for rest_advantage
    days_rest_cap: int = Field(ge=1)  # the player's calendar days since his previous game
    rest_advantage_clamp: int = Field(ge=1)
    window_days: int = Field(ge=1)  # games / minutes "in the last 7 days"
    star_ppg: float = Field(gt=0)
    star_min_games: int = Field(ge=1)
    star_out_statuses: tuple[str, ...] = Field(min_length=1)
    # teammates_out_points_prev_game: a regular averages this many minutes over at least this
    # many games of the season before the team's previous game
    regular_mpg: float = Field(gt=0)
    regular_min_games: int = Field(ge=1)
    regular_recent_games: int = Field(ge=1)  # ... and played one of the team's last N games before it
    injury_risk: dict[str, float]
    playoff_season_types: tuple[str, ...] = Field(min_length=1)
    fatigue: FatigueConfig


class VegasRules(_Rules):
    min_books_for_std: int = Field(ge=2)  # multi_book_line_std needs this many books
    # Days of earlier player_lines rows the line-derived features see (prop streaks).
    line_history_days: int = Field(ge=1)


class BigManRule(_Rules):
    """is_big_man, a position proxy (box scores carry no position): season-rule rebounds per 36
    minutes at least `min_reb_per_36` and 3PA per game strictly below `max_fg3a_per_game`."""

    min_reb_per_36: float = Field(gt=0)
    max_fg3a_per_game: float = Field(gt=0)


class SignalFeatureRules(_Rules):
    """Thresholds of the signal features (features in no model set, read by the pick signals and
    filters; lib/features/player_history.py, team_context.py). The windows (last 3 / last 5
    games) are part of the feature names, as for every window feature."""

    minutes_last_3_min_games: int = Field(ge=1, le=3)  # minutes_avg_last_3
    starter_share_min_games: int = Field(ge=1, le=5)  # starter_share_last_5: games with a known start
    starter_proxy_players: int = Field(ge=1)  # no starter flag: among the team's N highest-minute players
    fg3_last_3_min_games: int = Field(ge=1, le=3)  # fg3_pct_last_3 ...
    fg3_last_3_min_attempts: int = Field(ge=1)  # ... and this many 3PA in the window
    fg3_season_min_attempts: int = Field(ge=1)  # fg3_pct_season: 3PA in the season-rule period
    fg3_std_game_min_attempts: int = Field(ge=1)  # fg3_pct_std_season: a game counts with this many 3PA ...
    fg3_std_min_games: int = Field(ge=2)  # ... and the period needs this many such games
    big_man: BigManRule


class QualityRules(_Rules):
    """Per-row quality score, tiers and readiness (lib/features/quality.py)."""

    real_source_weight: float  # every source other than prior_season and default
    prior_season_weight: float
    default_weight: float
    tiers: dict[str, float] = Field(min_length=1)  # tier -> minimum score, best first; below all: critical
    ready_tiers: tuple[str, ...] = Field(min_length=1)
    cap_one_required_default: float  # score cap with one required feature defaulted
    cap_many_required_defaults: float  # ... with `many_required_defaults` or more
    many_required_defaults: int = Field(ge=2)

    @model_validator(mode="after")
    def _check(self) -> QualityRules:
        floors = list(self.tiers.values())
        if floors != sorted(floors, reverse=True):
            raise ValueError(f"quality.tiers must be listed best first (falling floors), got {self.tiers}")
        unknown = sorted(set(self.ready_tiers) - set(self.tiers))
        if unknown:
            raise ValueError(f"quality.ready_tiers names unknown tiers {unknown}")
        return self


class FeatureChecks(_Rules):
    """Thresholds of the `player_features` asset checks (shown in each check's metadata)."""

    ready_share_floor: float = Field(ge=0, le=1)  # warn below this share of quality-ready candidates
    must_vary: tuple[str, ...] = Field(min_length=1)  # constant across a date's ready players = a broken join


class HistoryWindows(NamedTuple):
    """Calendar days of history before a target date that each feature-store input reads."""

    lines_box_scores: int  # player_lines: box scores (appearances, newest team), strictly before
    lines_snapshots: int  # player_lines: snapshots of this many days before, and the date itself
    features_box_scores: int  # player_features: box scores, strictly before
    features_lines: int  # player_features: player_lines rows of this many days before, and the date itself


def features_box_days(contract: FeatureContract) -> int:
    """Days of box scores before a date the feature blocks need: the season rule's reach back
    over the previous season, or the longest calendar-day window of a block when that is longer.
    (Windows counted in games run across seasons and are bounded by this history.)"""
    team = contract.team_context
    return max(
        contract.season_rule.history_days,
        contract.player_history.deviation_days,
        team.window_days,
        team.fatigue.b2b_window_days,
    )


def history_windows(contract: FeatureContract, line_config: LineConfig) -> HistoryWindows:
    """The history windows of the feature-store inputs, derived from the feature rules (the
    contract's sections) and the line rules; the asset partition mappings and the CLI's ingest
    ranges both read them from here."""
    return HistoryWindows(
        lines_box_scores=line_config.box_history_days,
        lines_snapshots=line_config.lookback_days,
        features_box_scores=features_box_days(contract),
        features_lines=contract.vegas.line_history_days,
    )
