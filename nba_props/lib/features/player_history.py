"""Player-history feature block: scoring level, volume, role, trends and regime, from box scores.

Set-based: the player's game log is built once (sorted by player and date) with cumulative sums
"after each game"; window statistics over the last N games are differences of those sums
(count-based, across season boundaries). Each target is attached to its player's newest game
strictly before the target date with `join_asof(allow_exact_matches=False)`; date windows (the
last 60 days) are differences of cumulative sums looked up as of two dates. No per-row Python.

The definitions (windows, minimum games, fallbacks) are those of `config/features.yaml`.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import timedelta

import polars as pl

from nba_props.lib.asof import join_strictly_before
from nba_props.lib.features.contract import load_contract
from nba_props.lib.features.inputs import KEY_COLUMNS, FeatureInputs, source_column
from nba_props.seasons import season_start_year_expr as season_year  # start year of a date's season

P = "player_lookup"
DEFAULT_SOURCE = "default"
BOX = "box_scores"
PRIOR = "prior_season"
CALC = "calculated"

# Windows (games) and the minimum number of games each needs: ceil(N / 2). The windows are the
# feature names' own (points_avg_last_5 ...); every threshold below is a rule of
# config/features.yaml (sections player_history, season_rule, team_logs), loaded once.
WINDOWS = (3, 5, 7, 10)
MIN_GAMES = {n: math.ceil(n / 2) for n in WINDOWS}
_RULES = load_contract().player_history
TREND_GAMES = _RULES.trend_games
SEASON_MIN_GAMES = load_contract().season_rule.min_games
SHOT_MIN_FGA = _RULES.shot_min_fga
PPM_MIN_MINUTES = _RULES.ppm_min_minutes
USAGE_FTA_WEIGHT = load_contract().team_logs.fta_weight  # the plays definition of the team logs
DNP_TEAM_GAMES = _RULES.dnp_team_games
DNP_MIN_TEAM_GAMES = _RULES.dnp_min_team_games
DEVIATION_DAYS = _RULES.deviation_days
DEVIATION_MIN_GAMES = _RULES.deviation_min_games
STRUCTURAL_GAP_DAYS = _RULES.structural_gap_days
STRUCTURAL_CAP = _RULES.structural_cap
ZSCORE_STD_FLOOR = _RULES.zscore_std_floor
BREAKOUT_Z = _RULES.breakout_z
BREAKOUT_POINTS = _RULES.breakout_points
SIGNAL_RULES = load_contract().signal_features  # thresholds of the signal features (sets: [])

FEATURES = (
    "points_avg_last_5",
    "points_avg_last_10",
    "points_avg_season",
    "points_std_last_10",
    "recent_trend",
    "minutes_change_vs_season",
    "three_pt_attempt_rate",
    "free_throw_rate",
    "minutes_avg_last_10",
    "points_per_minute_last_10",
    "dnp_rate",
    "points_slope_last_10",
    "points_zscore_last_5",
    "breakout_flag",
    "points_avg_last_3",
    "scoring_slope_last_7",
    "deviation_last_3_vs_60d",
    "consecutive_games_below_avg",
    "usage_rate_last_5",
    "games_since_structural_change",
    # signal features (in no model set; read by the pick signals and filters)
    "minutes_avg_last_3",
    "minutes_avg_season",
    "minutes_prev_game",
    "starter_share_last_5",
    "fg3a_per_game_season",
    "fg3_pct_season",
    "fg3_pct_last_3",
    "fg3_pct_std_season",
    "negative_plus_minus_streak",
    "is_big_man",
)

_USAGE_STATS = ("minutes", "fga", "fg3a", "fta", "tov")
_SIGNAL_STATS = ("fg3m", "reb", "plus_minus")
# Season-rule sums of the signal features: season to date `s_<name>` after each game, the
# previous season's totals `p_<name>` (see `_season_totals`).
SIGNAL_SEASON_SUMS = ("fg3a_f", "fg3m_f", "miss_3", "reb_f", "miss_reb", "k3", "p3", "p3sq")


# ---------------------------------------------------------------------------------------------
# shared helpers (also used by the vegas block)


def feature_pair(name: str, value: pl.Expr, ok: pl.Expr, source: str | pl.Expr) -> list[pl.Expr]:
    """`<name>` (NULL unless `ok` and finite) and `<name>__source` ("default" when NULL)."""
    value = value.cast(pl.Float64)
    good = ok.fill_null(False) & value.is_not_null() & value.is_finite().fill_null(False)
    src = pl.lit(source) if isinstance(source, str) else source
    return [
        pl.when(good).then(value).otherwise(None).alias(name),
        pl.when(good).then(src).otherwise(pl.lit(DEFAULT_SOURCE)).cast(pl.Utf8).alias(source_column(name)),
    ]


def target_frame(targets: pl.DataFrame) -> pl.DataFrame:
    """Key, team and season of each target, sorted by date (the as-of joins need it)."""
    team = pl.col("team") if "team" in targets.columns else pl.lit(None, dtype=pl.Utf8)
    return (
        targets.select(*KEY_COLUMNS, team.cast(pl.Utf8).alias("target_team"))
        .with_columns(season=season_year(pl.col("game_date")))
        .sort("game_date", P)
    )


def played_rows(box: pl.DataFrame) -> pl.DataFrame:
    """Box rows of games the player played (DNP rows and unusable rows dropped), one per game."""
    played = pl.col("played").fill_null(True) if "played" in box.columns else pl.lit(True)
    return box.filter(
        played
        & pl.col("points").is_not_null()
        & pl.col(P).is_not_null()
        & pl.col("game_date").is_not_null()
        & pl.col("team").is_not_null()
    ).unique(subset=["game_id", P], keep="first", maintain_order=True)


def of_players(frame: pl.DataFrame, players: pl.Series | None) -> pl.DataFrame:
    """`frame`'s rows of `players` (all rows when None), in their order.

    Player-level logs are computed per player (windows `over(P)`, as-of joins `by=P`, season
    sums grouped by player), so rows of other players cannot change a target player's value:
    dropping them before those steps gives the same values at a fraction of the cost when the
    targets are a few players (a single date, as the leak check rebuilds). Anything that sums
    over teammates (team totals, team games) must be computed before this cut. The cut commutes
    with `played_rows` (row filters, and the first row per (game, player) keeps its order)."""
    if players is None:
        return frame
    return frame.filter(pl.col(P).is_in(players.implode()))


def target_players(targets: pl.DataFrame) -> pl.Series:
    return targets.get_column(P).drop_nulls().unique()


def season_stats_log(rows: pl.DataFrame, carry: tuple[str, ...] = ()) -> pl.DataFrame:
    """Per game (sorted by player and date): season-to-date sums after the game (`s_*`) and the
    previous season's totals (`p_*`). `carry` names extra columns of `rows` to keep."""
    log = rows.select(
        P,
        "game_date",
        "game_id",
        "team",
        *carry,
        season=season_year(pl.col("game_date")),
        pts=pl.col("points").cast(pl.Float64),
        minutes=pl.col("minutes").cast(pl.Float64),
    ).sort(P, "game_date", "game_id")
    by = [P, "season"]
    log = log.with_columns(
        s_n=pl.int_range(1, pl.len() + 1).over(by),
        s_pts=pl.col("pts").cum_sum().over(by),
        s_pts2=(pl.col("pts") ** 2).cum_sum().over(by),
        s_min=pl.col("minutes").fill_null(0.0).cum_sum().over(by),
        s_min_missing=pl.col("minutes").is_null().cast(pl.Int32).cum_sum().over(by),
    )
    # Totals of season s are the "previous season" of rows of season s + 1.
    totals = _season_totals(log).with_columns(season=pl.col("season") + 1)
    return log.join(totals, on=by, how="left", maintain_order="left")


