"""Line selection per player: the line each prediction uses, market context and a diagnostic.

`build_player_lines` turns the ingest tables into `schemas.PLAYER_LINES`: one row per game and
player with a points line or expected to play (`expected_players`), for every date of a range in
one polars pass (no per-player or per-date Python loop).

How a row's line is chosen (all configurable in `config/lines.yaml`, see `LineConfig`):

1. **Usable snapshots**: captured strictly before the tip (the schedule's tip, else the earliest
   tip the snapshots state for the game), and at or before `as_of` when given. Rows of
   `at_tip_capture_sources` (DFS boards: a board lists only games that have not started) are
   also kept when captured exactly at the tip.
   **Pulled lines**: for each game and book, the book's newest usable snapshot of that game (of
   the points market) is found; a player it no longer lists has had his line pulled, and none of
   that book's rows are used for him, even if an older snapshot listed him. A snapshot in which
   the book does not list the game at all says nothing about its players.
2. **Main line per book and snapshot** (and market): a single row is the main line. Books of
   `ladder_books` publish alternate-line ladders: the main line is the rung whose de-vigged over
   probability is closest to 0.5 (ties -> the lower line); when no rung has both prices the
   median rung (the lower middle one for an even count). Any other book publishes one line per
   player and snapshot: several different lines in one of its snapshots are a duplicate, not a
   ladder; the same deterministic rule picks one and `line_diagnostics` counts them.
   Market type: `dfs` for a book of `dfs_books` or a row of `dfs_sources` (no real prices),
   else `sportsbook`; the chosen book's type is `market_type` (NULL without a chosen line).
3. **Sanity**: a main line of another market than `points_market`, or outside
   [min_line, max_line], is rejected. Rejected book-snapshots are excluded before choosing.
4. **Per book**: its newest sane snapshot gives the book's line (and prices); its earliest sane
   snapshot its opening line.
5. **Chosen book**: the first of `book_priority` with a line, then any other book alphabetically.
   `n_books` = books with a sane line, `consensus_line` = their median, `multi_book_line_std` =
   their sample standard deviation (ddof=1; NULL under 2 books). `opening_line` = the chosen
   book's opening line (its own line when it has no earlier snapshot), `line_move` = line - opening.
6. **prop_line_delta**: consensus minus the consensus of the player's most recent earlier date
   (within `lookback_days`) with a sane line - raw lines only, never a model's output.
7. **Diagnostic**: LINE_SOURCE (detail = the book), LINE_SANITY_REJECT when the player has lines
   but no sane one (detail = reason and book, `rejected_line` = the value of the highest-priority
   book's newest rejected line, points market first; `line` NULL), NO_PROP_LINE otherwise.
   `n_books` is 0 when no book has a sane line; every other missing value is NULL.

Implied probability from American odds: -a -> a / (a + 100), +a -> 100 / (a + 100) (|a| < 100
is not a valid American price: NULL); de-vigged over probability = p_over / (p_over + p_under).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from nba_props.lib import schemas
from nba_props.lib.asof import join_strictly_before
from nba_props.lib.config_files import CONFIG_DIR, load_config
from nba_props.lib.expected_players import PLAYER_GAME, expected_players_lazy

DEFAULT_CONFIG_PATH = CONFIG_DIR / "lines.yaml"

LINE_SOURCE, NO_PROP_LINE, LINE_SANITY_REJECT = schemas.LINE_DIAGNOSTICS
MARKET_SPORTSBOOK, MARKET_DFS = schemas.MARKET_TYPES
NOT_POINTS_MARKET, LINE_BELOW_MIN, LINE_ABOVE_MAX = "not_points_market", "line_below_min", "line_above_max"
SNAPSHOT_GROUP = [*PLAYER_GAME, "bookmaker", "captured_at", "market"]
_DISTANCE_DECIMALS = 9  # |p - 0.5| rounded so that mirror-image rungs tie exactly (-> lower line)


class SanityBand(BaseModel):
    """A main line outside [min_line, max_line] is not a usable points line."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_line: float = Field(default=5.0, ge=0.0)
    max_line: float = Field(default=70.0, gt=0.0)

    @model_validator(mode="after")
    def _ordered(self) -> SanityBand:
        if self.min_line >= self.max_line:
            raise ValueError(f"sanity.min_line ({self.min_line}) must be below max_line ({self.max_line})")
        return self


