"""Team-context feature block: team and opponent strength, pace, rest, fatigue, schedule,
history against the opponent, injuries around the player.

`team_context_features(inputs)` returns one row per target key (`KEY_COLUMNS`, target order)
with `<name>` (Float64, NULL when not computable) and `<name>__source` for every name in
`FEATURES`. Only box rows dated strictly before a target's date are used; `schedule` and
`injuries` are the target date's own pre-game information.

Definitions (team totals, plays, possessions and game minutes are defined in `team_logs`):

- season to date = the team's complete games of the target's season dated before D. With fewer
  than `season_rule.min_games` of them the previous season's final values are used (source
  `prior_season`); with no previous season in the history the partial current season is used
  (source `box_scores`) and with no game at all the value is NULL.
- `team_off_rating` = 100 · Σ team points / Σ team possessions.
- `opp_def_rating` = the opponent's defensive rating: 100 · Σ points scored against the
  opponent / Σ possessions of the opponent's opponents, in the opponent's games.
- `team_pace`, `opp_pace` = 48 · Σ own possessions / Σ game minutes; `pace_diff` = team − opp.
- `team_win_pct` = wins / games (win: more points than the opponent).
- `usage_diff_vs_opponent` = player USG% − the usage the opponent allows a typical player:
    player USG% = 100 · ΣP · ΣG / (ΣM · ΣTP) over the player's games of the season to date
      (P = FGA + 0.44·FTA + TOV, M = his minutes, TP = his team's plays, G = game minutes, i.e.
      team minutes / 5), with the same prior-season fallback; NULL below `min_usage_minutes`
      minutes in the chosen period (a 1-minute cameo would give absurd rates);
    allowed usage = 20 (= 100 / 5, an average player's share) × (plays the opponent concedes
      per 48 minutes, season to date) / (league plays per team per 48 minutes over the same
      period — the league's season to date, or its prior-season total when the opponent's
      value is a prior-season one).
  Positive: the player uses more of his team's plays than a typical player gets against this
  defence; a defence that concedes more volume (pace, offensive rebounds) lowers it.
- `rest_advantage` (source `calculated`) = team days of rest − opponent days of rest, each
  capped at `rest_cap_days`, the difference clamped to ±`rest_advantage_clamp`. Days of rest =
  D − previous recorded team game − 1 (any season; 0 on a back-to-back). NULL when either team
  has no earlier game. (The cap only matters beyond the clamp: 5 vs 2 days off gives +1, not +2.)
- `days_rest` = calendar days since the player's previous game, D − last game (1 = back-to-back,
  as the feature contract defines it), capped at `days_rest_cap` (30: long layoffs, the
  off-season). NULL without a previous game.
- `is_back_to_back` = 1 when the player's previous game was D − 1 (days_rest = 1), else 0.
- `games_last_7_days`, `minutes_last_7_days` = the player's games / minutes dated D−7 .. D−1.
- `fatigue_score` (source `calculated`): 100; back-to-back −15, otherwise +5 when days_rest ≥ 3
  (two or more full days off); ≥4 games in 7 days −10; >240 minutes in 7 days −10; >35 minutes
  per game over his last 10 games −8; back-to-backs in the previous 14 days (second legs dated
  D−14 .. D−1, the target game itself not counted — it has its own penalty): two or more −12,
  one −5; clamped to [0, 100].
- `avg_points_vs_opponent`, `games_vs_opponent`: his games against this opponent in the
  `season_rule.history_days` (640) days before D, any season (average NULL with 0 games): bounded
  so the value does not depend on how much history a run loaded.

Signal features (in no model set; read by the pick signals and filters only):
- `team_days_rest`, `opponent_days_rest` (source `box_scores`) = D − the team's / the opponent's
  previous recorded game (any season; 1 = back-to-back), capped at `days_rest_cap` like
  `days_rest`. NULL when the team has no earlier game.
- `games_vs_opponent_season`: his games against this opponent in the target's season before D
  (0 is real for a player with history; NULL without history or opponent, as games_vs_opponent).
- `teammates_out_points_prev_game` (box_scores; usage that must go somewhere): G = the team's
  newest game before D (of D's season; NULL without one). A regular of G is a player whose newest
  game before G's date was for the team, is one of the team's last `regular_recent_games` games
  before G, and who averages at least `regular_mpg` minutes over at least `regular_min_games` games
  of the season before G's date. The value is the sum of the season points per game (before G's
  date) of the regulars absent from G's box score (a DNP row is absent), the player himself not
  counted; 0 when none. Everything it reads is dated before D.
- A player without any box-score row before D gets NULL (default) for every player-history
  feature above (days_rest, is_back_to_back, the 7-day windows, fatigue, games vs opponent): an
  unknown player is unknown, not rested. With history, 0 is a real value.
- pace_diff, usage_diff_vs_opponent, rest_advantage, fatigue_score are computed from computed
  quantities: source `calculated` when all inputs are real, `prior_season` when one of them is.
- Injury reports count as known before the game's tip (`lib/injuries.py`): for a game with tip
  T (the target's `tip_time_utc`, else the schedule's) only D's reports captured before T, the
  newest per player; a report captured after tip (ruled out in-game, a late scratch recorded after
  tip) never counts for that game. Unknown tip: the newest report of D.
- `star_teammates_out`: teammates reported `out` on D (before the tip of their team's game) whose
  season-to-date ppg before D is ≥ 20 over ≥ 5 games (statuses `star_out_statuses`; team: the
  injury report's, else his latest box-score team); the player himself is not counted. NULL when
  no report of D was captured before the tip (an empty report is "unknown", not "nobody out") or
  when the player's team is unknown.
- `injury_risk`: his status on D before the tip: available / not listed 0, probable 1,
  questionable 2, doubtful 3, out 3. NULL when no report of D was captured before the tip.
- `is_home` from the target row (source `schedule`); `is_playoff_game` 1 for schedule season
  types playoffs / play_in, else 0 (source `schedule`; from the season calendar with source
  `calculated` when the game is not in the schedule frame).
- `game_total`, `game_spread`, `implied_team_total`: no game-lines source exists yet, so always
  NULL / `default`. The columns are kept so the contract can name them.
"""