def season_rule(
    cur_n: pl.Expr, cur_sum: pl.Expr, cur_sum2: pl.Expr, prior_n: pl.Expr, prior_sum: pl.Expr, prior_sum2: pl.Expr
) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(mean, sample std, source) under the season rule: the current season with at least
    SEASON_MIN_GAMES games, else the previous season with as many (prior_season), else NULL."""
    use_cur = cur_n.fill_null(0) >= SEASON_MIN_GAMES
    use_prior = ~use_cur & (prior_n.fill_null(0) >= SEASON_MIN_GAMES)
    n = pl.when(use_cur).then(cur_n).when(use_prior).then(prior_n).cast(pl.Float64)
    s = pl.when(use_cur).then(cur_sum).when(use_prior).then(prior_sum)
    s2 = pl.when(use_cur).then(cur_sum2).when(use_prior).then(prior_sum2)
    mean = s / n
    std = ((s2 - s * s / n).clip(lower_bound=0.0) / (n - 1)).sqrt()
    source = pl.when(use_cur).then(pl.lit(BOX)).when(use_prior).then(pl.lit(PRIOR))
    return mean, std, source


def derived_source(*sources: pl.Expr) -> pl.Expr:
    """Source of a feature computed from others: prior_season if any input is, else calculated
    (callers only use it where every input is real)."""
    any_prior = pl.any_horizontal([s.fill_null("") == PRIOR for s in sources])
    return pl.when(any_prior).then(pl.lit(PRIOR)).otherwise(pl.lit(CALC))


def season_points(targets: pl.DataFrame, box: pl.DataFrame) -> pl.DataFrame:
    """KEY + `season_points_mean`, `season_points_std`, `season_points_source` per target (the
    season rule), for blocks that compare against the season average."""
    t = target_frame(targets)
    log = season_stats_log(played_rows(of_players(box, target_players(targets))))
    right = log.select(P, "game_date", last_season="season", s_n="s_n", s_pts="s_pts", s_pts2="s_pts2").sort(
        "game_date"
    )
    joined = _asof(t, right)
    totals = _season_totals(log)
    joined = joined.join(totals, left_on=[P, "prior_season_year"], right_on=[P, "season"], how="left")
    cur = pl.col("last_season") == pl.col("season")
    mean, std, source = season_rule(
        pl.when(cur).then(pl.col("s_n")).otherwise(0),
        pl.col("s_pts"),
        pl.col("s_pts2"),
        pl.col("p_n"),
        pl.col("p_pts"),
        pl.col("p_pts2"),
    )
    return joined.select(*KEY_COLUMNS, season_points_mean=mean, season_points_std=std, season_points_source=source)


def _season_totals(log: pl.DataFrame, extra: tuple[str, ...] = ()) -> pl.DataFrame:
    """Per (player, season): games, points, points², minutes, missing minutes, and the sums of
    the `extra` columns (`p_<name>`, NULLs as 0)."""
    return log.group_by(P, "season").agg(
        p_n=pl.len(),
        p_pts=pl.col("pts").sum(),
        p_pts2=(pl.col("pts") ** 2).sum(),
        p_min=pl.col("minutes").fill_null(0.0).sum(),
        p_min_missing=pl.col("minutes").is_null().sum().cast(pl.Int32),
        **{f"p_{c}": pl.col(c).fill_null(0).sum() for c in extra},
    )


def _asof(left: pl.DataFrame, right: pl.DataFrame, left_on: str = "game_date") -> pl.DataFrame:
    """Each left row with the player's newest right row dated strictly before `left_on`."""
    out = join_strictly_before(left, right, left_on=left_on, right_on="game_date", by=P)
    if left_on == "game_date":
        return out.with_columns(prior_season_year=pl.col("season") - 1)
    return out


