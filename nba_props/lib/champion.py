"""Champion by evidence: the champion family of each game date from the families' walk-forward
record in `model_performance_daily` as of the day before (pure polars + Python, no dagster).

Rules: `config/health.yaml` `champion_selection` (`health.ChampionSelection`). The champion of
game date X is decided after the games of X - 1 (the evidence day E) from the rows of E:

- the record: each family's counted picks (graded recommended WIN / LOSS at edge >= the health
  edge floor, exactly what model health counts) over `window` (season to date by default):
  `hr_<window>` over `n_<window>`;
- eligible: a family of `families` (the enabled ones, config order), with a row on E, serving a
  model (`model_id` not NULL) and not in `ineligible_states` (BLOCKED);
- the incumbent's reference: its hit rate when it has >= `min_n` counted picks, else the higher
  of its thin record and break-even (`bands.blocked_below`);
- a challenger LEADS on E when eligible, with >= `min_n` picks and a hit rate >= the reference
  + `margin_points`; its streak counts the consecutive SLATE days (a day with a counted pick for
  any family) it leads; a day without games keeps the streak; a day it does not lead resets it;
- SWITCH: a challenger whose streak reaches `persistence_slate_days` becomes the champion of
  E + 1 (several: the best hit rate, then N, then config order); every streak then restarts
  (the evidence was against the old champion; switching back takes the same rule);
- an INELIGIBLE incumbent is replaced at once (no margin, no persistence) by the eligible family
  with the best record over >= `min_n` picks; without one it stays (best bets' health gate
  decides);
- on a day of the health crash rule (`market_crash`: market disruption, do not switch) no
  voluntary switch is made and the streaks stand still.

Deterministic and run-independent: hysteresis depends on the path, so the scan always starts at
the same anchor - the first day of each season label, whose champion is the seed (the configured
`models.yaml` champion) - and reads only the rows of that label. The caller passes the rows from
the label's first day (`model_performance` computes them), so a one-day run and a season
backfill choose the same champion for every day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

import polars as pl

from nba_props import seasons

if TYPE_CHECKING:  # lib/health.py calls this module: no import cycle at run time
    from nba_props.lib.health import HealthConfig

TOLERANCE = 1e-9  # as lib/health.py: a lead of exactly the margin counts

SEED, KEEP, SWITCH = "SEED", "KEEP", "SWITCH"
TRANSITIONS = (SEED, KEEP, SWITCH)  # = health.CHAMPION_DECISIONS (the table's check)
USED_COLUMNS_BASE = ("game_date", "family", "state", "model_id", "n_day", "market_crash")

SCHEMA = pl.Schema(
    {
        "game_date": pl.Date(),  # the day the champion serves
        "evidence_date": pl.Date(),  # the day whose rows decided it (game_date - 1; NULL for a seed)
        "champion": pl.Utf8(),
        "previous_champion": pl.Utf8(),
        "transition": pl.Utf8(),
        "reason": pl.Utf8(),
        "incumbent_hr": pl.Float64(),
        "incumbent_n": pl.Int64(),
        "challenger": pl.Utf8(),  # the leading challenger on the evidence day (NULL: none leads)
        "challenger_hr": pl.Float64(),
        "challenger_n": pl.Int64(),
        "lead_days": pl.Int64(),  # the challenger's streak of slate days leading, after the evidence day
    }
)


def label_first_day(day: date) -> date:
    """The first day of `day`'s season label (the scan's anchor)."""
    return date(seasons.season_start_year(day), seasons.SEASON_START_MONTH, 1)


def _pct(hr: float | None) -> str:
    return "n/a" if hr is None else f"{hr * 100:.1f}%"


def choose_champions(
    health_rows: pl.DataFrame, *, seed: str, families: Sequence[str], config: HealthConfig
) -> pl.DataFrame:
    """Per served day (`SCHEMA`): for every day E of `health_rows` (model_performance_daily
    rows) the champion of E + 1, and the seed for the first day of each season label in the rows.
    The rows of a label must start on its first day for run-independence (see the module doc)."""
    rules = config.champion_selection
    hr_col, n_col = f"hr_{rules.window}", f"n_{rules.window}"
    if health_rows.height == 0:
        return pl.DataFrame(schema=SCHEMA)
    rows = health_rows.select(*USED_COLUMNS_BASE, hr_col, n_col).sort("game_date", "family")
    by_day: dict[date, dict[str, dict]] = {}
    for r in rows.iter_rows(named=True):
        by_day.setdefault(r["game_date"], {})[r["family"]] = r
    order = {f: i for i, f in enumerate(families)}
    break_even = config.bands.blocked_below / 100.0
    out: list[dict] = []
    champion, streaks, label = seed, {}, None
    for day in sorted(by_day):
        day_label = seasons.season_label(day)
        if day_label != label:  # the anchor: a label's first day in the rows serves the seed
            label, champion, streaks = day_label, seed, {}
            if not out or out[-1]["game_date"] != day:
                out.append(_seed_row(day, seed))
        nxt = day + timedelta(days=1)
        if seasons.season_label(nxt) != label:  # the next day starts a new label: the seed
            out.append(_seed_row(nxt, seed))
            continue
        decision = _decide(day, by_day[day], champion, streaks, families, order, rules, hr_col, n_col, break_even)
        previous, champion = champion, decision["champion"]
        out.append(_row(nxt, day, champion, previous, decision["transition"], decision["reason"], decision))
    return pl.DataFrame(out, schema=SCHEMA, orient="row") if out else pl.DataFrame(schema=SCHEMA)


def _seed_row(day: date, seed: str) -> dict:
    return _row(day, None, seed, None, SEED, f"season {seasons.season_label(day)} starts from the configured "
                f"champion {seed}")  # fmt: skip


def _row(day, evidence, champion, previous, transition, reason, d: dict | None = None) -> dict:
    d = d or {}
    return {
        "game_date": day, "evidence_date": evidence, "champion": champion, "previous_champion": previous,
        "transition": transition, "reason": reason, "incumbent_hr": d.get("incumbent_hr"),
        "incumbent_n": d.get("incumbent_n"), "challenger": d.get("challenger"), "challenger_hr": d.get("challenger_hr"),
        "challenger_n": d.get("challenger_n"), "lead_days": d.get("lead_days"),
    }  # fmt: skip


def _decide(day, day_rows, champion, streaks, families, order, rules, hr_col, n_col, break_even) -> dict:
    """The champion of day + 1 from the rows of `day`; updates `streaks` in place."""

    def ineligible_why(family: str) -> str | None:
        r = day_rows.get(family)
        if family not in order:
            return "not an enabled family"
        if r is None:
            return f"no health row on {day}"
        if r["model_id"] is None:
            return "serving no model"
        if r["state"] in rules.ineligible_states:
            return f"{r['state']} on {day}"
        return None

    def record(family: str) -> tuple[float | None, int]:
        r = day_rows.get(family) or {}
        return r.get(hr_col), int(r.get(n_col) or 0)

    def best_first(names: Iterable[str]) -> list[str]:
        return sorted(names, key=lambda f: (-(record(f)[0] or 0.0), -record(f)[1], order.get(f, len(order)), f))

    inc_hr, inc_n = record(champion)
    base = {"incumbent_hr": inc_hr, "incumbent_n": inc_n}
    window = rules.window if rules.window == "season" else f"{rules.window} window"
    why = ineligible_why(champion)
    if why is not None:
        streaks.clear()
        pool = [f for f in families if f != champion and ineligible_why(f) is None and record(f)[1] >= rules.min_n]
        if pool:
            to = best_first(pool)[0]
            hr, n = record(to)
            return base | {
                "champion": to, "transition": SWITCH, "challenger": to, "challenger_hr": hr, "challenger_n": n,
                "lead_days": 0,
                "reason": f"SWITCH {champion} -> {to} from {day + timedelta(days=1)}: {champion} is ineligible ({why}); "
                f"{to} has the best eligible {window} record, {_pct(hr)} over N {n} (>= {rules.min_n})",
            }  # fmt: skip
        return base | {
            "champion": champion, "transition": KEEP,
            "reason": f"{champion} kept although ineligible ({why}): no eligible family with N >= {rules.min_n}",
        }  # fmt: skip
    reference = inc_hr if inc_n >= rules.min_n else max(inc_hr or 0.0, break_even)
    ref_text = (f"{champion} {_pct(inc_hr)} over N {inc_n}" if inc_n >= rules.min_n
                else f"{champion} credited {_pct(reference)} (N {inc_n} < {rules.min_n})")  # fmt: skip
    if any(r["market_crash"] for r in day_rows.values()):
        return base | {"champion": champion, "transition": KEEP,
                       "reason": f"{champion} kept: market crash on {day} (no switch; streaks stand still)"}  # fmt: skip
    slate = any((r["n_day"] or 0) > 0 for r in day_rows.values())
    leading = []
    for f in families:
        if f == champion:
            continue
        hr, n = record(f)
        leads = (
            ineligible_why(f) is None
            and n >= rules.min_n
            and hr is not None
            and (hr - reference) * 100.0 >= rules.margin_points - TOLERANCE
        )
        if leads:
            streaks[f] = streaks.get(f, 0) + (1 if slate else 0)
            leading.append(f)
        else:
            streaks.pop(f, None)
    if not leading:
        return base | {
            "champion": champion, "transition": KEEP,
            "reason": f"{champion} kept: no eligible challenger leads {ref_text} by {rules.margin_points:g} pts "
            f"with N >= {rules.min_n} ({window} record)",
        }  # fmt: skip
    ready = [f for f in leading if streaks[f] >= rules.persistence_slate_days]
    top = best_first(ready or leading)[0]
    hr, n = record(top)
    figures = {"challenger": top, "challenger_hr": hr, "challenger_n": n, "lead_days": streaks[top]}
    lead = (
        f"{top} {_pct(hr)} over N {n} leads {ref_text} by {(hr - reference) * 100.0:+.1f} pts "
        f"(>= {rules.margin_points:g}) for {streaks[top]} slate day(s) through {day}"
    )
    if ready:
        streaks.clear()
        return base | figures | {"champion": top, "transition": SWITCH,
                                 "reason": f"SWITCH {champion} -> {top} from {day + timedelta(days=1)}: {lead}"}  # fmt: skip
    return base | figures | {
        "champion": champion, "transition": KEEP,
        "reason": f"{champion} kept: {lead}, < {rules.persistence_slate_days} needed ({window} record)",
    }  # fmt: skip


def champions_for_days(health: pl.DataFrame, days: Iterable[date], seed: str) -> pl.DataFrame:
    """(game_date, champion) for each day X from model_performance_daily rows of X - 1: their
    `next_champion` (chosen from the record through X - 1), the seed when X - 1 has no row."""
    days = sorted(set(days))
    frame = pl.DataFrame({"game_date": days}, schema={"game_date": pl.Date})
    if health.height == 0 or "next_champion" not in health.columns:
        return frame.with_columns(champion=pl.lit(seed))
    chosen = (
        health.select((pl.col("game_date") + pl.duration(days=1)).alias("game_date"), pl.col("next_champion"))
        .drop_nulls()
        .unique("game_date")
    )
    return frame.join(chosen, on="game_date", how="left").select(
        "game_date", pl.col("next_champion").fill_null(seed).alias("champion")
    )


def champion_of(health: pl.DataFrame, day: date, seed: str) -> str:
    """The champion of one day X from model_performance_daily rows (those of X - 1 are used)."""
    return champions_for_days(health, [day], seed).get_column("champion")[0]


def switches_markdown(choices: pl.DataFrame) -> str:
    """The SWITCH rows as a markdown table (day, from, to, evidence)."""
    lines = ["| from day | from | to | reason |", "|---|---|---|---|"]
    for r in choices.filter(pl.col("transition") == SWITCH).sort("game_date").iter_rows(named=True):
        lines.append(f"| {r['game_date']} | {r['previous_champion']} | {r['champion']} | "
                     f"{r['reason'].replace('|', '/')} |")  # fmt: skip
    return "\n".join(lines)


__all__: Sequence[str] = (
    "KEEP", "SCHEMA", "SEED", "SWITCH", "TRANSITIONS", "champion_of", "champions_for_days", "choose_champions",
    "label_first_day", "switches_markdown",
)  # fmt: skip
