"""lib/exports/admin_files: signal-best-bets, the admin dashboard and picks, systems/model-health.json."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from pydantic import BaseModel, ConfigDict

from nba_props.lib import schemas
from nba_props.lib.exports import admin_files as af
from nba_props.lib.exports.common import ADMIN_ONLY_FIELDS, PICKS_SCHEMA, field_names, to_json_bytes
from nba_props.lib.models.registry import load_models_config
from nba_props.lib.selection import load_selection_config
from nba_props.lib.signals import load_signal_registry as signal_registry
from nba_props.lib.tables import TABLE_SCHEMAS

DAY = date(2025, 11, 10)
GEN = datetime(2025, 11, 10, 16, 0, tzinfo=UTC)
TIP = datetime(2025, 11, 11, 0, 30, tzinfo=UTC)
VERSION = "test-1"
MODELS = load_models_config()
SELECTION = load_selection_config()
CHAMPION = MODELS.champion
OTHER = next(f.id for f in MODELS.families if f.id != CHAMPION and f.enabled)
FLOOR = SELECTION.edge_floor


def frame(table: str, rows: list[dict]) -> pl.DataFrame:
    schema = TABLE_SCHEMAS[table]
    if not rows:
        return pl.DataFrame(schema=schema)
    return schemas.conform(pl.DataFrame(rows, infer_schema_length=None), schema)


def cand(player: str, *, edge: float = 6.0, selected: bool = True, rank: int | None = 1, model_id: str = "m_champ",
         family: str = CHAMPION, direction: str = "OVER", rejected_by: str | None = None, observed_by=(),
         gate: bool = False, ultra: bool = False, signals=("model_health", "high_edge"), quality: float = 95.0,
         day: date = DAY) -> dict:  # fmt: skip
    return {
        "game_date": day, "game_id": "g1", "player_lookup": player, "player_name": player.title(), "team": "BOS",
        "opponent": "NYK", "tip_time_utc": TIP, "model_id": model_id, "family": family, "feature_set": "v9",
        "predicted_points": 20.0 + edge, "line": 20.5, "line_book": "dk", "market_type": "points", "price": -110,
        "edge": edge, "direction": direction, "p_over": 0.7, "confidence": 0.4, "feature_quality_score": quality,
        "signals": list(signals), "signal_count": len(signals), "shadow_signals": [], "models_agreeing": 2,
        "champion_edge": edge, "direction_conflict": False, "consensus_votes": 2, "consensus_feature_sets": 1,
        "quantile_under_consensus": False, "health_gate_active": gate,
        "health_gate_reason": "champion blocked" if gate else None, "selected": selected,
        "rejected_by": rejected_by, "observed_by": list(observed_by), "rank": rank if selected else None,
        "ultra": ultra, "ultra_public": ultra, "ultra_rule": "v12_edge_6" if ultra else None,
        "angles": [f"angle {i}" for i in range(7)],
    }  # fmt: skip


def pred(player: str, model_id: str, family: str, *, edge: float | None = 6.0, rec: str = "OVER",
         quarantined: bool = False, line: float | None = 20.5, day: date = DAY) -> dict:  # fmt: skip
    return {
        "game_date": day, "game_id": "g1", "player_lookup": player, "model_id": model_id, "family": family,
        "predicted_points": 26.5, "line": line, "market_type": "points", "edge": edge, "direction": "OVER",
        "p_over": 0.7, "confidence": 0.4, "recommendation": rec, "quarantined": quarantined,
        "quarantine_reason": "poisoned" if quarantined else None,
    }  # fmt: skip


def pick(day: date, result: str | None, *, direction: str = "OVER", ultra: bool = False, player: str = "p") -> dict:
    return {
        "game_date": day, "game_id": f"g{day}{player}", "player_lookup": player, "player_name": player,
        "team": "BOS", "opponent": "NYK", "model_id": "m", "family": CHAMPION, "direction": direction,
        "line": 20.5, "edge": 5.5, "rank": 1, "ultra": ultra, "ultra_public": ultra, "angles": [], "signals": [],
        "status": "published", "result": result,
    }  # fmt: skip


def picks_of(rows: list[dict]) -> pl.DataFrame:
    if not rows:
        return pl.DataFrame(schema=PICKS_SCHEMA)
    return schemas.conform(pl.DataFrame(rows, infer_schema_length=None), PICKS_SCHEMA)


def perf(family: str, day: date, state: str, hr_7d: float | None = 0.6, n_7d: int = 20) -> dict:
    return {
        "game_date": day, "family": family, "is_champion": family == CHAMPION, "model_id": f"m_{family}",
        "days_since_training": 3, "staleness": "FRESH", "n_7d": n_7d, "hr_7d": hr_7d, "n_14d": 40, "hr_14d": 0.55,
        "n_30d": 80, "hr_30d": 0.5, "n_season": 100, "hr_season": 0.5, "state": state,
    }  # fmt: skip


EMPTY = {t: frame(t, []) for t in ("best_bets", "predictions", "model_performance_daily", "signal_health_daily",
                                   "trained_models", "alerts")}  # fmt: skip
KW = {"generated_at": GEN, "algorithm_version": VERSION, "models": MODELS, "selection": SELECTION}


def summary(candidates: list[dict], predictions: list[dict]):
    return af.pipeline_summary(frame("best_bets", candidates), frame("predictions", predictions), DAY, MODELS,
                               SELECTION)  # fmt: skip


# ------------------------------------------------------------------------------- bottleneck


def test_bottleneck_no_models():
    # a prediction of a family not in config (or disabled) does not count
    s = summary([], [pred("a", "x", "not_a_family")])
    assert s.bottleneck == "no_models" and s.models_enabled == 0


def test_bottleneck_no_candidates():
    s = summary([], [pred("a", "m_champ", CHAMPION, rec="PASS")])
    assert (s.bottleneck, s.models_enabled, s.total_candidates, s.max_edge) == ("no_candidates", 1, 0, None)


def test_bottleneck_health_gate():
    s = summary([cand("a", edge=9.0, selected=False, gate=True)], [pred("a", "m_champ", CHAMPION)])
    assert s.bottleneck == "health_gate"


def test_bottleneck_edge_floor_and_boundary():
    below = cand("a", edge=FLOOR - 0.01, selected=False, rejected_by="edge_floor")
    s = summary([below], [pred("a", "m_champ", CHAMPION)])
    assert s.bottleneck == "edge_floor"
    # exactly at the floor passes the floor: the bottleneck moves on to the filters
    at = cand("b", edge=FLOOR, selected=False, rejected_by="quality")
    s = summary([below, at], [pred("a", "m_champ", CHAMPION)])
    assert s.bottleneck == "filters_rejected_all" and s.edge_5_plus == 1 and s.max_edge == FLOOR


def test_bottleneck_observe_mode_floor_with_picks_is_none():
    s = summary([cand("a", edge=FLOOR - 1.0, observed_by=["edge_floor"])], [pred("a", "m_champ", CHAMPION)])
    assert s.bottleneck is None and s.best_bets == 1


def test_bottleneck_none_with_picks():
    s = summary([cand("a", edge=7.123456, ultra=True), cand("b", edge=4.0, selected=False, rejected_by="edge_floor")],
                [pred("a", "m_champ", CHAMPION)])  # fmt: skip
    assert (s.bottleneck, s.best_bets, s.ultra, s.total_candidates, s.max_edge) == (None, 1, 1, 2, 7.12)


# ------------------------------------------------------------------------------- admin picks


def test_admin_candidates_rejected_by():
    cands = [
        cand("a", edge=6.0, model_id="m_champ"),  # selected
        cand("b", edge=6.0, model_id="m_other", family=OTHER, selected=False, rejected_by="quality"),
        cand("c", edge=6.0, selected=False, rejected_by=None),  # capped
    ]
    preds = [
        pred("a", "m_champ", CHAMPION), pred("a", "m_other", OTHER, edge=4.0),  # not the best
        pred("b", "m_champ", CHAMPION, rec="PASS"), pred("b", "m_other", OTHER),
        pred("c", "m_champ", CHAMPION), pred("c", "m_q", OTHER, quarantined=True),
        pred("c", "m_noline", OTHER, line=None, edge=None, rec="NO_LINE"),  # no line: not listed
    ]  # fmt: skip
    m = af.build_admin_picks(frame("best_bets", cands), frame("predictions", preds), picks_of([]), DAY, **KW)
    got = {(c["player_lookup"], c["model_id"]): (c["chosen"], c["selected"], c["rejected_by"], c["quality"])
           for c in m.candidates}  # fmt: skip
    assert got == {
        ("a", "m_champ"): (True, True, None, 95.0),
        ("a", "m_other"): (False, False, af.NOT_BEST, 95.0),
        ("b", "m_champ"): (False, False, af.NOT_RECOMMENDED, 95.0),
        ("b", "m_other"): (True, False, "quality", 95.0),
        ("c", "m_champ"): (True, False, af.CAPPED, 95.0),
        ("c", "m_q"): (False, False, af.QUARANTINED, 95.0),
    }
    assert [p.player_lookup for p in m.picks] == ["a"] and len(m.picks[0].angles) == af.MAX_ANGLES
    assert m.picks[0].game_time == "2025-11-11T00:30:00Z"
    md = af.admin_picks_markdown(m)
    assert "| quality | 1 | B |" in md and "| cap | 1 | C |" in md and "| 1 | A | OVER | 20.5 | 6 |" in md
    assert "none (there are picks)" in md


def test_admin_candidates_quality_none_and_gate():
    cands = [cand("a", selected=False, gate=True, quality=None)]
    m = af.build_admin_picks(frame("best_bets", cands), frame("predictions", [pred("a", "m_champ", CHAMPION),
                             pred("z", "m_champ", CHAMPION)]), picks_of([]), DAY, **KW)  # fmt: skip
    got = {c["player_lookup"]: (c["rejected_by"], c["quality"], c["player"]) for c in m.candidates}
    assert got == {"a": (af.HEALTH_GATE, None, "A"), "z": (af.NOT_BEST, None, None)}
    assert m.pipeline_summary.bottleneck == "health_gate"
    assert "health_gate" in af.admin_picks_markdown(m)


def test_admin_ultra_records_before_day_in_season():
    rows = [
        pick(DAY - timedelta(days=1), "WIN", ultra=True, player="a"),
        pick(DAY - timedelta(days=2), "LOSS", direction="UNDER", ultra=True, player="b"),
        pick(DAY - timedelta(days=2), "PUSH", direction="UNDER", ultra=True, player="c"),
        pick(DAY - timedelta(days=2), "WIN", ultra=False, player="d"),  # not ultra
        pick(DAY, "WIN", ultra=True, player="e"),  # the day itself: not before it
        pick(date(2025, 4, 1), "WIN", ultra=True, player="f"),  # last season
    ]
    r = af.ultra_records(picks_of(rows), DAY)
    assert (r.ultra.wins, r.ultra.losses, r.ultra.pushes, r.ultra.total) == (1, 1, 1, 3)
    assert (r.over.wins, r.over.total, r.under.losses, r.under.pushes) == (1, 1, 1, 1)


# ------------------------------------------------------------------------------- dashboard


def test_the_champion_state_follows_the_champion_chosen_by_evidence():
    """model_performance_daily's next_champion of the day before names the day's champion (here
    OTHER, not the configured champion): the dashboard's best_bets_model / champion_state and the
    public model-health file's champion flag follow it; without the column, the configured one."""
    performance = frame("model_performance_daily", [
        perf(CHAMPION, DAY - timedelta(days=1), "BLOCKED") | {"next_champion": OTHER},
        perf(OTHER, DAY - timedelta(days=1), "HEALTHY") | {"next_champion": OTHER},
        perf(CHAMPION, DAY, "HEALTHY") | {"next_champion": CHAMPION},  # the day's own row: not used for the day
    ])  # fmt: skip
    assert af.day_champion(performance, DAY, CHAMPION) == OTHER
    assert af.day_champion(performance.drop("next_champion"), DAY, CHAMPION) == CHAMPION
    assert af.day_champion(performance, DAY - timedelta(days=1), CHAMPION) == CHAMPION  # no row before: the seed
    d = af.build_dashboard(EMPTY["best_bets"], EMPTY["predictions"], picks_of([]), performance,
                           EMPTY["signal_health_daily"], EMPTY["trained_models"], EMPTY["alerts"], DAY, **KW)  # fmt: skip
    assert (d.best_bets_model, d.champion_state) == (OTHER, "HEALTHY")
    public = af.build_model_health(performance, EMPTY["trained_models"], DAY, generated_at=GEN, models=MODELS)
    assert [m.model for m in public.models if m.champion] == [OTHER]