# ---------------------------------------------------------------------------------------------
# the player game log


def _window(col: str, n: int) -> pl.Expr:
    """Sum of `col` over the last n games up to and including this one (col is a cumsum)."""
    return pl.col(col) - pl.col(col).shift(n, fill_value=0).over(P)


def player_game_log(box: pl.DataFrame, players: pl.Series | None = None) -> pl.DataFrame:
    """One row per game played, sorted by player and date, with the statistics "after the game"
    that the features read (window sums, season sums, streaks, regime); only `players`' games
    when given (`of_players`: team totals still come from every row)."""
    rows = played_rows(box)
    for stat in (*_USAGE_STATS, *_SIGNAL_STATS):
        if stat not in rows.columns:
            rows = rows.with_columns(pl.lit(None, dtype=pl.Float64).alias(stat))
    # Started: the box-score flag, else among the team's N highest-minute players of the game
    # (fewer than N teammates with strictly more minutes), from every row (before the player cut).
    flag = pl.col("starter") if "starter" in rows.columns else pl.lit(None, dtype=pl.Boolean)
    proxy = pl.col("minutes").rank("min", descending=True).over("game_id", "team") <= SIGNAL_RULES.starter_proxy_players
    rows = rows.with_columns(started=pl.coalesce(flag.cast(pl.Boolean), proxy).cast(pl.Float64))
    poss = pl.col("fga") + USAGE_FTA_WEIGHT * pl.col("fta") + pl.col("tov")
    any_missing = pl.any_horizontal([pl.col(s).is_null() for s in _USAGE_STATS])
    team_totals = rows.group_by("game_id", "team").agg(
        team_minutes=pl.col("minutes").sum(), team_poss=poss.sum(), team_missing=any_missing.any()
    )
    # Games whose inputs are missing: any such game in a window defaults the features that
    # need them (never silently counted as zeros).
    missing_min = pl.col("minutes").is_null()
    missing_shots = pl.any_horizontal([pl.col(s).is_null() for s in ("fga", "fg3a", "fta")])
    # usage needs the whole team's line: one teammate without stats spoils the team totals
    missing_usage = pl.col("team_missing").fill_null(True)
    rows = (
        of_players(rows, players)
        .join(team_totals, on=["game_id", "team"], how="left")
        .with_columns(
            fga_f=pl.col("fga").cast(pl.Float64),
            fg3a_f=pl.col("fg3a").cast(pl.Float64),
            fta_f=pl.col("fta").cast(pl.Float64),
            miss_min=missing_min.cast(pl.Int32),
            miss_shots=missing_shots.cast(pl.Int32),
            miss_usage=missing_usage.cast(pl.Int32),
            usage_num=(poss * pl.col("team_minutes") / 5.0).cast(pl.Float64),
            usage_den=(pl.col("minutes") * pl.col("team_poss")).cast(pl.Float64),
        )
        .with_columns(_signal_game_exprs())
    )
    log = season_stats_log(
        rows,
        carry=(
            "fga_f", "fg3a_f", "fta_f", "miss_min", "miss_shots", "miss_usage", "usage_num", "usage_den",
            *_SIGNAL_CARRY,
        ),
    )  # fmt: skip
    log = log.rename({"fga_f": "fga", "fta_f": "fta"})
    log = log.with_columns(fg3a=pl.col("fg3a_f"))
    n = pl.col("n")
    log = log.with_columns(n=pl.int_range(1, pl.len() + 1).over(P)).with_columns(
        **{f"s_{c}": pl.col(c).fill_null(0).cum_sum().over(P, "season") for c in SIGNAL_SEASON_SUMS},
        c_fg3m=pl.col("fg3m_f").fill_null(0.0).cum_sum().over(P),
        c_miss_3=pl.col("miss_3").cum_sum().over(P),
        c_start=pl.col("started").fill_null(0.0).cum_sum().over(P),
        c_start_known=pl.col("started").is_not_null().cast(pl.Int32).cum_sum().over(P),
        c_pts=pl.col("pts").cum_sum().over(P),
        c_pts2=(pl.col("pts") ** 2).cum_sum().over(P),
        c_npts=(n.cast(pl.Float64) * pl.col("pts")).cum_sum().over(P),
        c_min=pl.col("minutes").fill_null(0.0).cum_sum().over(P),
        c_fga=pl.col("fga").fill_null(0.0).cum_sum().over(P),
        c_fg3a=pl.col("fg3a").fill_null(0.0).cum_sum().over(P),
        c_fta=pl.col("fta").fill_null(0.0).cum_sum().over(P),
        c_miss_min=pl.col("miss_min").cum_sum().over(P),
        c_miss_shots=pl.col("miss_shots").cum_sum().over(P),
        c_miss_usage=pl.col("miss_usage").cum_sum().over(P),
        c_un=pl.col("usage_num").fill_null(0.0).cum_sum().over(P),
        c_ud=pl.col("usage_den").fill_null(0.0).cum_sum().over(P),
    )
    windows = {
        **{f"w{w}_pts": _window("c_pts", w) for w in WINDOWS},
        "w10_pts2": _window("c_pts2", 10),
        "w10_npts": _window("c_npts", 10),
        "w7_npts": _window("c_npts", 7),
        "w10_min": _window("c_min", 10),
        "w10_fga": _window("c_fga", 10),
        "w10_fg3a": _window("c_fg3a", 10),
        "w10_fta": _window("c_fta", 10),
        "w10_miss_min": _window("c_miss_min", 10),
        "w10_miss_shots": _window("c_miss_shots", 10),
        "w5_un": _window("c_un", 5),
        "w5_ud": _window("c_ud", 5),
        "w5_miss_usage": _window("c_miss_usage", 5),
        # signal features
        "w3_min": _window("c_min", 3),
        "w3_miss_min": _window("c_miss_min", 3),
        "w3_fg3a": _window("c_fg3a", 3),
        "w3_fg3m": _window("c_fg3m", 3),
        "w3_miss_3": _window("c_miss_3", 3),
        "w5_start": _window("c_start", 5),
        "w5_start_known": _window("c_start_known", 5),
    }
    # Season-rule mean entering each game (for the below-average streak).
    cur_n_in = pl.col("s_n") - 1
    mean_in, _, _ = season_rule(
        cur_n_in,
        pl.col("s_pts") - pl.col("pts"),
        pl.col("s_pts2") - pl.col("pts") ** 2,
        pl.col("p_n"),
        pl.col("p_pts"),
        pl.col("p_pts2"),
    )
    prev_team = pl.col("team").shift(1).over(P)
    prev_date = pl.col("game_date").shift(1).over(P)
    change = (
        prev_team.is_null()
        | (pl.col("team") != prev_team)
        | ((pl.col("game_date") - prev_date).dt.total_days() > STRUCTURAL_GAP_DAYS)
    )
    log = log.with_columns(
        **windows,
        below=pl.col("pts") < mean_in,
        change_n=pl.when(change).then(n).otherwise(None),
    ).with_columns(
        change_n=pl.col("change_n").forward_fill().over(P),
        _below=pl.col("below").fill_null(False),
    )
    run = (~pl.col("_below")).cast(pl.Int32).cum_sum().over(P)
    negative = pl.col("plus_minus") < 0
    neg_run = (~negative.fill_null(False)).cast(pl.Int32).cum_sum().over(P)
    log = log.with_columns(_run=run, _neg_run=neg_run).with_columns(
        below_streak=pl.when(pl.col("below").is_not_null()).then(
            pl.col("_below").cast(pl.Int32).cum_sum().over(P, "_run")
        ),
        neg_pm_streak=pl.when(negative.is_not_null()).then(
            negative.fill_null(False).cast(pl.Int32).cum_sum().over(P, "_neg_run")
        ),
        games_since_change=n - pl.col("change_n") + 1,
    )
    return log.drop("_below", "_run", "_neg_run", "below", "change_n")