from __future__ import annotations

import polars as pl

from nba_props.lib import injuries as inj
from nba_props.lib.asof import join_strictly_before
from nba_props.lib.features import team_logs as tl
from nba_props.lib.features.contract import load_contract
from nba_props.lib.features.inputs import KEY_COLUMNS, FeatureInputs, source_column
from nba_props.lib.features.player_history import of_players
from nba_props.lib.features.rules import FatigueConfig, TeamContextConfig
from nba_props.seasons import Phase, phase_of

FEATURES = (
    "opp_def_rating",
    "opp_pace",
    "team_pace",
    "team_off_rating",
    "team_win_pct",
    "pace_diff",
    "usage_diff_vs_opponent",
    "rest_advantage",
    "days_rest",
    "is_home",
    "is_back_to_back",
    "is_playoff_game",
    "games_last_7_days",
    "minutes_last_7_days",
    "fatigue_score",
    "avg_points_vs_opponent",
    "games_vs_opponent",
    "star_teammates_out",
    "injury_risk",
    "game_total",
    "game_spread",
    "implied_team_total",
    # signal features (in no model set)
    "team_days_rest",
    "opponent_days_rest",
    "games_vs_opponent_season",
    "teammates_out_points_prev_game",
)
NO_SOURCE_YET = ("game_total", "game_spread", "implied_team_total")


# config/features.yaml, sections team_context (its `fatigue` too) and season_rule
DEFAULT_CONFIG: TeamContextConfig = load_contract().team_context
_SEASON_RULE = load_contract().season_rule

_DATE = "game_date"


# ---------------------------------------------------------------------------------------------
# helpers


def _asof(
    left: pl.DataFrame, right: pl.DataFrame, left_on: str, by_left: list[str], by_right: list[str], prefix: str
) -> pl.DataFrame:
    """Attach the last `right` row dated strictly before `left[left_on]` (same by-keys); the
    right columns other than the keys get `prefix`."""
    value_cols = [c for c in right.columns if c not in (*by_right, _DATE)]
    rhs = right.select(
        *[pl.col(right_key).alias(left_key) for left_key, right_key in zip(by_left, by_right, strict=True)],
        pl.col(_DATE).alias("_asof_date"),
        *[pl.col(c).alias(prefix + c) for c in value_cols],
    )
    out = join_strictly_before(left, rhs, left_on=left_on, right_on="_asof_date", by=by_left)
    return out.drop("_asof_date", strict=False)