def test_dashboard_alias_alerts_and_newest_rows():
    cands = [cand("a", edge=8.0), cand("b", edge=6.5, rank=2), cand("c", edge=3.2, selected=False,
             rejected_by="edge_floor", observed_by=["model_direction_affinity"])]  # fmt: skip
    preds = [pred("a", "m_champ", CHAMPION), pred("b", "m_champ", CHAMPION), pred("c", "m_champ", CHAMPION, edge=3.2),
             pred("a", "m_other", OTHER, edge=1.0, rec="PASS")]  # fmt: skip
    performance = frame("model_performance_daily", [
        perf(CHAMPION, DAY - timedelta(days=2), "HEALTHY"),
        perf(CHAMPION, DAY - timedelta(days=1), "WATCH", hr_7d=0.5712),  # newest as of the day
        perf(CHAMPION, DAY + timedelta(days=1), "BLOCKED"),  # after the day: ignored
        perf(OTHER, DAY - timedelta(days=3), "DEGRADING"),
    ])  # fmt: skip
    registry = frame("trained_models", [
        {"week_start": DAY - timedelta(days=14), "model_id": "old", "family": CHAMPION, "loss": "MAE",
         "features": ["x"], "metrics": "{}"},
        {"week_start": DAY - timedelta(days=7), "model_id": "m_champ", "family": CHAMPION, "loss": "MAE",
         "train_start": date(2025, 6, 1), "train_end": DAY - timedelta(days=8), "features": ["x", "y", "z"],
         "metrics": json.dumps({"mae": 4.51234, "hr_edge3": 0.5567, "n_edge3": 120})},
        {"week_start": DAY + timedelta(days=7), "model_id": "future", "family": CHAMPION, "loss": "MAE"},
    ])  # fmt: skip
    alerts = frame("alerts", [
        {"alert_id": "a1", "raised_at": GEN - timedelta(hours=5), "recovered_at": GEN - timedelta(hours=1),
         "kind": "check", "message": "recovered before"},
        {"alert_id": "a2", "raised_at": GEN - timedelta(hours=5), "recovered_at": GEN + timedelta(hours=1),
         "kind": "check", "message": "recovered after"},
        {"alert_id": "a3", "raised_at": GEN - timedelta(hours=2), "recovered_at": None, "kind": "freshness"},
        {"alert_id": "a4", "raised_at": GEN + timedelta(minutes=1), "recovered_at": None, "kind": "later"},
        {"alert_id": "a5", "raised_at": GEN, "recovered_at": GEN, "kind": "same instant"},
    ])  # fmt: skip
    d = af.build_dashboard(frame("best_bets", cands), frame("predictions", preds), picks_of([]), performance,
                           EMPTY["signal_health_daily"], registry, alerts, DAY, **KW)  # fmt: skip
    assert d.today_picks == d.picks and [p.rank for p in d.picks] == [1, 2]
    assert [a.alert_id for a in d.open_alerts] == ["a2", "a3"]
    assert d.best_bets_model == CHAMPION and d.champion_state == "WATCH"
    champ = next(m for m in d.model_health if m.family == CHAMPION)
    assert (champ.model_id, champ.state, champ.hr_7d, champ.days_since_training, champ.features) == (
        "m_champ",
        "WATCH",
        57.1,
        7,
        3,
    )
    assert (champ.eval_mae, champ.eval_hr, champ.eval_n, champ.train_start) == (4.512, 55.7, 120, date(2025, 6, 1))
    other = next(m for m in d.model_health if m.family == OTHER)
    assert other.state == "DEGRADING" and other.model_id == f"m_{OTHER}" and other.days_since_training == 3
    assert len(d.model_health) == len(MODELS.families)
    cs = d.candidates_summary
    assert (cs.total, cs.over, cs.under, cs.edge_3_plus, cs.edge_5_plus, cs.selected, cs.rejected) == (3, 3, 0, 3, 2,
                                                                                                        2, 1)  # fmt: skip
    pm = {m.model_id: m for m in d.per_model}
    assert (pm["m_champ"].predictions, pm["m_champ"].recommended, pm["m_champ"].edge_3_plus, pm["m_champ"].edge_5_plus,
            pm["m_champ"].chosen, pm["m_champ"].selected, pm["m_champ"].max_edge) == (3, 3, 3, 2, 3, 2, 6.0)  # fmt: skip
    assert (pm["m_other"].recommended, pm["m_other"].chosen, pm["m_other"].selected) == (0, 0, 0)
    fs = {f.id: (f.mode, f.rejected, f.observed) for f in d.filter_summary}
    assert [f.id for f in d.filter_summary] == [f.id for f in SELECTION.filters]
    assert fs["edge_floor"] == ("enforce", 1, 0) and fs["model_direction_affinity"][2] == 1
    assert d.pipeline_summary.bottleneck is None and d.pipeline_summary.best_bets == 2