_SIGNAL_CARRY = ("fg3m_f", "reb_f", "plus_minus", "started", "miss_3", "miss_reb", "k3", "p3", "p3sq")


def _signal_game_exprs() -> list[pl.Expr]:
    """Per-game inputs of the signal features: 3PM, rebounds, plus-minus, missing flags and the
    per-game 3P% of games with enough 3PA (k3 = 1 for such a game; p3, p3sq its 3P% and square)."""
    fg3a, fg3m = pl.col("fg3a").cast(pl.Float64), pl.col("fg3m").cast(pl.Float64)
    missing_3 = fg3a.is_null() | fg3m.is_null()
    counts = ~missing_3 & (fg3a >= SIGNAL_RULES.fg3_std_game_min_attempts)
    pct = pl.when(counts).then(fg3m / fg3a)
    return [
        fg3m.alias("fg3m_f"),
        pl.col("reb").cast(pl.Float64).alias("reb_f"),
        pl.col("plus_minus").cast(pl.Float64),
        missing_3.cast(pl.Int32).alias("miss_3"),
        pl.col("reb").is_null().cast(pl.Int32).alias("miss_reb"),
        counts.cast(pl.Int32).alias("k3"),
        pct.alias("p3"),
        (pct * pct).alias("p3sq"),
    ]