def _resolve_period(
    frame: pl.DataFrame, prefix: str, sums: tuple[str, ...], min_games: int, games: str = "games"
) -> pl.DataFrame:
    """Choose, per row, between `<prefix>cur_<sum>` (season to date) and `<prefix>prior_<sum>`
    (previous season final) and write `<prefix><sum>` plus `<prefix>src`."""
    n_cur = pl.col(f"{prefix}cur_{games}").fill_null(0)
    n_prior = pl.col(f"{prefix}prior_{games}").fill_null(0)
    use_cur = n_cur >= min_games
    use_prior = ~use_cur & (n_prior > 0)
    use_partial = ~use_cur & ~use_prior & (n_cur > 0)
    resolved = [
        pl.when(use_cur | use_partial)
        .then(pl.col(f"{prefix}cur_{s}"))
        .when(use_prior)
        .then(pl.col(f"{prefix}prior_{s}"))
        .otherwise(None)
        .cast(pl.Float64)
        .alias(f"{prefix}{s}")
        for s in sums
    ]
    src = (
        pl.when(use_cur | use_partial)
        .then(pl.lit("box_scores"))
        .when(use_prior)
        .then(pl.lit("prior_season"))
        .otherwise(pl.lit("default"))
        .alias(f"{prefix}src")
    )
    return frame.with_columns(*resolved, src)


def _ratio(num: pl.Expr, den: pl.Expr, scale: float = 1.0) -> pl.Expr:
    return pl.when(den > 0).then(scale * num / den).otherwise(None)


def _worst_source(*sources: pl.Expr) -> pl.Expr:
    expr = pl.lit("calculated")
    for rank in ("prior_season", "default"):  # later wins
        expr = pl.when(pl.any_horizontal([s == rank for s in sources])).then(pl.lit(rank)).otherwise(expr)
    return expr


def _feature(name: str, value: pl.Expr, source: pl.Expr | str) -> list[pl.Expr]:
    value = value.cast(pl.Float64)
    src = pl.lit(source) if isinstance(source, str) else source
    return [
        value.alias(name),
        pl.when(value.is_null()).then(pl.lit("default")).otherwise(src).cast(pl.Utf8).alias(source_column(name)),
    ]


def _days(later: pl.Expr, earlier: pl.Expr) -> pl.Expr:
    return (later - earlier).dt.total_days()


# ---------------------------------------------------------------------------------------------
# parts


def _team_side(frame, to_date, finals, side: str, prefix: str, cfg: TeamContextConfig) -> pl.DataFrame:
    cur = to_date.rename({f"cum_{c}": c for c in tl.TEAM_SUMS})
    frame = _asof(frame, cur, _DATE, [side, "season"], ["team", "season"], f"{prefix}cur_")
    prior = finals.select(
        pl.col("team").alias(side),
        pl.col("season").alias("prior_season"),
        *[pl.col(f"cum_{c}").alias(f"{prefix}prior_{c}") for c in tl.TEAM_SUMS],
    )
    frame = frame.join(prior, on=[side, "prior_season"], how="left")
    return _resolve_period(frame, prefix, tl.TEAM_SUMS, _SEASON_RULE.min_games)


def _league(frame, league_to_date, league_finals, opp_src: str) -> pl.DataFrame:
    cur = league_to_date.rename({f"cum_{c}": c for c in tl.LEAGUE_SUMS})
    frame = _asof(frame, cur, _DATE, ["season"], ["season"], "lg_cur_")
    prior = league_finals.select(
        pl.col("season").alias("prior_season"), *[pl.col(f"cum_{c}").alias(f"lg_prior_{c}") for c in tl.LEAGUE_SUMS]
    )
    frame = frame.join(prior, on="prior_season", how="left")
    use_prior = pl.col(opp_src) == "prior_season"
    return frame.with_columns(
        [
            pl.when(use_prior).then(pl.col(f"lg_prior_{c}")).otherwise(pl.col(f"lg_cur_{c}")).alias(f"lg_{c}")
            for c in tl.LEAGUE_SUMS
        ]
    )


def _player_usage(frame, player_logs, cfg: TeamContextConfig) -> pl.DataFrame:
    cols = [f"season_cum_{c}" for c in tl.PLAYER_SEASON_SUMS]
    cur = player_logs.select(
        "player_lookup", "season", _DATE, *[pl.col(c).alias(c[len("season_cum_") :]) for c in cols]
    )
    frame = _asof(frame, cur, _DATE, ["player_lookup", "season"], ["player_lookup", "season"], "pu_cur_")
    finals = tl.season_finals(cur, ("player_lookup",)).select(
        "player_lookup",
        pl.col("season").alias("prior_season"),
        *[pl.col(s).alias(f"pu_prior_{s}") for s in tl.PLAYER_SEASON_SUMS],
    )
    frame = frame.join(finals, on=["player_lookup", "prior_season"], how="left")
    return _resolve_period(frame, "pu_", tl.PLAYER_SEASON_SUMS, _SEASON_RULE.min_games)


