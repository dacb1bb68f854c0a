"""The published-picks ledger (`published_picks`) and the grading of its picks (`pick_accuracy`):
pure polars, no dagster.

**The ledger** is the platform's only append-only table: one row per (game_id, player_lookup)
ever shown as a best bet of its game date. `merge(existing, best_bets, now=..., run_id=...)`
takes the ledger rows already stored for the run's dates and that run's `best_bets` rows
(one row per candidate, `selected` marking the picks) and returns the new ledger rows of those
dates. Its rules, with "the game has started" meaning `now >= tip_time_utc` (a tip time that is
unknown counts as the end of the game date, midnight America/New_York):

- a SELECTED pick not in the ledger is appended: status `published`, `published_at` = now,
  `run_id` = the run. Exception: when its game has started AND the date already has ledger
  rows (any status: the date was published before), the addition is status `late`: recorded,
  never counted (a pick nobody could bet). The date's FIRST publication counts even after the
  games: a first-time backfill builds the history (what the rules would have shown).
- a `published` pick no longer selected: before its tip -> `withdrawn` with `withdrawn_at` = now
  and `withdrawn_reason` (the health gate and its reason; else the best_bets row's `rejected_by`;
  else "no longer a candidate (...)" when best_bets has no row for it at all (the line or the
  prediction moved below the recommendation, or the source model stopped predicting);
  else "not selected (cap or ranking)"). After its tip it stays `published` (a bettor saw it):
  the refusal is counted (`refused_after_tip`), nothing else changes.
- a `withdrawn` pick selected again before its tip is `published` again (its withdrawn_at /
  withdrawn_reason cleared; the original published fields and published_at kept). After the
  tip it stays withdrawn.
- a `late` row stays `late`.
- the published fields (`PUBLISHED_FIELDS`: the line, edge, direction, model, price, rank, angles,
  signals, ... and published_at / run_id) are never rewritten, and no row is ever deleted: a
  pick selected again with another model / line keeps what was published (`reselected_changed`).

`violations(before, after)` is the invariant the asset checks (blocking) before anything is
written: every key read is still there, no published field changed, only the allowed status
moves (published <-> withdrawn, late stays late).

**pick_accuracy** (`grade_picks`): every ledger row of the date graded by `lib.grading`'s rules
against the PUBLISHED line and direction, with the game's facts (actual points, game status,
box scores in) from `prediction_accuracy`: the source model's own row (`graded_from` = "model"),
else another model's row of the same player-game (`"player_game"`: the source model's predictions
are gone), else pending. Profit per unit at the published price (`grading.profit_expr`), the
health config's `default_price` (-110) where the pick has none (`default_priced`). Only
`published` picks are `counted`; withdrawn and late ones are graded but never counted.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import polars as pl

from nba_props import seasons
from nba_props.lib.grading import LOSS, PUSH, VOID, WIN, profit_expr, result_expr

PUBLISHED, WITHDRAWN, LATE = "published", "withdrawn", "late"
STATUSES = (PUBLISHED, WITHDRAWN, LATE)
KEY = ("game_id", "player_lookup")
UTC_US = pl.Datetime("us", "UTC")

REASON_MISSING = (
    "no longer a candidate (no recommended, lined prediction for the player-game now: the line or the prediction "
    "moved, or its model stopped predicting)"
)
REASON_NOT_SELECTED = "not selected (cap or ranking)"
REASON_GATE = "health gate"
REASON_FILTER = "filter"

# ----------------------------------------------------------------------------- tables

# What the ledger reads of best_bets (the shared contract's columns; best_bets has more)
BEST_BETS_CONTRACT = pl.Schema(
    {
        "game_date": pl.Date,
        "game_id": pl.Utf8,
        "player_lookup": pl.Utf8,
        "player_name": pl.Utf8,
        "team": pl.Utf8,
        "opponent": pl.Utf8,
        "tip_time_utc": UTC_US,
        "model_id": pl.Utf8,
        "family": pl.Utf8,
        "predicted_points": pl.Float64,
        "line": pl.Float64,
        "price": pl.Int32,
        "edge": pl.Float64,
        "direction": pl.Utf8,
        "signals": pl.List(pl.Utf8),
        "health_gate_active": pl.Boolean,
        "health_gate_reason": pl.Utf8,
        "selected": pl.Boolean,
        "rejected_by": pl.Utf8,
        "rank": pl.Int64,
        "ultra": pl.Boolean,
        "angles": pl.List(pl.Utf8),
    }
)

LEDGER_SCHEMA = pl.Schema(
    {
        "game_date": pl.Date,
        "game_id": pl.Utf8,
        "player_lookup": pl.Utf8,
        "player_name": pl.Utf8,
        "team": pl.Utf8,
        "opponent": pl.Utf8,
        "tip_time_utc": UTC_US,
        "model_id": pl.Utf8,
        "family": pl.Utf8,
        "direction": pl.Utf8,
        "line": pl.Float64,
        "edge": pl.Float64,
        "predicted_points": pl.Float64,
        "price": pl.Int32,
        "rank": pl.Int64,
        "ultra": pl.Boolean,
        "angles": pl.List(pl.Utf8),
        "signals": pl.List(pl.Utf8),
        "status": pl.Utf8,
        "published_at": UTC_US,
        "withdrawn_at": UTC_US,
        "withdrawn_reason": pl.Utf8,
        "run_id": pl.Utf8,
    }
)
LEDGER_KEY = KEY
# never rewritten once a row exists (status / withdrawn_at / withdrawn_reason are the only moving parts)
PUBLISHED_FIELDS = tuple(c for c in LEDGER_SCHEMA.names() if c not in ("status", "withdrawn_at", "withdrawn_reason"))
PICKED_FIELDS = tuple(c for c in LEDGER_SCHEMA.names() if c in BEST_BETS_CONTRACT.names())

LEDGER_DOC = {
    "game_date": "Game date (America/New_York): the partition key.",
    "game_id": "Canonical game id of the pick.",
    "player_lookup": "Normalized player name; with game_id the ledger's key (one pick per player-game).",
    "player_name": "Display name as published.",
    "team": "The player's team as published.",
    "opponent": "The opponent as published.",
    "tip_time_utc": "The game's scheduled tip (UTC) as known at publication: after it a pick can no longer be "
    "withdrawn and a new one is late. NULL: unknown (the end of the game date counts).",
    "model_id": "The source model of the published pick (never rewritten).",
    "family": "The source model's family.",
    "direction": "OVER / UNDER as published (never rewritten).",
    "line": "The line as published (never rewritten).",
    "edge": "The edge as published (never rewritten).",
    "predicted_points": "The source model's predicted points as published.",
    "price": "American price of the published side; NULL on DFS lines (grading then assumes the default price).",
    "rank": "The pick's rank among the date's selected picks at publication (1 = largest edge).",
    "ultra": "The pick was in the ultra tier at publication.",
    "angles": "The pick angles as published (<= 5, ordered).",
    "signals": "The active signals of the pick at publication.",
    "status": "published (shown and counted) / withdrawn (taken back before its tip) / late (added after its tip "
    "to a date already published: recorded, never counted).",
    "published_at": "When the pick was first recorded (the platform clock: the replay's simulated time, else the "
    "wall clock). Kept when a withdrawn pick is published again.",
    "withdrawn_at": "When the pick was withdrawn (NULL unless status withdrawn).",
    "withdrawn_reason": "Why (NULL unless withdrawn): 'health gate: ...', 'filter: <name>', '" + REASON_MISSING + "' "
    "or '" + REASON_NOT_SELECTED + "'.",
    "run_id": "The Dagster run that first recorded the pick.",
}

PICK_ACCURACY_SCHEMA = pl.Schema(
    {
        "game_date": pl.Date,
        "game_id": pl.Utf8,
        "player_lookup": pl.Utf8,
        "player_name": pl.Utf8,
        "model_id": pl.Utf8,
        "family": pl.Utf8,
        "direction": pl.Utf8,
        "line": pl.Float64,
        "edge": pl.Float64,
        "rank": pl.Int64,
        "ultra": pl.Boolean,
        "status": pl.Utf8,
        "counted": pl.Boolean,
        "actual_points": pl.Float64,
        "game_status": pl.Utf8,
        "result": pl.Utf8,
        "void_reason": pl.Utf8,
        "graded_from": pl.Utf8,
        "price": pl.Int32,
        "default_priced": pl.Boolean,
        "profit": pl.Float64,
    }
)
PICK_ACCURACY_KEY = KEY


def pick_accuracy_doc(default_price: int) -> dict[str, str]:
    return {
        "game_date": "Game date (America/New_York): the partition key.",
        "game_id": "Canonical game id of the pick.",
        "player_lookup": "Normalized player name; with game_id the key (one ledger pick per player-game).",
        "player_name": "Display name as published.",
        "model_id": "The published pick's source model.",
        "family": "The source model's family.",
        "direction": "OVER / UNDER as published: the side graded.",
        "line": "The published line: the line graded (never a later one).",
        "edge": "The published edge.",
        "rank": "The published rank.",
        "ultra": "The pick was ultra at publication.",
        "status": "The ledger status: published / withdrawn / late.",
        "counted": "status = published: only those count in records, hit rates and ROI.",
        "actual_points": "Points scored; NULL while pending, on a VOID or without a graded row.",
        "game_status": "Schedule status of the game (from prediction_accuracy); NULL without a row.",
        "result": "WIN / LOSS / PUSH / VOID of the published line and side (lib.grading rules); NULL = pending.",
        "void_reason": "DNP / POSTPONED / CANCELLED; NULL unless VOID.",
        "graded_from": "model (the source model's prediction_accuracy row) / player_game (another model's row of the "
        "same player-game: the source model's predictions are gone) / NULL (no row yet: pending).",
        "price": f"The published American price; {default_price} where the pick had none (default_priced).",
        "default_priced": f"The pick had no real price (DFS): profit assumes {default_price}.",
        "profit": "Profit of 1 unit at price (WIN: payout, LOSS: -1); NULL on PUSH / VOID / pending.",
    }


# ----------------------------------------------------------------------------- the merge


def _null_tip(day: pl.Expr) -> pl.Expr:
    """The end of a game date (midnight America/New_York after it), in UTC: an unknown tip."""
    return (
        (day.cast(pl.Datetime("us")) + pl.duration(days=1))
        .dt.replace_time_zone(seasons.GAME_TZ.key)
        .dt.convert_time_zone("UTC")
    )


def effective_tip(tip: pl.Expr, day: pl.Expr) -> pl.Expr:
    return pl.coalesce(tip.cast(UTC_US), _null_tip(day))


def _conform(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    missing = [c for c in schema.names() if c not in frame.columns]
    if missing:
        raise KeyError(f"missing columns {missing}")
    return frame.select(pl.col(c).cast(t) for c, t in schema.items())


def _reason() -> pl.Expr:
    """Why a published pick is no longer selected (columns of the joined best_bets row, `_bb` set
    when best_bets has a row for the key)."""
    return (
        pl.when(~pl.col("_bb"))
        .then(pl.lit(REASON_MISSING))
        .when(pl.col("health_gate_active").fill_null(False))
        .then(pl.concat_str(pl.lit(REASON_GATE + ": "), pl.col("health_gate_reason").fill_null("active")))
        .when(pl.col("rejected_by").is_not_null())
        .then(pl.concat_str(pl.lit(REASON_FILTER + ": "), pl.col("rejected_by")))
        .otherwise(pl.lit(REASON_NOT_SELECTED))
    )


def merge(
    existing: pl.DataFrame,
    best_bets: pl.DataFrame,
    *,
    now: datetime,
    run_id: str,
    start: date,
    end: date,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the ledger rows of [start, end] after this run, one event row per key that moved).

    `existing`: the stored ledger rows of [start, end]; `best_bets`: that run's best_bets rows
    (only [start, end] used). Events (game_date, game_id, player_lookup, event): added, late,
    withdrawn, republished, refused_after_tip, reselected_after_tip, reselected_changed."""
    now_value = pl.lit(now).cast(UTC_US)
    old = _conform(existing, LEDGER_SCHEMA).filter(pl.col("game_date").is_between(start, end))
    bb = _conform(best_bets, BEST_BETS_CONTRACT).filter(pl.col("game_date").is_between(start, end))
    published_dates = old.select(pl.col("game_date").unique())

    # keys already in the ledger, with this run's best_bets row (if any) beside them
    bb_side = bb.select(
        *KEY,
        _bb=pl.lit(True),
        _selected=pl.col("selected").fill_null(False),
        health_gate_active=pl.col("health_gate_active"),
        health_gate_reason=pl.col("health_gate_reason"),
        rejected_by=pl.col("rejected_by"),
        _bb_model=pl.col("model_id"),
        _bb_direction=pl.col("direction"),
        _bb_line=pl.col("line"),
    )
    kept = old.join(bb_side, on=list(KEY), how="left").with_columns(
        _bb=pl.col("_bb").fill_null(False), _selected=pl.col("_selected").fill_null(False)
    )
    started = now_value >= effective_tip(pl.col("tip_time_utc"), pl.col("game_date"))
    status = pl.col("status")
    withdraw = (status == PUBLISHED) & ~pl.col("_selected") & ~started
    refuse = (status == PUBLISHED) & ~pl.col("_selected") & started
    republish = (status == WITHDRAWN) & pl.col("_selected") & ~started
    reselected_late = (status == WITHDRAWN) & pl.col("_selected") & started
    changed = pl.col("_selected") & (
        pl.col("_bb_model").ne_missing(pl.col("model_id"))
        | pl.col("_bb_direction").ne_missing(pl.col("direction"))
        | pl.col("_bb_line").ne_missing(pl.col("line"))
    )
    kept = kept.with_columns(
        _event=pl.when(withdraw)
        .then(pl.lit("withdrawn"))
        .when(refuse)
        .then(pl.lit("refused_after_tip"))
        .when(republish)
        .then(pl.lit("republished"))
        .when(reselected_late)
        .then(pl.lit("reselected_after_tip"))
        .when(changed)
        .then(pl.lit("reselected_changed")),
        status=pl.when(withdraw).then(pl.lit(WITHDRAWN)).when(republish).then(pl.lit(PUBLISHED)).otherwise(status),
        withdrawn_at=pl.when(withdraw)
        .then(now_value)
        .when(republish)
        .then(pl.lit(None, dtype=UTC_US))
        .otherwise(pl.col("withdrawn_at")),
        withdrawn_reason=pl.when(withdraw)
        .then(_reason())
        .when(republish)
        .then(pl.lit(None, dtype=pl.Utf8))
        .otherwise(pl.col("withdrawn_reason")),
    )

    # selected picks not in the ledger yet
    new = (
        bb.filter(pl.col("selected").fill_null(False))
        .join(old.select(KEY), on=list(KEY), how="anti")
        .join(published_dates.with_columns(_dated=pl.lit(True)), on="game_date", how="left")
    )
    late = pl.col("_dated").fill_null(False) & (now_value >= effective_tip(pl.col("tip_time_utc"), pl.col("game_date")))
    new = new.with_columns(
        status=pl.when(late).then(pl.lit(LATE)).otherwise(pl.lit(PUBLISHED)),
        published_at=now_value,
        withdrawn_at=pl.lit(None, dtype=UTC_US),
        withdrawn_reason=pl.lit(None, dtype=pl.Utf8),
        run_id=pl.lit(run_id, dtype=pl.Utf8),
    ).with_columns(_event=pl.when(pl.col("status") == LATE).then(pl.lit("late")).otherwise(pl.lit("added")))

    columns = [pl.col(c).cast(t) for c, t in LEDGER_SCHEMA.items()]
    merged = pl.concat([kept.select(*columns, "_event"), new.select(*columns, "_event")])
    events = merged.filter(pl.col("_event").is_not_null()).select("game_date", *KEY, event=pl.col("_event"))
    rows = merged.drop("_event").sort("game_date", pl.col("rank"), *KEY, nulls_last=True)
    return rows, events.sort("game_date", *KEY)