# ---------------------------------------------------------------------------------------------
# did-not-play rate (team games missed while on the roster)


def _dnp_frame(joined: pl.DataFrame, box: pl.DataFrame, players: pl.Series | None = None) -> pl.DataFrame:
    """KEY + dnp_apps, dnp_eligible for targets whose newest team is known (appearances of
    `players` only when given; team games always from every row)."""
    team_games = (
        box.filter(pl.col("team").is_not_null() & pl.col("game_date").is_not_null())
        .select("team", "game_id", "game_date")
        .unique(subset=["team", "game_id"])
        .sort("team", "game_date", "game_id")
        .with_columns(t_idx=pl.int_range(1, pl.len() + 1).over("team"))
    )
    apps = (
        played_rows(of_players(box, players))
        .select(P, "team", "game_id", "game_date")
        .join(team_games.select("team", "game_id", "t_idx"), on=["team", "game_id"], how="inner")
        .sort(P, "team", "t_idx")
        .with_columns(
            app_n=pl.int_range(1, pl.len() + 1).over(P, "team"),
            first_idx=pl.col("t_idx").first().over(P, "team"),
        )
    )
    left = joined.filter(pl.col("last_team").is_not_null()).select(*KEY_COLUMNS, team="last_team")
    # Team games of the newest team strictly before the date.
    left = left.sort("game_date").join_asof(
        team_games.select("team", "game_date", n_team="t_idx").sort("game_date"),
        on="game_date",
        by="team",
        allow_exact_matches=False,
        check_sortedness=False,
    )
    # The player's appearances for that team up to now, and up to the window start.
    stint = apps.group_by(P, "team").agg(first_idx=pl.col("first_idx").first())
    left = left.join(stint, on=[P, "team"], how="left").with_columns(
        w_start=(pl.col("n_team").fill_null(0) - DNP_TEAM_GAMES).cast(pl.Int64)
    )
    apps_idx = apps.select(P, "team", pl.col("t_idx").cast(pl.Int64), "app_n").sort("t_idx")
    now = (
        left.with_columns(n_idx=pl.col("n_team").fill_null(0).cast(pl.Int64))
        .sort("n_idx")
        .join_asof(
            apps_idx.rename({"app_n": "apps_now"}),
            left_on="n_idx",
            right_on="t_idx",
            by=[P, "team"],
            check_sortedness=False,
        )
    )
    now = now.sort("w_start").join_asof(
        apps_idx.rename({"app_n": "apps_before"}),
        left_on="w_start",
        right_on="t_idx",
        by=[P, "team"],
        check_sortedness=False,
    )
    lower = pl.max_horizontal(pl.col("w_start"), pl.col("first_idx") - 1)
    return now.select(
        *KEY_COLUMNS,
        dnp_apps=(pl.col("apps_now").fill_null(0) - pl.col("apps_before").fill_null(0)).cast(pl.Float64),
        dnp_eligible=(pl.col("n_team") - lower).cast(pl.Float64),
    )