def _team_rest(frame, logs, side: str, name: str, cfg: TeamContextConfig) -> pl.DataFrame:
    dates = logs.select("team", _DATE, pl.col(_DATE).alias("prev")).unique().sort(_DATE)
    frame = _asof(frame, dates, _DATE, [side], ["team"], f"{name}_")
    days = _days(pl.col(_DATE), pl.col(f"{name}_prev"))
    rest = (days - 1).clip(upper_bound=cfg.rest_cap_days)
    return frame.with_columns(
        rest.cast(pl.Float64).alias(name),
        # calendar days since the previous game (1 = back-to-back), capped as days_rest
        days.clip(upper_bound=cfg.days_rest_cap).cast(pl.Float64).alias(f"{name}_days"),
    ).drop(f"{name}_prev")


def _player_windows(frame, player_logs, cfg: TeamContextConfig) -> pl.DataFrame:
    hist = player_logs.select(
        "player_lookup", _DATE, "cum_games", "cum_minutes", "cum_b2b", "last_game_date", "recent_mpg"
    )
    frame = _asof(frame, hist, _DATE, ["player_lookup"], ["player_lookup"], "p_")
    windowed = player_logs.select("player_lookup", _DATE, "cum_games", "cum_minutes", "cum_b2b")
    frame = frame.with_columns(
        _d_week=pl.col(_DATE) - pl.duration(days=cfg.window_days),
        _d_b2b=pl.col(_DATE) - pl.duration(days=cfg.fatigue.b2b_window_days),
    )
    frame = _asof(frame, windowed.drop("cum_b2b"), "_d_week", ["player_lookup"], ["player_lookup"], "pw_")
    frame = _asof(
        frame, windowed.select("player_lookup", _DATE, "cum_b2b"), "_d_b2b", ["player_lookup"], ["player_lookup"], "pb_"
    )
    z = lambda c: pl.col(c).fill_null(0.0)  # noqa: E731
    return frame.with_columns(
        _days_since=_days(pl.col(_DATE), pl.col("p_last_game_date")).cast(pl.Float64),
        games_last_7_days=z("p_cum_games") - z("pw_cum_games"),
        minutes_last_7_days=z("p_cum_minutes") - z("pw_cum_minutes"),
        b2b_last_14=z("p_cum_b2b") - z("pb_cum_b2b"),
    ).with_columns(
        days_rest=pl.col("_days_since").clip(upper_bound=cfg.days_rest_cap),
        is_back_to_back=(pl.col("_days_since") == 1).cast(pl.Float64),
    )


def _fatigue(cfg: FatigueConfig) -> pl.Expr:
    b2b = pl.col("is_back_to_back") == 1
    rested = pl.col("days_rest") >= cfg.rested_days
    score = (
        pl.lit(cfg.start)
        + pl.when(b2b).then(-cfg.back_to_back_penalty).when(rested).then(cfg.rested_bonus).otherwise(0.0)
        - pl.when(pl.col("games_last_7_days") >= cfg.busy_games_7d).then(cfg.busy_games_penalty).otherwise(0.0)
        - pl.when(pl.col("minutes_last_7_days") > cfg.heavy_minutes_7d).then(cfg.heavy_minutes_penalty).otherwise(0.0)
        - pl.when(pl.col("p_recent_mpg").fill_null(0.0) > cfg.high_mpg).then(cfg.high_mpg_penalty).otherwise(0.0)
        - pl.when(pl.col("b2b_last_14") >= 2)
        .then(cfg.two_b2b_penalty)
        .when(pl.col("b2b_last_14") == 1)
        .then(cfg.one_b2b_penalty)
        .otherwise(0.0)
    )
    known = pl.col("p_last_game_date").is_not_null()
    return pl.when(known).then(score.clip(cfg.floor, cfg.ceiling))


