"""The PUBLIC best-bets files: `best-bets/all.json` (`BestBetsAll`) and `best-bets/today.json`
(`BestBetsToday`). Pure logic: a `common.picks_frame` + a day in, one pydantic model out.

Semantics (every figure is over the day's SCOPE):
- scope = `common.season_scope(day)`: opening night of the day's season <= game_date <= day. Rows
  before the season (an October date never shows the previous season's April picks) or after the
  day are ignored; the play-in and the playoffs stay in their season.
- record.season: the scope; record.month: the calendar month of `day` within the scope;
  record.week: the Monday-start week containing `day` (`seasons.week_start`); record.last_10: the
  last 10 picks with result WIN / LOSS / PUSH in (game_date, rank) order. Every record is
  `common.record_of` (VOID and pending never count).
- ultra_record: the record of the ultra_public picks, with its OVER / UNDER split.
- streak: over the picks with result WIN / LOSS in (game_date, rank) order (PUSH, VOID and pending
  skipped): the current run (type "W" / "L" + count); none -> type None, count 0.
  best_streak: the longest WIN run of the scope (ties: the most recent), start / end = the game
  dates of its first and last pick; none -> None, 0, None, None.
- today: the picks of `day` by rank. A pick's `result` is None while pending; a PUSH is "PUSH"
  (never pending); a VOID carries its void_reason and no actual. angles: the ledger's first 3.
  game_time: the tip in ISO UTC (None when unknown). ultra_tier: picks_frame.ultra_public.
- weeks: the Monday-start weeks of the scope that have picks, newest first, each with its record
  and its days (only days with picks, newest first). A day's status: any pick pending -> pending;
  else no WIN / LOSS (only PUSH / VOID) -> void; else no LOSS -> sweep; no WIN -> miss; else split.
- total_picks: picks in the scope; graded: result not NULL (VOID included); voided: VOID; pushes:
  PUSH.
- today.json (`BestBetsToday`): the day's picks WITHOUT actual / result / void_reason, the season
  record and the number of picks.

Performance: the assets build a whole run at once (`build_all_days` / `build_today_days`; the
per-date `build_all` / `build_today` are a run of one day): the picks are sorted and shaped ONCE
(one polars pass) and each day's scope is a contiguous slice of those rows (bisected on the date),
so a season's run makes no polars call per day. Each day's `DayPicks` is cached on its shaped rows
(frozen models; the rows are the whole key, so the cache is right across runs), so building every
date of a season validates each past day once.

`today_markdown` renders a `BestBetsToday` for the Dagster UI; `all_json_table` renders a parsed
all.json for the terminal (`nba-props show best-bets`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

import polars as pl
from pydantic import Field

from nba_props import seasons
from nba_props.lib.exports.common import (
    Direction,
    Edge,
    Export,
    FiniteFloat,
    Record,
    Result,
    record_of,
    season_scope,
    utc_iso,
)
from nba_props.lib.grading import LOSS, PUSH, VOID, WIN

MAX_ANGLES = 3
LAST_N = 10
DayStatus = Literal["sweep", "split", "miss", "pending", "void"]
SWEEP, SPLIT, MISS, PENDING, VOID_DAY = "sweep", "split", "miss", "pending", "void"

UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # = common.utc_iso


# ------------------------------------------------------------------------------- schemas


class _PickFields(Export):
    rank: int = Field(ge=1)
    player: str
    player_lookup: str
    team: str
    opponent: str
    direction: Direction
    stat: Literal["PTS"] = "PTS"
    line: FiniteFloat
    edge: Edge
    game_time: str | None
    angles: list[str] = Field(max_length=MAX_ANGLES)


class PublicPick(_PickFields):
    actual: FiniteFloat | None
    result: Result | None  # None = pending
    void_reason: str | None
    ultra_tier: bool


class TodayPick(_PickFields):
    """A pick of today.json: no actual, no result, no void reason."""

    ultra_tier: bool


class UltraRecord(Record):
    over: Record
    under: Record


class Records(Export):
    season: Record
    month: Record
    week: Record
    last_10: Record


class Streak(Export):
    type: Literal["W", "L"] | None
    count: int = Field(ge=0)


class BestStreak(Export):
    type: Literal["W"] | None
    count: int = Field(ge=0)
    start: date | None
    end: date | None


class DayPicks(Export):
    date: date
    status: DayStatus
    record: Record
    picks: list[PublicPick]


class Week(Export):
    week_start: date
    week_end: date
    record: Record
    days: list[DayPicks]


class BestBetsAll(Export):
    date: date
    season: str
    generated_at: str
    algorithm_version: str
    record: Records
    ultra_record: UltraRecord
    streak: Streak
    best_streak: BestStreak
    today: list[PublicPick]
    weeks: list[Week]
    total_picks: int = Field(ge=0)
    graded: int = Field(ge=0)
    voided: int = Field(ge=0)
    pushes: int = Field(ge=0)


class SeasonRecord(Export):
    season: Record


class BestBetsToday(Export):
    date: date
    season: str
    generated_at: str
    algorithm_version: str
    record: SeasonRecord
    picks: list[TodayPick]
    total: int = Field(ge=0)


PUBLIC_SCHEMAS = (BestBetsAll, BestBetsToday)


# ------------------------------------------------------------------------------- builders


PICK_FIELDS = tuple(PublicPick.model_fields)
TODAY_FIELDS = tuple(TodayPick.model_fields)
# positions in a scoped row: game_date, then the PublicPick fields
_AT = {name: i + 1 for i, name in enumerate(PICK_FIELDS)}
_RESULT, _DIRECTION, _ULTRA, _ANGLES = _AT["result"], _AT["direction"], _AT["ultra_tier"], _AT["angles"]


def shaped_rows(scope: pl.DataFrame) -> list[tuple]:
    """The picks as rows (game_date, *PICK_FIELDS): the per-pick shaping (display name, 2-decimal
    edge, ISO UTC tip, first 3 angles, no actual on a VOID) in one polars pass."""
    return scope.select(
        "game_date",
        "rank",
        pl.coalesce("player_name", "player_lookup").alias("player"),
        "player_lookup",
        "team",
        "opponent",
        "direction",
        pl.lit("PTS").alias("stat"),
        "line",
        pl.col("edge").round(2),
        pl.col("tip_time_utc").dt.convert_time_zone("UTC").dt.strftime(UTC_FORMAT).alias("game_time"),
        pl.col("angles").fill_null([]).list.head(MAX_ANGLES),
        pl.when(pl.col("result") == VOID).then(None).otherwise(pl.col("actual_points")).alias("actual"),
        "result",
        "void_reason",
        pl.col("ultra_public").fill_null(False).alias("ultra_tier"),
    ).rows()


def _frozen(row: tuple) -> tuple:
    """A shaped row as a cache key (its angles list as a tuple)."""
    return row[:_ANGLES] + (tuple(row[_ANGLES]),) + row[_ANGLES + 1 :]


@lru_cache(maxsize=1024)
def _record(results: tuple[str | None, ...]) -> Record:
    """`record_of` of a (small) tuple of results: a day's or a week's record repeats (frozen model)."""
    return record_of(list(results))


@lru_cache(maxsize=8192)
def _day_picks(rows: tuple[tuple, ...]) -> DayPicks:
    """The `DayPicks` of one day's shaped rows (`_frozen`, rank order). Cached on the rows: a builder
    run for every date of a season rebuilds each past day from identical rows (frozen models; the
    same rows always give the same day)."""
    picks = [dict(zip(PICK_FIELDS, row[1:])) for row in rows]
    results = tuple(row[_RESULT] for row in rows)
    return DayPicks(date=rows[0][0], status=day_status(results), record=_record(results), picks=picks)


def day_status(results: Sequence[str | None]) -> DayStatus:
    """pending when any pick is; void without a WIN / LOSS; sweep without a LOSS; miss without a WIN;
    else split."""
    if any(r is None for r in results):
        return PENDING
    has_win, has_loss = WIN in results, LOSS in results
    if not has_win and not has_loss:
        return VOID_DAY
    if not has_loss:
        return SWEEP
    if not has_win:
        return MISS
    return SPLIT


def streaks(dates: Sequence[date], results: Sequence[str | None]) -> tuple[Streak, BestStreak]:
    """The current WIN / LOSS run and the longest WIN run (ties: the most recent) of picks in
    (game_date, rank) order; PUSH, VOID and pending are skipped."""
    decided = [(d, r) for d, r in zip(dates, results) if r == WIN or r == LOSS]
    current = Streak(type=None, count=0)
    if decided:
        last = decided[-1][1]
        count = 0
        for _, result in reversed(decided):
            if result != last:
                break
            count += 1
        current = Streak(type="W" if last == WIN else "L", count=count)
    best: tuple[int, date | None, date | None] = (0, None, None)
    run, start = 0, None
    for game_date, result in decided:
        if result == WIN:
            if run == 0:
                start = game_date
            run += 1
            if run >= best[0]:
                best = (run, start, game_date)
        else:
            run = 0
    count, first, last_day = best
    return current, BestStreak(type="W" if count else None, count=count, start=first, end=last_day)


def _run_rows(picks: pl.DataFrame) -> tuple[list[date], list[tuple]]:
    """Every pick with a game date as shaped rows in (game_date, rank, player_lookup) order, and
    their dates: a day's scope is then one contiguous slice (a stable sort of a date range is the
    range of the stable sort)."""
    ordered = picks.filter(pl.col("game_date").is_not_null()).sort(
        "game_date", "rank", "player_lookup", maintain_order=True, multithreaded=False
    )
    rows = shaped_rows(ordered)
    return [row[0] for row in rows], rows


def _scopes(picks: pl.DataFrame, days: Sequence[date]) -> Iterator[tuple[date, str, list[tuple]]]:
    """Per day: (day, season label, the shaped rows of its scope), the picks shaped once for the run."""
    dates, rows = _run_rows(picks)
    for day in days:
        label, first = season_scope(day)
        yield day, label, rows[bisect_left(dates, first) : bisect_right(dates, day)]


def build_all_days(
    picks: pl.DataFrame, days: Sequence[date], *, generated_at: datetime, algorithm_version: str
) -> dict[date, BestBetsAll]:
    """all.json of every day of a run (the picks shaped once; each day's figures from its scope's rows)."""
    stamp = {"generated_at": utc_iso(generated_at), "algorithm_version": algorithm_version}
    return {day: _all_of(rows, day, label, **stamp) for day, label, rows in _scopes(picks, days)}


def build_all(picks: pl.DataFrame, day: date, *, generated_at: datetime, algorithm_version: str) -> BestBetsAll:
    """all.json of `day` (see the module doc for every figure)."""
    return build_all_days(picks, [day], generated_at=generated_at, algorithm_version=algorithm_version)[day]


def _all_of(rows: list[tuple], day: date, label: str, *, generated_at: str, algorithm_version: str) -> BestBetsAll:
    dates = [row[0] for row in rows]
    results = [row[_RESULT] for row in rows]
    this_week = seasons.week_start(day)
    week_of = {d: seasons.week_start(d) for d in set(dates)}
    month = [r for d, r in zip(dates, results) if d.year == day.year and d.month == day.month]
    week = [r for d, r in zip(dates, results) if week_of[d] == this_week]
    last_10 = [r for r in results if r in (WIN, LOSS, PUSH)][-LAST_N:]
    ultra = [row for row in rows if row[_ULTRA]]
    ultra_record = UltraRecord(
        **record_of([row[_RESULT] for row in ultra]).model_dump(),
        over=record_of([row[_RESULT] for row in ultra if row[_DIRECTION] == "OVER"]),
        under=record_of([row[_RESULT] for row in ultra if row[_DIRECTION] == "UNDER"]),
    )
    streak, best_streak = streaks(dates, results)

    # days (rank order inside), then weeks and days newest first
    by_day: dict[date, list[tuple]] = {}
    for row in rows:
        by_day.setdefault(row[0], []).append(_frozen(row))
    days = {d: _day_picks(tuple(by_day[d])) for d in sorted(by_day, reverse=True)}
    by_week: dict[date, list[DayPicks]] = {}
    for game_date, day_picks in days.items():
        by_week.setdefault(week_of[game_date], []).append(day_picks)
    weeks = [
        Week(
            week_start=start,
            week_end=start + timedelta(days=6),
            record=_record(tuple(p.result for d in week_days for p in d.picks)),
            days=week_days,
        )
        for start, week_days in by_week.items()
    ]
    return BestBetsAll(
        date=day,
        season=label,
        generated_at=generated_at,
        algorithm_version=algorithm_version,
        record=Records(
            season=record_of(results), month=record_of(month), week=record_of(week), last_10=record_of(last_10)
        ),  # fmt: skip
        ultra_record=ultra_record,
        streak=streak,
        best_streak=best_streak,
        today=list(days[day].picks) if day in days else [],
        weeks=weeks,
        total_picks=len(rows),
        graded=sum(r is not None for r in results),
        voided=results.count(VOID),
        pushes=results.count(PUSH),
    )


def build_today_days(
    picks: pl.DataFrame, days: Sequence[date], *, generated_at: datetime, algorithm_version: str
) -> dict[date, BestBetsToday]:
    """today.json of every day of a run (the picks shaped once)."""
    out = {}
    for day, label, rows in _scopes(picks, days):
        today = [dict(zip(PICK_FIELDS, row[1:])) for row in rows if row[0] == day]  # the scope ends on `day`
        out[day] = BestBetsToday(
            date=day,
            season=label,
            generated_at=utc_iso(generated_at),
            algorithm_version=algorithm_version,
            record=SeasonRecord(season=record_of([row[_RESULT] for row in rows])),
            picks=[{k: pick[k] for k in TODAY_FIELDS} for pick in today],
            total=len(today),
        )
    return out


def build_today(picks: pl.DataFrame, day: date, *, generated_at: datetime, algorithm_version: str) -> BestBetsToday:
    """today.json of `day`: the day's picks by rank (no results) and the season record."""
    return build_today_days(picks, [day], generated_at=generated_at, algorithm_version=algorithm_version)[day]