# ---------------------------------------------------------------------------------------------
# the block


def player_history_features(inputs: FeatureInputs) -> pl.DataFrame:
    """One row per target key with the player-history features and their sources."""
    t = target_frame(inputs.targets)
    box = inputs.box_history
    players = target_players(inputs.targets)
    log = player_game_log(box, players)
    after = log.select(
        P,
        "game_date",
        "n",
        "c_pts",
        *[c for c in log.columns if re.match(r"w\d+_", c)],
        "s_n",
        "s_pts",
        "s_pts2",
        "s_min",
        "s_min_missing",
        "below_streak",
        "games_since_change",
        "neg_pm_streak",
        *[f"s_{c}" for c in SIGNAL_SEASON_SUMS],
        last_minutes="minutes",
        last_date="game_date",
        last_team="team",
        last_season="season",
    ).sort("game_date")
    joined = _asof(t, after)
    # 60-day window: cumulative sums as of D and as of D - 60 (both strictly before).
    back = _asof(
        joined.select(*KEY_COLUMNS, d60=pl.col("game_date") - timedelta(days=DEVIATION_DAYS)),
        log.select(P, "game_date", n60="n", c_pts60="c_pts").sort("game_date"),
        left_on="d60",
    ).select(*KEY_COLUMNS, "n60", "c_pts60")
    joined = (
        joined.join(back, on=list(KEY_COLUMNS), how="left")
        .join(
            _season_totals(log, SIGNAL_SEASON_SUMS),
            left_on=[P, "prior_season_year"],
            right_on=[P, "season"],
            how="left",
        )
        .join(_dnp_frame(joined, box, players), on=list(KEY_COLUMNS), how="left")
    )
    return joined.with_columns(_season_exprs()).select(*KEY_COLUMNS, *_feature_exprs()).sort(*KEY_COLUMNS)


def _avg(w: int) -> tuple[pl.Expr, pl.Expr]:
    count = pl.min_horizontal(pl.col("n"), pl.lit(w))
    return pl.col(f"w{w}_pts") / count, count >= MIN_GAMES[w]


def _slope(w: int) -> tuple[pl.Expr, pl.Expr]:
    m = pl.min_horizontal(pl.col("n"), pl.lit(w)).cast(pl.Float64)
    sy = pl.col(f"w{w}_pts")
    sxy = pl.col(f"w{w}_npts") - (pl.col("n") - m) * sy
    sx = m * (m + 1) / 2
    sxx = m * (m + 1) * (2 * m + 1) / 6
    return (m * sxy - sx * sy) / (m * sxx - sx * sx), m >= MIN_GAMES[w]