def _vs_opponent(frame, player_logs, history_days: int | None = None) -> pl.DataFrame:
    # His newest game against the opponent before D: its counts, and this season's count when that
    # game is of the target's season (an older newest game means 0 this season). The all-seasons
    # counts cover the `season_rule.history_days` before D only: the box scores every run reads
    # behind each of its dates, so a one-day run and a long backfill (which loads more history
    # behind its later dates) give the same value. Counts of the window = the newest cumulative
    # before D minus the newest one before D - history_days.
    history_days = _SEASON_RULE.history_days if history_days is None else history_days
    hist = player_logs.select(
        "player_lookup", "opponent", _DATE, "opp_cum_games", "opp_cum_points", "opp_season_cum_games", "season"
    )
    keys = ["player_lookup", "opponent"]
    out = _asof(frame, hist, _DATE, keys, keys, "vs_")
    before_window = hist.select(*keys, _DATE, "opp_cum_games", "opp_cum_points")
    out = _asof(
        out.with_columns((pl.col(_DATE) - pl.duration(days=history_days)).alias("_vs_from")),
        before_window, "_vs_from", keys, keys, "vs_old_",
    )  # fmt: skip
    return out.with_columns(
        vs_opp_cum_games=pl.col("vs_opp_cum_games") - pl.col("vs_old_opp_cum_games").fill_null(0),
        vs_opp_cum_points=pl.col("vs_opp_cum_points") - pl.col("vs_old_opp_cum_points").fill_null(0.0),
    ).drop("_vs_from", "vs_old_opp_cum_games", "vs_old_opp_cum_points")


def _game_tips(inputs: FeatureInputs) -> pl.DataFrame:
    """game_id -> tip time: the target rows' (player_lines fills it from the snapshots), else the schedule's."""
    parts = [
        frame.select(pl.col("game_id").cast(pl.Utf8), pl.col(inj.TIP).cast(pl.Datetime("us", "UTC")))
        for frame in (inputs.targets, inputs.schedule)
        if inj.TIP in frame.columns and "game_id" in frame.columns
    ]
    if not parts:
        return pl.DataFrame(schema={"game_id": pl.Utf8, inj.TIP: pl.Datetime("us", "UTC")})
    return pl.concat(parts).drop_nulls().unique("game_id", keep="first", maintain_order=True)


def _injuries(frame, injuries: pl.DataFrame, tips: pl.DataFrame, player_logs, cfg: TeamContextConfig) -> pl.DataFrame:
    target_dates = frame.select(_DATE).unique()
    report = injuries.select(
        _DATE,
        "player_lookup",
        "team",
        pl.col("status").str.to_lowercase(),
        pl.col(inj.REPORTED_AT).cast(pl.Datetime("us", "UTC")),
    ).join(target_dates, on=_DATE, how="semi")
    frame = frame.join(tips, on="game_id", how="left")
    status = inj.reports_before_tip(report, frame, key=["_row"], by=[_DATE, "player_lookup"]).select(
        "_row", pl.col("status").alias("_status")
    )
    frame = frame.join(inj.first_report_per_date(report, _DATE), on=_DATE, how="left").join(
        status, on="_row", how="left"
    )
    frame = frame.with_columns(_has_report=inj.any_report_before_tip()).drop(inj.TIP, "_first_report")

    # Each report is cut at the tip of its team's game on D (a team plays once a day).
    team_tips = (
        pl.concat(
            [frame.select(_DATE, "team", "game_id"), frame.select(_DATE, pl.col("opponent").alias("team"), "game_id")]
        )
        .drop_nulls("team")
        .unique([_DATE, "team"], keep="first", maintain_order=True)
        .join(tips, on="game_id", how="left")
        .drop("game_id")
    )
    known = inj.newest_before_tip(report.join(team_tips, on=[_DATE, "team"], how="left"), [_DATE, "player_lookup"])
    out = known.filter(pl.col("status").is_in(list(cfg.star_out_statuses))).drop(inj.TIP)
    out = out.with_columns(season=tl.season_of_date(pl.col(_DATE)))
    season_hist = player_logs.select("player_lookup", "season", _DATE, "team", "season_cum_games", "season_cum_points")
    out = _asof(out, season_hist, _DATE, ["player_lookup", "season"], ["player_lookup", "season"], "s_")
    stars = out.filter(
        (pl.col("s_season_cum_games").fill_null(0) >= cfg.star_min_games)
        & (pl.col("s_season_cum_points") >= cfg.star_ppg * pl.col("s_season_cum_games"))
    ).select(_DATE, "player_lookup", pl.coalesce(pl.col("team"), pl.col("s_team")).alias("team"))
    per_team = stars.group_by(_DATE, "team").agg(pl.len().cast(pl.Float64).alias("_stars_out"))
    self_star = stars.select(_DATE, "player_lookup", "team", pl.lit(1.0).alias("_self_star"))
    frame = frame.join(per_team, on=[_DATE, "team"], how="left").join(
        self_star, on=[_DATE, "player_lookup", "team"], how="left"
    )
    has = pl.col("_has_report").fill_null(False)
    risk = pl.col("_status").replace_strict(cfg.injury_risk, default=0.0, return_dtype=pl.Float64).fill_null(0.0)
    stars_out = pl.col("_stars_out").fill_null(0.0) - pl.col("_self_star").fill_null(0.0)
    return frame.with_columns(
        injury_risk=pl.when(has).then(risk).otherwise(None),
        star_teammates_out=pl.when(has & pl.col("team").is_not_null()).then(stars_out).otherwise(None),
    )