# ------------------------------------------------------------------------------- ultra gate


def _ultra_over(n_wins: int, n_losses: int) -> pl.DataFrame:
    rows = [pick(DAY - timedelta(days=1), "WIN", ultra=True, player=f"w{i}") for i in range(n_wins)]
    rows += [pick(DAY - timedelta(days=1), "LOSS", ultra=True, player=f"l{i}") for i in range(n_losses)]
    rows += [pick(DAY - timedelta(days=1), "LOSS", direction="UNDER", ultra=True, player="u")]  # UNDER: not counted
    return picks_of(rows)


def test_ultra_gate_exactly_at_n_and_hr():
    po = SELECTION.ultra.public_over
    wins = round(po.min_n * po.min_hr)
    assert wins == po.min_n * po.min_hr  # the config's N x HR is a whole number of wins
    g = af.ultra_gate(_ultra_over(wins, po.min_n - wins), DAY, SELECTION)
    assert (g.over_n, g.over_hr, g.required_n, g.required_hr, g.open) == (
        po.min_n,
        round(po.min_hr * 100, 1),
        po.min_n,
        round(po.min_hr * 100, 1),
        True,
    )
    assert not af.ultra_gate(_ultra_over(wins - 1, po.min_n - wins + 1), DAY, SELECTION).open  # HR just below
    assert not af.ultra_gate(_ultra_over(wins - 1, po.min_n - wins), DAY, SELECTION).open  # N - 1, HR above
    empty = af.ultra_gate(picks_of([]), DAY, SELECTION)
    assert (empty.over_n, empty.over_hr, empty.open) == (0, None, False)