# ------------------------------------------------------------------------------- renderers


def record_text(record: Mapping[str, Any]) -> str:
    """'12-8' / '12-8-1' (W-L[-P]) and the hit rate: '12-8-1 (60.0%)', '0-0 (-)'."""
    text = f"{record['wins']}-{record['losses']}"
    if record["pushes"]:
        text += f"-{record['pushes']}"
    pct = record["pct"]
    return f"{text} ({pct:.1f}%)" if pct is not None else f"{text} (-)"


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|")


def today_markdown(model: BestBetsToday) -> str:
    """The day's picks as a markdown table and the season record line."""
    lines = [f"### Best bets {model.date.isoformat()} ({model.season})", ""]
    if not model.picks:
        lines.append(f"No picks for {model.date.isoformat()}.")
    else:
        lines += ["| rank | player | matchup | direction | line | edge | angles | ultra |",
                  "| ---: | --- | --- | --- | ---: | ---: | --- | --- |"]  # fmt: skip
        for p in model.picks:
            cells = [p.rank, p.player, f"{p.team} vs {p.opponent}", p.direction, f"{p.line:.1f}", f"{p.edge:.2f}",
                     " / ".join(p.angles), "yes" if p.ultra_tier else ""]  # fmt: skip
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines += ["", f"Season record: {record_text(model.record.season.model_dump())}"]
    return "\n".join(lines) + "\n"