@functools.cache
def _season_exprs() -> list[pl.Expr]:
    """The season rule's mean / std / source (and the current-season count), computed once as
    columns: several features read them, and inlining them into each feature expression makes
    the final select's expression tree (its planning cost, paid on every call) several times larger."""
    cur = pl.col("last_season") == pl.col("season")
    cur_n = pl.when(cur).then(pl.col("s_n")).otherwise(0)
    mean, std, source = season_rule(
        cur_n, pl.col("s_pts"), pl.col("s_pts2"), pl.col("p_n"), pl.col("p_pts"), pl.col("p_pts2")
    )
    return [cur_n.alias("_cur_n"), mean.alias("_season_mean"), std.alias("_season_std"), source.alias("_season_src")]


@functools.cache  # module constants only: built once, not per call
def _feature_exprs() -> list[pl.Expr]:
    n = pl.col("n")
    c10 = pl.min_horizontal(n, pl.lit(10)).cast(pl.Float64)
    c5 = pl.min_horizontal(n, pl.lit(5)).cast(pl.Float64)
    avg3, ok3 = _avg(3)
    avg5, ok5 = _avg(5)
    avg10, ok10 = _avg(10)
    cur_n = pl.col("_cur_n")
    season_mean, season_std, season_src = pl.col("_season_mean"), pl.col("_season_std"), pl.col("_season_src")
    season_ok = season_src.is_not_null()
    use_cur = cur_n >= SEASON_MIN_GAMES
    season_min = pl.when(use_cur).then(pl.col("s_min") / pl.col("s_n")).otherwise(pl.col("p_min") / pl.col("p_n"))
    season_min_ok = season_ok & pl.when(use_cur).then(pl.col("s_min_missing") == 0).otherwise(
        pl.col("p_min_missing") == 0
    )
    std10 = ((pl.col("w10_pts2") - pl.col("w10_pts") ** 2 / c10).clip(lower_bound=0.0) / (c10 - 1)).sqrt()
    min10 = pl.col("w10_min") / c10
    min10_ok = ok10 & (pl.col("w10_miss_min") == 0)
    shots_ok = ok10 & (pl.col("w10_miss_shots") == 0) & (pl.col("w10_fga") >= SHOT_MIN_FGA)
    slope10, slope10_ok = _slope(10)
    slope7, slope7_ok = _slope(7)
    zscore = (avg5 - season_mean) / pl.max_horizontal(season_std, pl.lit(ZSCORE_STD_FLOOR))
    z_ok = ok5 & season_ok
    derived_src = derived_source(season_src)
    n_window60 = n - pl.col("n60").fill_null(0)
    mean60 = (pl.col("c_pts") - pl.col("c_pts60").fill_null(0.0)) / n_window60
    structural_now = (pl.col("target_team").is_not_null() & (pl.col("target_team") != pl.col("last_team"))) | (
        (pl.col("game_date") - pl.col("last_date")).dt.total_days() > STRUCTURAL_GAP_DAYS
    )
    since = pl.when(structural_now).then(0).otherwise(pl.min_horizontal(pl.col("games_since_change"), STRUCTURAL_CAP))
    usage = 100.0 * pl.col("w5_un") / pl.col("w5_ud")
    usage_ok = (c5 >= MIN_GAMES[5]) & (pl.col("w5_miss_usage") == 0) & (pl.col("w5_ud") > 0)
    trend = pl.col("w5_pts") / 5.0 - (pl.col("w10_pts") - pl.col("w5_pts")) / 5.0
    return [
        *feature_pair("points_avg_last_5", avg5, ok5, BOX),
        *feature_pair("points_avg_last_10", avg10, ok10, BOX),
        *feature_pair("points_avg_season", season_mean, season_ok, season_src),
        *feature_pair("points_std_last_10", std10, ok10, BOX),
        *feature_pair("recent_trend", trend, n >= TREND_GAMES, CALC),
        *feature_pair("minutes_change_vs_season", min10 - season_min, min10_ok & season_min_ok, derived_src),
        *feature_pair("three_pt_attempt_rate", pl.col("w10_fg3a") / pl.col("w10_fga"), shots_ok, BOX),
        *feature_pair("free_throw_rate", pl.col("w10_fta") / pl.col("w10_fga"), shots_ok, BOX),
        *feature_pair("minutes_avg_last_10", min10, min10_ok, BOX),
        *feature_pair(
            "points_per_minute_last_10",
            pl.col("w10_pts") / pl.col("w10_min"),
            min10_ok & (pl.col("w10_min") >= PPM_MIN_MINUTES),
            BOX,
        ),
        *feature_pair(
            "dnp_rate",
            1.0 - pl.col("dnp_apps") / pl.col("dnp_eligible"),
            pl.col("dnp_eligible") >= DNP_MIN_TEAM_GAMES,
            BOX,
        ),
        *feature_pair("points_slope_last_10", slope10, slope10_ok, BOX),
        *feature_pair("points_zscore_last_5", zscore, z_ok, derived_src),
        *feature_pair(
            "breakout_flag",
            ((zscore >= BREAKOUT_Z) & (avg5 >= season_mean + BREAKOUT_POINTS)).cast(pl.Float64),
            z_ok,
            derived_src,
        ),
        *feature_pair("points_avg_last_3", avg3, ok3, BOX),
        *feature_pair("scoring_slope_last_7", slope7, slope7_ok, BOX),
        *feature_pair("deviation_last_3_vs_60d", avg3 - mean60, ok3 & (n_window60 >= DEVIATION_MIN_GAMES), CALC),
        *feature_pair(
            "consecutive_games_below_avg", pl.col("below_streak"), pl.col("below_streak").is_not_null(), CALC
        ),
        *feature_pair("usage_rate_last_5", usage, usage_ok, BOX),
        *feature_pair("games_since_structural_change", since, n.is_not_null(), BOX),
        *_signal_feature_exprs(season_min, season_min_ok),
    ]