# ------------------------------------------------------------------------------- signal best bets


def test_signal_best_bets_content():
    cands = [
        cand("a", edge=10.0, signals=("model_health", "high_edge")),
        cand("b", edge=7.0, rank=2, observed_by=["blacklist"], signals=("model_health",)),
        cand("c", edge=2.99, selected=False, rejected_by="blacklist"),
        cand("d", edge=3.0, selected=False, rejected_by="edge_floor", direction="UNDER"),
        cand("e", edge=5.0, selected=False, rejected_by="quality"),
    ]
    picks = picks_of([
        pick(DAY - timedelta(days=1), "WIN", player="a"),
        pick(DAY - timedelta(days=14), "LOSS", player="b"),  # inside the 14 days
        pick(DAY - timedelta(days=15), "WIN", player="c"),  # season only
        pick(DAY - timedelta(days=3), "PUSH", direction="UNDER", player="d"),
        pick(DAY, "WIN", player="e"),  # the day: not before it
    ])  # fmt: skip
    sh = frame("signal_health_daily", [
        {"game_date": DAY - timedelta(days=2), "name": "high_edge", "kind": "signal", "state": "active",
         "hr_7d": 0.4, "n_7d": 5, "hr_season": 0.5, "n_season": 10, "status": "HEALTHY", "regime": "NORMAL"},
        {"game_date": DAY - timedelta(days=1), "name": "high_edge", "kind": "signal", "state": "active",
         "hr_7d": 0.6666, "n_7d": 6, "hr_season": 0.55, "n_season": 11, "status": "HEALTHY", "regime": "HOT"},
    ])  # fmt: skip
    m = af.build_signal_best_bets(frame("best_bets", cands), picks, EMPTY["model_performance_daily"], sh, DAY, **KW)
    assert m.season == "2025-26" and m.total == 2 and [p.player_lookup for p in m.picks] == ["a", "b"]
    assert [(b.player_lookup, b.enforced) for b in m.blacklist] == [("b", False), ("c", True)]
    assert [b.count for b in m.edge_distribution] == [1, 1, 1, 1, 1]
    assert m.edge_distribution[-1].high is None
    dh = m.direction_health
    assert (dh.over.last_days.wins, dh.over.last_days.losses, dh.over.season.wins) == (1, 1, 2)
    assert (dh.under.last_days.pushes, dh.under.season.total) == (1, 1)
    sig = {s.name: s for s in m.signal_health}
    assert (sig["high_edge"].hr_7d, sig["high_edge"].regime) == (66.7, "HOT")
    evaluated = {s.signal: s.candidates for s in m.signals_evaluated}
    assert evaluated["high_edge"] == 4 and evaluated["model_health"] == 5 and evaluated["bench_under"] == 0
    assert list(evaluated) == list(signal_registry().active)
    assert not m.health_gate.active
    assert all(fm.state == af.NO_DATA for fm in m.model_health)