def teammates_out_prev_game(frame: pl.DataFrame, box: pl.DataFrame, cfg: TeamContextConfig) -> pl.DataFrame:
    """`frame` (game_date, player_lookup, team) with `teammates_out_points_prev_game` (module docstring).

    Every input is a box row dated strictly before the row's date: the team's previous game G
    (before D), the regulars' season averages (strictly before G's date) and G's own box score."""
    rows = tl.played_rows(box).filter(pl.col("player_lookup").is_not_null())
    f64 = pl.Float64
    team_games = (
        rows.group_by("team", "game_id")
        .agg(pl.col(_DATE).min(), pl.col("season").first())
        .sort("team", _DATE, "game_id")
        .with_columns(_n=pl.int_range(pl.len()).over("team"))  # the team's game number (any season)
    )
    target = frame.select(pl.col(_DATE).cast(pl.Date), "player_lookup", "team").with_row_index("_tm_row")
    target = target.with_columns(_season=tl.season_of_date(pl.col(_DATE)))
    previous = team_games.select("team", _DATE, pl.col("game_id").alias("_prev_game"), pl.col("season").alias("_ps"))
    target = _asof(target, previous, _DATE, ["team"], ["team"], "")

    # G's candidates: every player of the team's season so far, on the team when his newest game
    # before G's date was for it; a regular by his season averages before G's date. Only the
    # targets' G are needed (a date's run reads one game per team, not the whole history); each
    # G's candidates and every player's log are the same whichever other games are left out.
    needed = target.select(pl.col("_prev_game").alias("game_id"), "team").drop_nulls().unique()
    roster = rows.select("team", "season", "player_lookup").unique()
    candidates = team_games.join(needed, on=["game_id", "team"], how="semi").join(
        roster, on=["team", "season"], how="inner"
    )
    logs = (
        of_players(rows, candidates.get_column("player_lookup").unique())
        .group_by("player_lookup", "game_id")
        .agg(
            pl.col(_DATE).min(),
            pl.col("season").first(),
            pl.col("team").first(),
            pl.col("points").cast(f64).fill_null(0.0).sum().alias("points"),
            pl.col("minutes").cast(f64).fill_null(0.0).sum().alias("minutes"),
            pl.lit(1.0).alias("games"),
        )
        .sort("player_lookup", _DATE, "game_id")
        .with_columns(
            games=pl.col("games").cum_sum().over("player_lookup", "season"),
            points=pl.col("points").cum_sum().over("player_lookup", "season"),
            minutes=pl.col("minutes").cum_sum().over("player_lookup", "season"),
        )
        .with_columns(last_date=pl.col(_DATE))
        .select("player_lookup", "season", _DATE, "team", "games", "points", "minutes", "last_date")
    )
    candidates = _asof(candidates, logs, _DATE, ["player_lookup", "season"], ["player_lookup", "season"], "r_")
    # ... and recently: his newest game is one of the team's last `regular_recent_games` before G
    numbers = team_games.select("team", pl.col(_DATE).alias("r_last_date"), pl.col("_n").alias("_r_n"))
    candidates = candidates.join(numbers, on=["team", "r_last_date"], how="left")
    out = candidates.filter(
        (pl.col("_n") - pl.col("_r_n") <= cfg.regular_recent_games)
        & (pl.col("r_team") == pl.col("team"))
        & (pl.col("r_games") >= cfg.regular_min_games)
        & (pl.col("r_minutes") >= cfg.regular_mpg * pl.col("r_games"))
    ).join(rows.select("game_id", "player_lookup").unique(), on=["game_id", "player_lookup"], how="anti")
    out = out.select("game_id", "team", "player_lookup", (pl.col("r_points") / pl.col("r_games")).alias("_ppg"))
    # A float sum depends on its order; the joins above do not fix one (a full season's run and
    # one date's run would differ in the last bit), so each game's regulars are summed in player
    # order (inside the aggregation: group_by itself promises no order within a group).
    per_game = out.group_by("game_id", "team").agg(pl.col("_ppg").sort_by("player_lookup").sum().alias("_out_ppg"))

    target = (
        target.join(per_game, left_on=["_prev_game", "team"], right_on=["game_id", "team"], how="left")
        .join(
            out.select(pl.col("game_id").alias("_prev_game"), "team", "player_lookup", pl.col("_ppg").alias("_self")),
            on=["_prev_game", "team", "player_lookup"],
            how="left",
        )
        .sort("_tm_row")
    )
    value = pl.col("_out_ppg").fill_null(0.0) - pl.col("_self").fill_null(0.0)
    has_prev = pl.col("team").is_not_null() & (pl.col("_ps") == pl.col("_season")).fill_null(False)
    value = pl.when(has_prev).then(value.clip(lower_bound=0.0)).otherwise(None)
    return frame.with_columns(target.select(value.alias("teammates_out_points_prev_game")).to_series())