# ----------------------------------------------------------------------------- the invariant

ALLOWED_MOVES = {
    (PUBLISHED, PUBLISHED),
    (PUBLISHED, WITHDRAWN),
    (WITHDRAWN, WITHDRAWN),
    (WITHDRAWN, PUBLISHED),
    (LATE, LATE),
}


def violations(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """The ledger's invariant between the rows read (`before`) and the rows about to be written
    (`after`): one row per offending key (game_date, game_id, player_lookup, violation). A key
    read and not written ("key lost"), a published field that differs ("changed: <columns>"), a
    status move outside published <-> withdrawn / late -> late, a status outside STATUSES, or a
    key written twice."""
    schema = {"game_date": pl.Date, "game_id": pl.Utf8, "player_lookup": pl.Utf8, "violation": pl.Utf8}
    b = _conform(before, LEDGER_SCHEMA)
    a = _conform(after, LEDGER_SCHEMA)
    lost = b.join(a.select(KEY), on=list(KEY), how="anti").select("game_date", *KEY, violation=pl.lit("key lost"))
    both = b.join(a, on=list(KEY), how="inner", suffix="_after")
    fields = [c for c in PUBLISHED_FIELDS if c not in KEY]
    diff = [pl.when(pl.col(c).ne_missing(pl.col(f"{c}_after"))).then(pl.lit(c)) for c in fields]
    changed = (
        both.with_columns(_changed=pl.concat_list(diff).list.drop_nulls())
        .filter(pl.col("_changed").list.len() > 0)
        .select("game_date", *KEY, violation=pl.lit("changed: ") + pl.col("_changed").list.join(", "))
    )
    allowed = pl.lit(False)
    for old, new in ALLOWED_MOVES:
        allowed = allowed | ((pl.col("status") == old) & (pl.col("status_after") == new))
    moved = both.filter(~allowed.fill_null(False)).select(
        "game_date", *KEY, violation=pl.lit("status ") + pl.col("status") + " -> " + pl.col("status_after")
    )
    unknown = a.filter(~pl.col("status").is_in(STATUSES).fill_null(False)).select(
        "game_date", *KEY, violation=pl.lit("unknown status")
    )
    duplicated = (
        a.filter(pl.len().over(KEY) > 1).unique(list(KEY)).select("game_date", *KEY, violation=pl.lit("duplicate key"))
    )
    found = (lost, changed, moved, unknown, duplicated)
    return pl.concat([f.select(pl.col(c).cast(t) for c, t in schema.items()) for f in found])


# ----------------------------------------------------------------------------- grading


def grade_picks(ledger: pl.DataFrame, accuracy: pl.DataFrame, default_price: int) -> pl.DataFrame:
    """The `pick_accuracy` rows of the ledger's picks (see the module doc)."""
    picks = _conform(ledger, LEDGER_SCHEMA)
    acc = accuracy.select("game_id", "player_lookup", "model_id", "actual_points", "game_status", "void_reason")
    game_box = acc.group_by("game_id").agg(
        game_has_box_scores=(pl.col("actual_points").is_not_null() | (pl.col("void_reason") == "DNP")).any()
    )
    own = acc.select(
        *KEY, "model_id", _own_actual=pl.col("actual_points"), _own_status=pl.col("game_status"), _own=pl.lit(True)
    )
    other = acc.group_by(KEY).agg(
        _any_actual=pl.col("actual_points").drop_nulls().first(), _any_status=pl.col("game_status").first()
    )
    joined = (
        picks.join(own, on=[*KEY, "model_id"], how="left")
        .join(other.with_columns(_any=pl.lit(True)), on=list(KEY), how="left")
        .join(game_box, on="game_id", how="left")
        .with_columns(
            graded_from=pl.when(pl.col("_own").fill_null(False))
            .then(pl.lit("model"))
            .when(pl.col("_any").fill_null(False))
            .then(pl.lit("player_game")),
        )
        .with_columns(
            actual_points=pl.when(pl.col("graded_from") == "model")
            .then(pl.col("_own_actual"))
            .otherwise(pl.col("_any_actual")),
            game_status=pl.when(pl.col("graded_from") == "model")
            .then(pl.col("_own_status"))
            .otherwise(pl.col("_any_status")),
        )
    )
    result, void_reason = result_expr(with_box_score_flag=True)
    graded = joined.with_columns(result=result, void_reason=void_reason.cast(pl.Utf8)).with_columns(
        actual_points=pl.when(pl.col("result").is_in([WIN, LOSS, PUSH])).then(pl.col("actual_points")),
        default_priced=pl.col("price").is_null(),
        price=pl.col("price").fill_null(default_price),
        counted=pl.col("status") == PUBLISHED,
    )
    graded = graded.with_columns(profit=profit_expr(pl.col("result"), pl.col("price")))
    return graded.select(pl.col(c).cast(t) for c, t in PICK_ACCURACY_SCHEMA.items()).sort("game_date", "rank", *KEY)


def record_figures() -> dict[str, pl.Expr]:
    """Per partition of pick_accuracy: the counted picks' W / L / P / V, HR and ROI (numbers)."""
    counted = pl.col("counted")

    def n(result: str) -> pl.Expr:
        return ((pl.col("result") == result) & counted).sum()

    decided = (pl.col("result").is_in([WIN, LOSS]) & counted).sum()
    return {
        "counted_picks": counted.sum(),
        "wins": n(WIN),
        "losses": n(LOSS),
        "pushes": n(PUSH),
        "voids": n(VOID),
        "pending": (pl.col("result").is_null() & counted).sum(),
        "hit_rate": pl.when(decided > 0).then(n(WIN) / decided),
        "roi": pl.when(decided > 0).then(pl.col("profit").filter(counted).sum() / decided),
        "profit_units": pl.col("profit").filter(counted).sum(),
        "not_counted": (~counted).sum(),
        "default_priced": (pl.col("default_priced") & counted).sum(),
    }


def ledger_figures() -> dict[str, pl.Expr]:
    """Per partition of the ledger: picks by status (numbers)."""
    return {
        "published": (pl.col("status") == PUBLISHED).sum(),
        "withdrawn": (pl.col("status") == WITHDRAWN).sum(),
        "late": (pl.col("status") == LATE).sum(),
        "ultra": (pl.col("ultra").fill_null(False) & (pl.col("status") == PUBLISHED)).sum(),
    }


def unknown_tip_instant(day: date) -> datetime:
    """The instant an unknown tip counts as (the end of the game date, America/New_York)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=seasons.GAME_TZ)