def _result_text(pick: Mapping[str, Any]) -> str:
    result = pick.get("result")
    if result is None:
        return "pending"
    if result == VOID and pick.get("void_reason"):
        return f"VOID ({pick['void_reason']})"
    actual = pick.get("actual")
    return f"{result} ({actual:g})" if actual is not None else str(result)


def all_json_table(payload: dict) -> str:
    """Terminal rendering of a parsed all.json: the date, season and records, then the day's picks as
    an aligned table (rank, player, matchup, dir, line, edge, result, ultra)."""
    records = payload["record"]
    lines = [
        f"Best bets {payload['date']}  season {payload['season']}",
        "  ".join(
            f"{name} {record_text(records[key])}"
            for name, key in (("Season", "season"), ("Month", "month"), ("Week", "week"), ("Last 10", "last_10"))
        ),  # fmt: skip
        "",
    ]
    picks = payload.get("today") or []
    if not picks:
        lines.append(f"No picks for {payload['date']}.")
        return "\n".join(lines) + "\n"
    header = ("rank", "player", "matchup", "dir", "line", "edge", "result", "ultra")
    right = {"rank", "line", "edge"}
    table = [header] + [
        (str(p["rank"]), str(p["player"]), f"{p['team']} vs {p['opponent']}", str(p["direction"]),
         f"{p['line']:.1f}", f"{p['edge']:.2f}", _result_text(p), "yes" if p.get("ultra_tier") else "")
        for p in picks
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        cells = [c.rjust(w) if h in right else c.ljust(w) for c, w, h in zip(row, widths, header)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"