def _playoff(frame, schedule: pl.DataFrame, cfg: TeamContextConfig) -> pl.DataFrame:
    types = (
        schedule.select("game_id", pl.col("season_type").alias("_season_type"))
        .drop_nulls("game_id")
        .unique("game_id", keep="last")
    )
    frame = frame.join(types, on="game_id", how="left")
    dates = frame.filter(pl.col("_season_type").is_null()).get_column(_DATE).drop_nulls().unique().to_list()
    calendar = pl.DataFrame(
        {_DATE: dates, "_calendar_playoff": [float(phase_of(d) in (Phase.PLAYOFFS, Phase.PLAY_IN)) for d in dates]},
        schema={_DATE: pl.Date, "_calendar_playoff": pl.Float64},
    )
    frame = frame.join(calendar, on=_DATE, how="left")
    from_schedule = pl.col("_season_type").is_not_null()
    return frame.with_columns(
        is_playoff_game=pl.when(from_schedule)
        .then(pl.col("_season_type").is_in(list(cfg.playoff_season_types)).cast(pl.Float64))
        .otherwise(pl.col("_calendar_playoff")),
        _playoff_src=pl.when(from_schedule).then(pl.lit("schedule")).otherwise(pl.lit("calculated")),
    )


# ---------------------------------------------------------------------------------------------
# the block