def test_health_gate_without_candidates_from_performance():
    performance = frame("model_performance_daily", [perf(CHAMPION, DAY - timedelta(days=1), "BLOCKED", hr_7d=0.4)])
    m = af.build_signal_best_bets(EMPTY["best_bets"], picks_of([]), performance, EMPTY["signal_health_daily"], DAY,
                                  **KW)  # fmt: skip
    assert m.health_gate.active and "BLOCKED" in m.health_gate.reason
    champ = next(x for x in m.model_health if x.champion)
    assert (champ.state, champ.hr_7d) == ("BLOCKED", 40.0)


# ------------------------------------------------------------------------------- model health (public)


def test_model_health_public_and_banner():
    assert not set(field_names(af.ModelHealthFile)) & ADMIN_ONLY_FIELDS
    performance = frame("model_performance_daily", [
        perf(CHAMPION, DAY - timedelta(days=1), "DEGRADING", hr_7d=0.53),
        perf(OTHER, DAY - timedelta(days=1), "HEALTHY"),
        perf(OTHER, date(2025, 4, 1), "BLOCKED"),  # last season
    ])  # fmt: skip
    m = af.build_model_health(performance, EMPTY["trained_models"], DAY, generated_at=GEN, models=MODELS)
    by = {x.model: x for x in m.models}
    assert by[CHAMPION].banner and m.banner and by[CHAMPION].picks_7d == 20
    assert not by[OTHER].banner and by[OTHER].description.startswith("Hitting")
    text = to_json_bytes(m).decode()
    for name in ADMIN_ONLY_FIELDS:
        assert f'"{name}"' not in text
    calm = af.build_model_health(frame("model_performance_daily", [perf(OTHER, DAY, "BLOCKED")]),
                                 EMPTY["trained_models"], DAY, generated_at=GEN, models=MODELS)  # fmt: skip
    assert not calm.banner and {x.model: x.banner for x in calm.models}[OTHER]