def _signal_feature_exprs(season_min: pl.Expr, season_min_ok: pl.Expr) -> list[pl.Expr]:
    """The signal features of this block (in no model set): config/features.yaml signal_features."""
    r = SIGNAL_RULES
    n = pl.col("n")
    season_src = pl.col("_season_src")
    season_ok = season_src.is_not_null()
    use_cur = pl.col("_cur_n") >= SEASON_MIN_GAMES

    def period(name: str) -> pl.Expr:  # the season-rule period's sum (current season, else the previous)
        return pl.when(use_cur).then(pl.col(f"s_{name}")).otherwise(pl.col(f"p_{name}"))

    games = pl.when(use_cur).then(pl.col("_cur_n")).otherwise(pl.col("p_n")).cast(pl.Float64)
    minutes = pl.when(use_cur).then(pl.col("s_min")).otherwise(pl.col("p_min"))
    fg3a, fg3m, k3 = period("fg3a_f"), period("fg3m_f"), period("k3").cast(pl.Float64)
    shots_ok = season_ok & (period("miss_3") == 0)
    p3, p3sq = period("p3"), period("p3sq")
    std3 = ((p3sq - p3 * p3 / k3).clip(lower_bound=0.0) / (k3 - 1)).sqrt()
    c3 = pl.min_horizontal(n, pl.lit(3)).cast(pl.Float64)
    fg3a_pg = fg3a / games
    reb36 = 36.0 * period("reb_f") / minutes
    big = (reb36 >= r.big_man.min_reb_per_36) & (fg3a_pg < r.big_man.max_fg3a_per_game)
    big_ok = shots_ok & season_min_ok & (period("miss_reb") == 0) & (minutes > 0)
    return [
        *feature_pair(
            "minutes_avg_last_3",
            pl.col("w3_min") / c3,
            (c3 >= r.minutes_last_3_min_games) & (pl.col("w3_miss_min") == 0),
            BOX,
        ),
        *feature_pair("minutes_avg_season", season_min, season_min_ok, season_src),
        *feature_pair("minutes_prev_game", pl.col("last_minutes"), pl.col("last_minutes").is_not_null(), BOX),
        *feature_pair(
            "starter_share_last_5",
            pl.col("w5_start") / pl.col("w5_start_known"),
            pl.col("w5_start_known") >= r.starter_share_min_games,
            BOX,
        ),
        *feature_pair("fg3a_per_game_season", fg3a_pg, shots_ok, season_src),
        *feature_pair("fg3_pct_season", fg3m / fg3a, shots_ok & (fg3a >= r.fg3_season_min_attempts), season_src),
        *feature_pair(
            "fg3_pct_last_3",
            pl.col("w3_fg3m") / pl.col("w3_fg3a"),
            (c3 >= r.fg3_last_3_min_games)
            & (pl.col("w3_miss_3") == 0)
            & (pl.col("w3_fg3a") >= r.fg3_last_3_min_attempts),
            BOX,
        ),
        *feature_pair("fg3_pct_std_season", std3, shots_ok & (k3 >= r.fg3_std_min_games), season_src),
        *feature_pair(
            "negative_plus_minus_streak", pl.col("neg_pm_streak"), pl.col("neg_pm_streak").is_not_null(), BOX
        ),
        *feature_pair("is_big_man", big.cast(pl.Float64), big_ok, season_src),
    ]