class LineConfig(BaseModel):
    """Line-selection settings; the defaults are those of the packaged `config/lines.yaml`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    book_priority: tuple[str, ...] = ("draftkings", "fanduel", "betmgm", "williamhill_us")
    points_market: str = "player_points"
    sanity: SanityBand = SanityBand()
    ingest_range: SanityBand = SanityBand(min_line=0.5, max_line=80.0)
    lookback_days: int = Field(default=30, ge=1, le=365)
    appearance_window_days: int = Field(default=30, ge=1, le=365)
    team_lookback_days: int = Field(default=400, ge=1, le=730)
    at_tip_capture_sources: tuple[str, ...] = ("dfs",)
    ladder_books: tuple[str, ...] = ("bovada", "betrivers")
    dfs_books: tuple[str, ...] = ("prizepicks", "underdog", "pick6", "sleeper")
    dfs_sources: tuple[str, ...] = ("dfs",)

    @property
    def sanity_min(self) -> float:
        """Shorthand for `sanity.min_line` (the asset's sanity-band check uses it)."""
        return self.sanity.min_line

    @property
    def sanity_max(self) -> float:
        """Shorthand for `sanity.max_line`."""
        return self.sanity.max_line

    @model_validator(mode="after")
    def _lookback_covers_window(self) -> LineConfig:
        if self.team_lookback_days < self.appearance_window_days:
            raise ValueError(
                f"team_lookback_days ({self.team_lookback_days}) must be >= appearance_window_days "
                f"({self.appearance_window_days})"
            )
        return self

    @property
    def box_history_days(self) -> int:
        """Days of box scores before a target date that `build_player_lines` reads."""
        return max(self.appearance_window_days, self.team_lookback_days)

    @field_validator("book_priority", "ladder_books", "dfs_books")
    @classmethod
    def _books(cls, books: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        cleaned = tuple(b.strip().lower() for b in books)
        if any(not b for b in cleaned):
            raise ValueError(f"{info.field_name} has an empty book name")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError(f"{info.field_name} lists a book twice: {list(cleaned)}")
        return cleaned

    @field_validator("points_market")
    @classmethod
    def _market(cls, market: str) -> str:
        if not market.strip():
            raise ValueError("points_market is empty")
        return market.strip()


def load_line_config(path: str | Path | None = None) -> LineConfig:
    """Read and validate a lines YAML (default: the packaged `nba_props/config/lines.yaml`)."""
    return load_config(LineConfig, path if path is not None else DEFAULT_CONFIG_PATH)


# ---------------------------------------------------------------------------------------------
# odds


def implied_prob(price: pl.Expr) -> pl.Expr:
    """American odds -> implied probability (with the vig); NULL for a missing or invalid price."""
    p = price.cast(pl.Float64)
    return pl.when(p <= -100).then(-p / (100.0 - p)).when(p >= 100).then(100.0 / (p + 100.0))


def devig_over_prob(over_price: pl.Expr, under_price: pl.Expr) -> pl.Expr:
    """De-vigged over probability p_over / (p_over + p_under); NULL unless both prices are valid."""
    over, under = implied_prob(over_price), implied_prob(under_price)
    return over / (over + under)


# ---------------------------------------------------------------------------------------------
# line selection


def _priority(config: LineConfig) -> pl.Expr:
    ranks = {book: i for i, book in enumerate(config.book_priority)}
    return pl.col("bookmaker").replace_strict(ranks, default=len(ranks), return_dtype=pl.Int32)


def usable_snapshots(
    snapshots: pl.LazyFrame, schedule: pl.LazyFrame, config: LineConfig, as_of: datetime | None
) -> pl.LazyFrame:
    """Snapshot rows a prediction could have seen: before the tip and not after `as_of`."""
    tips = (
        schedule.filter(pl.col("game_id").is_not_null())
        .sort("game_id", "tip_time_utc", nulls_last=True)
        .unique("game_id", keep="first", maintain_order=True)
        .select("game_id", _sched_tip="tip_time_utc")
    )
    captured, tip = pl.col("captured_at"), pl.col("_tip")
    before_tip = (captured < tip) | ((captured == tip) & pl.col("source").is_in(config.at_tip_capture_sources))
    keep = pl.all_horizontal(
        pl.col(c).is_not_null() for c in (*PLAYER_GAME, "bookmaker", "line", "captured_at")
    ) & pl.when(tip.is_null()).then(True).otherwise(before_tip.fill_null(False))
    if as_of is not None:
        keep = keep & (captured <= as_of)
    return (
        snapshots.join(tips, on="game_id", how="left")
        .with_columns(_tip=pl.coalesce("_sched_tip", "tip_time_utc"))
        .filter(keep)
        .drop("_sched_tip")
    )


def market_type(config: LineConfig) -> pl.Expr:
    """`dfs` for a DFS book or source (no real prices), else `sportsbook`."""
    is_dfs = pl.col("bookmaker").is_in(config.dfs_books) | pl.col("source").is_in(config.dfs_sources).fill_null(False)
    return pl.when(is_dfs).then(pl.lit(MARKET_DFS)).otherwise(pl.lit(MARKET_SPORTSBOOK))


def split_pulled(
    snaps: pl.DataFrame, config: LineConfig, players: pl.Series | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows still listed, pulled keys): a (game, player, book) whose newest points-market row is
    older than the book's newest points-market snapshot of that game was pulled; all its rows go.
    `pulled` has one row per pulled key with `pulled_at` (the snapshot that no longer lists him).
    With `players`, both are of those players only (the book's newest snapshot still from every row)."""
    points = snaps.filter(pl.col("market") == config.points_market)
    # every player's rows: the book's newest snapshot of a game may list only other players
    book_newest = points.group_by("game_id", "bookmaker").agg(pulled_at=pl.col("captured_at").max())
    if players is not None:
        theirs = pl.col("player_lookup").is_in(players.implode())
        snaps, points = snaps.filter(theirs), points.filter(theirs)
    pulled = (
        points.group_by([*PLAYER_GAME, "bookmaker"])
        .agg(_listed_at=pl.col("captured_at").max())
        .join(book_newest, on=["game_id", "bookmaker"], how="inner")
        .filter(pl.col("_listed_at") < pl.col("pulled_at"))
        .drop("_listed_at")
        .sort([*PLAYER_GAME, "bookmaker"])
    )
    return snaps.join(pulled, on=[*PLAYER_GAME, "bookmaker"], how="anti"), pulled


def main_lines(snaps: pl.LazyFrame, config: LineConfig) -> pl.LazyFrame:
    """One row per (game, player, book, snapshot, market): the main line, with `_reject` (NULL = sane),
    `_n_lines` (distinct lines of the group), `_ladder` (a ladder book) and `_market_type`."""
    g = SNAPSHOT_GROUP
    fair = pl.col("_fair")
    n_priced, rung, n = fair.is_not_null().sum().over(g), pl.col("line").rank("ordinal").over(g), pl.len().over(g)
    median_rung = (n - 1) // 2 + 1
    score = (
        pl.when(n_priced > 0)
        .then(pl.when(fair.is_not_null()).then((fair - 0.5).abs().round(_DISTANCE_DECIMALS)).otherwise(float("inf")))
        .otherwise(pl.when(rung == median_rung).then(0.0).otherwise(1.0))
    )
    band = config.sanity
    market = pl.col("market")
    reject = (
        pl.when(market.is_null() | (market != config.points_market))
        .then(pl.lit(NOT_POINTS_MARKET))
        .when(pl.col("line") < band.min_line)
        .then(pl.lit(LINE_BELOW_MIN))
        .when(pl.col("line") > band.max_line)
        .then(pl.lit(LINE_ABOVE_MAX))
    )
    return (
        snaps.with_columns(
            _fair=devig_over_prob(pl.col("over_price"), pl.col("under_price")),
            _n_lines=pl.col("line").n_unique().over(g).cast(pl.Int32),
        )
        .with_columns(_score=score)
        .sort([*g, "_score", "line"], nulls_last=True)
        .unique(g, keep="first", maintain_order=True)
        .with_columns(
            _reject=reject,
            _prio=_priority(config),
            _ladder=pl.col("bookmaker").is_in(config.ladder_books),
            _market_type=market_type(config),
        )
    )


def _chosen_lines(mains: pl.LazyFrame) -> pl.LazyFrame:
    """Per game and player with a sane main line: the chosen book's line and the market context."""
    sane = mains.filter(pl.col("_reject").is_null())
    books = sane.group_by([*PLAYER_GAME, "bookmaker"]).agg(
        pl.col("_prio").first(),
        *(
            pl.col(src).sort_by("captured_at").last().alias(dst)
            for src, dst in (
                ("line", "line"),
                ("over_price", "over_price"),
                ("under_price", "under_price"),
                ("_fair", "implied_over_prob"),
                ("captured_at", "line_captured_at"),
                ("_market_type", "market_type"),
            )
        ),
        opening_line=pl.col("line").sort_by("captured_at").first(),
    )
    chosen = (
        books.sort([*PLAYER_GAME, "_prio", "bookmaker"])
        .unique(PLAYER_GAME, keep="first", maintain_order=True)
        .select(pl.exclude("_prio"), line_book="bookmaker")
        .drop("bookmaker")
    )
    stats = books.group_by(PLAYER_GAME).agg(
        n_books=pl.len().cast(pl.Int32),
        # rounded: polars sums a group's values in no fixed order (sorting first does not hold in
        # its plan), which moves the last bit from run to run; a re-run of a date must give the
        # same rows, and 12 decimals of a line's spread are far below any book's precision
        multi_book_line_std=pl.when(pl.len() >= 2).then(pl.col("line").std(ddof=1).round(12)),
        consensus_line=pl.col("line").median(),
    )
    return chosen.join(stats, on=PLAYER_GAME, how="inner").with_columns(
        line_move=pl.col("line") - pl.col("opening_line"),
        line_diagnostic=pl.lit(LINE_SOURCE),
        diagnostic_detail=pl.col("line_book"),
    )


def _rejected_lines(mains: pl.LazyFrame, chosen: pl.LazyFrame, config: LineConfig) -> pl.LazyFrame:
    """Per game and player with lines but no sane one: the rejected value and why."""
    return (
        mains.join(chosen.select(PLAYER_GAME), on=PLAYER_GAME, how="anti")
        .with_columns(_other_market=pl.col("market").fill_null("") != config.points_market)
        .sort([*PLAYER_GAME, "_other_market", "_prio", "bookmaker", "captured_at"], descending=[False] * 6 + [True])
        .unique(PLAYER_GAME, keep="first", maintain_order=True)
        .select(
            *PLAYER_GAME,
            rejected_line=pl.col("line"),
            n_books=pl.lit(0, dtype=pl.Int32),
            line_diagnostic=pl.lit(LINE_SANITY_REJECT),
            diagnostic_detail=pl.format("{} ({})", pl.col("_reject"), pl.col("bookmaker")),
        )
    )


def _with_prop_line_delta(lines: pl.LazyFrame, lookback_days: int) -> pl.LazyFrame:
    """consensus minus the player's consensus on his most recent earlier line date within lookback."""
    history = (
        lines.filter(pl.col("consensus_line").is_not_null())
        .group_by("player_lookup", "game_date")
        .agg(_prev_consensus=pl.col("consensus_line").sort_by("game_id").first())
        .rename({"game_date": "_prev_date"})
    )
    return (
        join_strictly_before(lines, history, left_on="game_date", right_on="_prev_date", by="player_lookup")
        .with_columns(
            prop_line_delta=pl.when(
                pl.col("_prev_date") >= pl.col("game_date").dt.offset_by(f"-{lookback_days}d")
            ).then(pl.col("consensus_line") - pl.col("_prev_consensus"))
        )
        .drop("_prev_date", "_prev_consensus")
    )


def select_lines_lazy(
    snapshots: pl.LazyFrame, schedule: pl.LazyFrame, config: LineConfig, as_of: datetime | None = None
) -> pl.LazyFrame:
    """Per (game_date, game_id, player_lookup) with any usable snapshot row, every date of `snapshots`:
    the line columns of PLAYER_LINES plus `player_name`, `away_team`, `home_team`, `tip_time_utc`."""
    return _select_lines(snapshots, schedule, config, as_of)[0]


def _select_lines(
    snapshots: pl.LazyFrame,
    schedule: pl.LazyFrame,
    config: LineConfig,
    as_of: datetime | None,
    dates: tuple[date, date] | None = None,
) -> tuple[pl.LazyFrame, dict[str, pl.DataFrame]]:
    """`select_lines_lazy` plus the intermediates its diagnostics count (`pulled`, `mains`).

    With `dates` (first, last), only what the rows of those dates need: every row of theirs, and
    their players' rows of other dates (prop_line_delta reads a player's earlier consensus). Every
    step after the pulled cut is per player (per game and player, book or snapshot), so other
    players' rows cannot change these; dropping them spares a one-date run most of its history."""
    # Shared intermediates are materialised once: a lazy plan with these diamonds recomputes them.
    usable = usable_snapshots(snapshots, schedule, config, as_of).collect()
    players = None
    if dates is not None:
        players = usable.filter(pl.col("game_date").is_between(*dates)).get_column("player_lookup").unique()
    listed, pulled = split_pulled(usable, config, players)
    snaps = listed.lazy()
    mains_df = main_lines(snaps, config).collect()
    mains = mains_df.lazy()
    chosen = _chosen_lines(mains).collect().lazy()
    lines = pl.concat([chosen, _rejected_lines(mains, chosen, config)], how="diagonal_relaxed")
    games = (
        snaps.sort([*PLAYER_GAME, "captured_at"])
        .group_by(PLAYER_GAME)
        .agg(
            player_name=pl.col("player_name").drop_nulls().last(),
            away_team=pl.col("away_team").drop_nulls().last(),
            home_team=pl.col("home_team").drop_nulls().last(),
            tip_time_utc=pl.col("_tip").drop_nulls().last(),
        )
    )
    out = _with_prop_line_delta(lines, config.lookback_days).join(games, on=PLAYER_GAME, how="left")
    return out, {"pulled": pulled, "mains": mains_df}


def _with_snapshot_tips(schedule: pl.LazyFrame, snapshots: pl.LazyFrame) -> pl.LazyFrame:
    """A schedule without a tip time (nba_api team rows carry none) takes the earliest tip the
    snapshots state for the game: the conservative bound for "captured before the tip"."""
    tips = (
        snapshots.filter(pl.col("game_id").is_not_null() & pl.col("tip_time_utc").is_not_null())
        .group_by("game_id")
        .agg(_snap_tip=pl.col("tip_time_utc").min())
    )
    return (
        schedule.join(tips, on="game_id", how="left")
        .with_columns(tip_time_utc=pl.coalesce("tip_time_utc", "_snap_tip"))
        .drop("_snap_tip")
    )


def _check_inputs(start: date, end: date, as_of: datetime | None) -> None:
    if isinstance(start, datetime) or isinstance(end, datetime):
        raise TypeError("start and end are game dates (datetime.date), not datetimes")
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    if as_of is not None and as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC)")


def build_player_lines(
    snapshots: pl.DataFrame,
    schedule: pl.DataFrame,
    box_history: pl.DataFrame,
    injuries: pl.DataFrame,
    *,
    start: date,
    end: date,
    config: LineConfig | None = None,
    as_of: datetime | None = None,
) -> pl.DataFrame:
    """`schemas.PLAYER_LINES` rows for every game date of [start, end] (see
    `build_player_lines_with_diagnostics`, which also returns the selection's counts)."""
    return build_player_lines_with_diagnostics(
        snapshots, schedule, box_history, injuries, start=start, end=end, config=config, as_of=as_of
    )[0]


def line_diagnostics(intermediates: dict[str, pl.DataFrame], rows: pl.DataFrame, start: date, end: date) -> dict:
    """Counts of what line selection did on the dates [start, end] (JSON-ready):
    `ladder_snapshots` (a ladder book's snapshot with 2+ rungs for a player),
    `duplicate_line_snapshots` (a non-ladder book's snapshot with 2+ different lines for a
    player: one picked deterministically, by book), `pulled_lines` (game, player, book keys
    dropped because the book's newest snapshot of the game no longer lists the player, by book),
    `pulled_without_other_line` (of those, players left with no line at all) and
    `chosen_market_types` (rows by market type of the chosen line)."""

    def span(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("game_date").is_between(start, end))

    mains = span(intermediates["mains"]).filter(pl.col("_n_lines") >= 2)
    pulled = span(intermediates["pulled"])
    lined = rows.filter(pl.col("line").is_not_null()).select(PLAYER_GAME)

    def by_book(frame: pl.DataFrame) -> dict[str, int]:
        return dict(sorted(frame.group_by("bookmaker").len().iter_rows()))

    return {
        "ladder_snapshots": mains.filter(pl.col("_ladder")).height,
        "duplicate_line_snapshots": by_book(mains.filter(~pl.col("_ladder"))),
        "pulled_lines": by_book(pulled),
        "pulled_without_other_line": pulled.select(PLAYER_GAME).unique().join(lined, on=PLAYER_GAME, how="anti").height,
        "chosen_market_types": dict(
            sorted(rows.filter(pl.col("market_type").is_not_null()).group_by("market_type").len().iter_rows())
        ),
    }


def build_player_lines_with_diagnostics(
    snapshots: pl.DataFrame,
    schedule: pl.DataFrame,
    box_history: pl.DataFrame,
    injuries: pl.DataFrame,
    *,
    start: date,
    end: date,
    config: LineConfig | None = None,
    as_of: datetime | None = None,
) -> tuple[pl.DataFrame, dict]:
    """(`schemas.PLAYER_LINES` rows for every game date of [start, end], `line_diagnostics`).

    Inputs are in the ingest schemas (missing columns are read as NULL): `snapshots` covering
    [start - lookback_days, end], `schedule` and `injuries` covering [start, end], `box_history`
    covering [start - config.box_history_days, end] (rows dated on or after a target date are
    ignored for it). Sorted by (game_date, game_id, player_lookup); that key is unique.
    """
    _check_inputs(start, end, as_of)
    config = config or load_line_config()
    snaps = schemas.conform(snapshots, schemas.PROP_LINE_SNAPSHOTS).lazy()
    sched = schemas.conform(schedule, schemas.SCHEDULE).lazy()
    box = schemas.conform(box_history, schemas.BOX_SCORES).lazy()
    report = schemas.conform(injuries, schemas.INJURY_REPORT).lazy()
    sched = _with_snapshot_tips(sched, snaps)

    lines, intermediates = _select_lines(snaps, sched, config, as_of, dates=(start, end))
    lines = lines.filter(pl.col("game_date").is_between(start, end)).collect().lazy()
    expected = expected_players_lazy(
        sched, box, report, lines, start=start, end=end, window_days=config.appearance_window_days,
        team_lookback_days=config.team_lookback_days, as_of=as_of,
    )  # fmt: skip
    line_columns = [c for c in schemas.PLAYER_LINES.names() if c not in expected.collect_schema().names()]
    out = (
        expected.join(lines.select(*PLAYER_GAME, *line_columns), on=PLAYER_GAME, how="left")
        .with_columns(
            line_diagnostic=pl.col("line_diagnostic").fill_null(pl.lit(NO_PROP_LINE)),
            n_books=pl.col("n_books").fill_null(0),
        )
        .sort(PLAYER_GAME)
        .collect()
    )
    out = schemas.conform(out, schemas.PLAYER_LINES)
    return out, line_diagnostics(intermediates, out, start, end)