# ------------------------------------------------------------------------------- round trips


def _built(day_cands: list[dict], day_preds: list[dict], picks: pl.DataFrame):
    c, p = frame("best_bets", day_cands), frame("predictions", day_preds)
    e = EMPTY
    return [
        af.build_signal_best_bets(c, picks, e["model_performance_daily"], e["signal_health_daily"], DAY, **KW),
        af.build_dashboard(
            c,
            p,
            picks,
            e["model_performance_daily"],
            e["signal_health_daily"],
            e["trained_models"],
            e["alerts"],
            DAY,
            **KW,
        ),  # fmt: skip
        af.build_admin_picks(c, p, picks, DAY, **KW),
        af.build_model_health(e["model_performance_daily"], e["trained_models"], DAY, generated_at=GEN, models=MODELS),
    ]


CASES = {
    "empty": lambda: _built([], [], picks_of([])),
    "full": lambda: _built(
        [cand("a", edge=8.0, ultra=True), cand("b", edge=2.0, selected=False, rejected_by="edge_floor")],
        [pred("a", "m_champ", CHAMPION), pred("b", "m_champ", CHAMPION, edge=2.0)],
        picks_of([pick(DAY - timedelta(days=1), "WIN", ultra=True)]),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_round_trip_and_determinism(case):
    models = CASES[case]()
    if case == "empty":
        dash = models[1]
        assert dash.pipeline_summary.bottleneck == "no_models" and dash.picks == [] and dash.open_alerts == []
        assert models[2].candidates == [] and models[0].total == 0
        assert "No picks." in af.admin_picks_markdown(models[2])
    for m in models:
        assert type(m).model_validate_json(to_json_bytes(m)) == m
    assert [to_json_bytes(m) for m in models] == [to_json_bytes(m) for m in CASES[case]()]


def test_schema_groups():
    assert af.PUBLIC_SCHEMAS == (af.ModelHealthFile,)
    assert af.ADMIN_SCHEMAS == (af.SignalBestBets, af.AdminDashboard, af.AdminPicks)
    for schema in af.PUBLIC_SCHEMAS:
        assert not set(field_names(schema)) & ADMIN_ONLY_FIELDS


def test_admin_candidate_rows_are_validated():
    m = CASES["full"]()[2]
    row = dict(m.candidates[0])
    for bad in ({**row, "extra": 1}, {**row, "edge": -1.0}, {**row, "line": float("nan")}, {**row, "direction": "UP"}):
        with pytest.raises(ValueError):
            af.AdminPicks.model_validate({**m.model_dump(), "candidates": [bad]})


def _newest_reference(frame: pl.DataFrame, day: date, since: date | None = None) -> list[tuple]:
    """Per family the newest row with game_date in [since, day] (a tie: the later row), by family:
    the per-day polars formulation AsOf replaced."""
    rows = frame.with_row_index("_i").filter(pl.col("game_date") <= day)
    if since is not None:
        rows = rows.filter(pl.col("game_date") >= since)
    return rows.sort("game_date", "_i").group_by("family").last().sort("family").drop("_i").select(frame.columns).rows()


def test_as_of_matches_the_per_day_newest_rows_including_ties_gaps_and_the_season_floor():
    from datetime import date as d

    frame = pl.DataFrame(
        {
            "family": ["a", "a", "b", "a", "b", "c"],
            "game_date": [d(2025, 1, 1), d(2025, 1, 3), d(2025, 1, 2), d(2025, 1, 3), d(2025, 1, 6), None],
            "v": [1, 2, 3, 4, 5, 6],  # a's two rows of the 3rd: the later one (4) wins; c's undated row never
        }
    )
    days = [d(2024, 12, 31), d(2025, 1, 2), d(2025, 1, 3), d(2025, 1, 5), d(2025, 1, 6)]
    as_of = af.AsOf(frame, "family", days)
    for day in days:
        for at in (day, day - timedelta(days=1)):  # each day and the day before it
            for since in (None, d(2025, 1, 2)):
                got = [tuple(r.values()) for r in as_of.newest(at, since)]
                assert got == _newest_reference(frame, at, since), (at, since)
    assert [r["v"] for r in as_of.newest(d(2025, 1, 5))] == [4, 3]
    assert as_of.newest(d(2024, 12, 31)) == [] and as_of.columns == tuple(frame.columns)


def test_a_runs_health_rows_give_every_day_the_champion_and_rows_of_the_whole_frame():
    """The run's AsOf hands each day what the whole frame gives that day alone: the champion chosen
    by evidence (next_champion of the rows before the day, even when every family also has a row ON
    the day), the dashboard's model health and the public file's champion flag."""
    d1, d2, d3 = DAY - timedelta(days=2), DAY - timedelta(days=1), DAY
    performance = frame("model_performance_daily", [
        perf(f, d, "HEALTHY") | {"next_champion": OTHER if d >= d2 else CHAMPION}
        for f in (CHAMPION, OTHER) for d in (d1, d2, d3)
    ])  # fmt: skip
    run = af.AsOf(performance, "family", [d1, d2, d3])
    for day in (d1, d2, d3):
        assert af.day_champion(run, day, CHAMPION) == af.day_champion(performance, day, CHAMPION)
        whole = af.build_model_health(performance, EMPTY["trained_models"], day, generated_at=GEN, models=MODELS)
        assert af.build_model_health(run, EMPTY["trained_models"], day, generated_at=GEN, models=MODELS) == whole
        dash = [af.build_dashboard(EMPTY["best_bets"], EMPTY["predictions"], picks_of([]), p, EMPTY["signal_health_daily"],
                                   EMPTY["trained_models"], EMPTY["alerts"], day, **KW) for p in (run, performance)]  # fmt: skip
        assert dash[0] == dash[1]
        assert [m.model for m in whole.models if m.champion] == [dash[0].best_bets_model]
    assert af.day_champion(run, d3, CHAMPION) == OTHER  # every family has a row on d3 too


def test_day_figures_of_a_run_equal_each_day_alone():
    """The run-level DayFigures (admin picks, candidate counts, per-model rows, the families that
    predicted) equal each day's computed from that day's frames alone, a day without rows included."""
    d1, d2, d3 = DAY - timedelta(days=1), DAY, DAY + timedelta(days=1)
    cands = [cand("a", day=d1, edge=8.0, ultra=True), cand("b", day=d1, edge=2.0, selected=False,
             rejected_by="edge_floor"), cand("c", day=d2, edge=6.0), cand("d", day=d2, edge=5.5, rank=2)]  # fmt: skip
    preds = [pred("a", "m_champ", CHAMPION, day=d1), pred("b", "m_champ", CHAMPION, day=d1, edge=2.0),
             pred("a", "m_other", OTHER, day=d1, edge=1.0, rec="PASS"), pred("c", "m_champ", CHAMPION, day=d2),
             pred("d", "m_other", OTHER, day=d2, edge=5.5)]  # fmt: skip
    c, p = frame("best_bets", cands), frame("predictions", preds)
    run = af.day_figures(c, p, [d1, d2, d3], SELECTION)
    for day in (d1, d2, d3):
        alone = af.day_figures(c.filter(pl.col("game_date") == day), p.filter(pl.col("game_date") == day), [day],
                               SELECTION)[day]  # fmt: skip
        assert run[day] == alone, day
    assert [x.rank for x in run[d2].picks] == [1, 2] and run[d3].picks == [] and run[d3].counts["total"] == 0
    assert run[d1].predicted == {CHAMPION, OTHER}
    assert [m.family for m in run[d1].per_model] == sorted([CHAMPION, OTHER])  # by family, then model


def _polars_records(picks: pl.DataFrame, day: date, window: int) -> dict[str, tuple[int, int, int]]:
    """The reference: each group's W / L / P of the season scope before `day` as polars predicates
    (the per-day formulation the run-level PickHistory replaced)."""
    first = af.season_scope(day)[1]
    before = pl.col("game_date").is_between(first, day - timedelta(days=1))
    ultra, over, under = pl.col("ultra").fill_null(False), pl.col("direction") == "OVER", pl.col("direction") == "UNDER"
    recent = pl.col("game_date") >= day - timedelta(days=window)
    groups = {"ultra": ultra, "ultra_over": ultra & over, "ultra_under": ultra & under, "over_recent": over & recent,
              "over": over, "under_recent": under & recent, "under": under}  # fmt: skip
    return {
        name: tuple(picks.select((before & g & (pl.col("result") == r)).fill_null(False).sum()).item()
                    for r in ("WIN", "LOSS", "PUSH"))
        for name, g in groups.items()
    }  # fmt: skip


def test_pick_history_equals_the_per_day_records():
    """One PickHistory for a run gives every day the records the per-day polars predicates give:
    across a season boundary, a day without picks, a day with only pending / VOID picks, NULL
    direction / ultra, the day itself never counted."""
    rows = [
        pick(date(2025, 4, 12), "WIN", ultra=True, player="old"),  # last season
        pick(date(2025, 10, 21), "WIN", ultra=True, player="a"), pick(date(2025, 10, 21), "LOSS", player="b"),
        pick(date(2025, 10, 23), "PUSH", direction="UNDER", ultra=True, player="c"),
        pick(date(2025, 10, 23), None, player="d"), pick(date(2025, 10, 25), "VOID", ultra=True, player="e"),
        pick(date(2025, 11, 1), "LOSS", direction="UNDER", ultra=True, player="f"),
        {**pick(date(2025, 11, 2), "WIN", player="g"), "ultra": None},
        {**pick(date(2025, 11, 3), "WIN", player="h"), "direction": None},
        pick(date(2025, 11, 9), "WIN", ultra=True, player="i"), pick(date(2025, 11, 10), "LOSS", player="j"),
    ]  # fmt: skip
    picks = picks_of(rows)
    history = af.PickHistory(picks)
    days = [date(2025, 4, 13), date(2025, 10, 20), date(2025, 10, 21), date(2025, 10, 22), date(2025, 10, 24),
            date(2025, 10, 26), date(2025, 11, 8), DAY, date(2025, 11, 11), date(2025, 12, 1)]  # fmt: skip
    groups = {"ultra": af._ultra, "ultra_over": af._ultra_over, "ultra_under": af._ultra_under}
    for day in days:
        expected = _polars_records(picks, day, 14)
        got = af.pick_records(history, day, {**groups, **af._direction_groups(day, 14)})
        assert {k: (r.wins, r.losses, r.pushes) for k, r in got.items()} == expected, day
        assert af.ultra_records(history, day) == af.ultra_records(picks, day)
        assert af.ultra_gate(history, day, SELECTION) == af.ultra_gate(picks, day, SELECTION)
    assert af.pick_records(history, date(2025, 4, 13), {"all": lambda *_: True})["all"].wins == 1  # 2024-25's own


def test_candidate_rows_encoded_by_polars_are_byte_identical_to_the_dict_encoding():
    cands = [cand("a", edge=6.0, model_id="m_champ"), cand("c", edge=6.0, selected=False, quality=None)]
    preds = [pred("a", "m_champ", CHAMPION), pred("a", "m_other", OTHER, edge=4.25),
             pred("c", "m_champ", CHAMPION, edge=1 / 3), pred("c", "m_q", OTHER, quarantined=True, rec="PASS")]  # fmt: skip
    c, p = frame("best_bets", cands), frame("predictions", preds)
    head, rows = af.admin_picks_head(c, p, picks_of([]), DAY, **KW)
    assert head.candidates == [] and rows.height == 4
    whole = af.build_admin_picks(c, p, picks_of([]), DAY, **KW)
    data = to_json_bytes(head, {"candidates": rows})
    assert data == to_json_bytes(whole)
    assert af.AdminPicks.model_validate_json(data) == whole
    # odd values: unicode and quotes, NaN / inf (null either way), a third, ints
    odd = pl.DataFrame({"s": ['é "q" \\ \n 💥', None], "f": [float("nan"), 1 / 3], "g": [float("inf"), 1e16],
                        "i": [1, None], "b": [True, None]})  # fmt: skip

    class Odd(BaseModel):
        model_config = ConfigDict(ser_json_inf_nan="null")
        rows: list[dict]

    assert to_json_bytes(Odd(rows=[]), {"rows": odd}) == to_json_bytes(Odd(rows=odd.to_dicts()))


def test_rows_as_frames_need_an_empty_field_and_plain_column_types():
    class Two(BaseModel):
        rows: list[dict]
        other: list[dict] = []

    with pytest.raises(ValueError, match="need the field empty"):
        to_json_bytes(Two(rows=[{"x": 1}]), {"rows": pl.DataFrame({"x": [2]})})
    with pytest.raises(ValueError, match="no byte-identical polars encoding"):
        to_json_bytes(Two(rows=[]), {"rows": pl.DataFrame({"d": [DAY]})})