def team_context_features(inputs: FeatureInputs, config: TeamContextConfig = DEFAULT_CONFIG) -> pl.DataFrame:
    """The team-context block (see the module docstring for every definition)."""
    cfg = config
    log_cfg = tl.DEFAULT_LOG_CONFIG
    targets = inputs.targets
    frame = targets.select(
        pl.col("game_date").cast(pl.Date),
        pl.col("game_id").cast(pl.Utf8),
        pl.col("player_lookup").cast(pl.Utf8),
        pl.col("team").cast(pl.Utf8),
        pl.col("opponent").cast(pl.Utf8),
        pl.col("is_home").cast(pl.Boolean),
    ).with_row_index("_row")
    frame = frame.with_columns(season=tl.season_of_date(pl.col(_DATE))).with_columns(
        prior_season=tl.previous_season(pl.col("season"))
    )

    box = inputs.box_history
    logs = tl.team_game_logs(box, log_cfg)
    team_to_date = tl.team_to_date(logs)
    team_finals = tl.season_finals(team_to_date, ("team",))
    league_to_date = tl.league_to_date(logs)
    league_finals = tl.season_finals(league_to_date, ())
    # Player logs are read for the targets' players and the injury report's (stars out) only.
    players = [
        frame.get_column("player_lookup").cast(pl.Utf8)
        for frame in (targets, inputs.injuries)
        if "player_lookup" in frame.columns
    ]
    player_logs = tl.player_game_logs(box, logs, log_cfg, players=pl.concat(players).drop_nulls().unique())

    frame = _team_side(frame, team_to_date, team_finals, "team", "t_", cfg)
    frame = _team_side(frame, team_to_date, team_finals, "opponent", "o_", cfg)
    frame = _league(frame, league_to_date, league_finals, "o_src")
    frame = _player_usage(frame, player_logs, cfg)
    frame = _team_rest(frame, logs, "team", "team_rest", cfg)
    frame = _team_rest(frame, logs, "opponent", "opp_rest", cfg)
    frame = _player_windows(frame, player_logs, cfg)
    frame = _vs_opponent(frame, player_logs)
    frame = _injuries(frame, inputs.injuries, _game_tips(inputs), player_logs, cfg)
    frame = teammates_out_prev_game(frame, box, cfg)
    frame = _playoff(frame, inputs.schedule, cfg)

    c = pl.col
    minutes_per_game = log_cfg.regulation_minutes
    team_pace = _ratio(c("t_poss"), c("t_game_minutes"), minutes_per_game)
    opp_pace = _ratio(c("o_poss"), c("o_game_minutes"), minutes_per_game)
    usage = pl.when(c("pu_minutes") >= cfg.min_usage_minutes).then(
        _ratio(c("pu_plays") * c("pu_team_game_minutes"), c("pu_minutes") * c("pu_team_plays"), 100.0)
    )
    opp_conceded_rate = _ratio(c("o_opp_plays"), c("o_game_minutes"))
    league_rate = _ratio(c("lg_plays"), c("lg_game_minutes"))
    allowed_usage = _ratio(opp_conceded_rate, league_rate, 100.0 / log_cfg.players_on_court)
    clamp = cfg.rest_advantage_clamp
    has_opp = c("opponent").is_not_null()
    known = c("p_last_game_date").is_not_null()  # any box-score row before D
    vs_games = c("vs_opp_cum_games").fill_null(0.0)

    exprs = [
        *_feature("opp_def_rating", _ratio(c("o_opp_pts"), c("o_opp_poss"), 100.0), c("o_src")),
        *_feature("opp_pace", opp_pace, c("o_src")),
        *_feature("team_pace", team_pace, c("t_src")),
        *_feature("team_off_rating", _ratio(c("t_pts"), c("t_poss"), 100.0), c("t_src")),
        *_feature("team_win_pct", _ratio(c("t_wins"), c("t_games")), c("t_src")),
        *_feature("pace_diff", team_pace - opp_pace, _worst_source(c("t_src"), c("o_src"))),
        *_feature("usage_diff_vs_opponent", usage - allowed_usage, _worst_source(c("pu_src"), c("o_src"))),
        *_feature("rest_advantage", (c("team_rest") - c("opp_rest")).clip(-clamp, clamp), "calculated"),
        *_feature("days_rest", c("days_rest"), "box_scores"),
        *_feature("is_home", c("is_home"), "schedule"),
        *_feature("is_back_to_back", pl.when(known).then(c("is_back_to_back")), "box_scores"),
        *_feature("is_playoff_game", c("is_playoff_game"), c("_playoff_src")),
        *_feature("games_last_7_days", pl.when(known).then(c("games_last_7_days")), "box_scores"),
        *_feature("minutes_last_7_days", pl.when(known).then(c("minutes_last_7_days")), "box_scores"),
        *_feature("fatigue_score", _fatigue(cfg.fatigue), "calculated"),
        *_feature(
            "avg_points_vs_opponent", pl.when(vs_games > 0).then(c("vs_opp_cum_points") / vs_games), "box_scores"
        ),
        *_feature("games_vs_opponent", pl.when(has_opp & known).then(vs_games), "box_scores"),
        *_feature("star_teammates_out", c("star_teammates_out"), "injuries"),
        *_feature("injury_risk", c("injury_risk"), "injuries"),
        *[e for name in NO_SOURCE_YET for e in _feature(name, pl.lit(None), "default")],
        # signal features
        *_feature("team_days_rest", c("team_rest_days"), "box_scores"),
        *_feature("opponent_days_rest", c("opp_rest_days"), "box_scores"),
        *_feature(
            "games_vs_opponent_season",
            pl.when(has_opp & known).then(
                pl.when(c("vs_season") == c("season")).then(c("vs_opp_season_cum_games")).otherwise(0.0)
            ),
            "box_scores",
        ),
        *_feature("teammates_out_points_prev_game", c("teammates_out_points_prev_game"), "box_scores"),
    ]
    return frame.sort("_row").select(*KEY_COLUMNS, *exprs)
