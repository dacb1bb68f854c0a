"""Best bets (`lib/selection.py`, config/filters.yaml) on hand-built candidates: candidate choice
and tie order, the consensus annotation, the health gate, every filter at its exact threshold
(both sides), observe vs enforce, ranking and caps, the ultra rules and the public-OVER gate, and
angles that quote only figures computed from graded history (with a planted literal caught)."""

import copy
from datetime import date, timedelta

import polars as pl
import pytest
import yaml
from pydantic import ValidationError

from nba_props.lib import selection
from nba_props.lib.models.registry import load_models_config

DAY = date(2025, 12, 10)  # 2025-26 season (opened 2025-10-21)
MODELS = load_models_config()
CHAMPION = MODELS.champion  # v9_mae
FAMILIES = selection.family_table(MODELS.families)
RAW = yaml.safe_load(selection.FILTERS_CONFIG_PATH.read_text())
CONFIG = selection.SelectionConfig.model_validate(RAW)
FEATURE_SET = {f.id: str(f.feature_set) for f in MODELS.families}


def config_with(change) -> selection.SelectionConfig:
    raw = copy.deepcopy(RAW)
    change(raw)
    return selection.SelectionConfig.model_validate(raw)


def set_filter(raw: dict, filter_id: str, **values) -> None:
    next(f for f in raw["filters"] if f["id"] == filter_id).update(values)


def pred(player="p1", family="v12_mae", edge=5.5, direction="OVER", *, line=20.5, rec=None, quarantined=False,
         confidence=0.5, day=DAY, game="g1", result=None, model=None) -> dict:  # fmt: skip
    predicted = line + edge if direction == "OVER" else line - edge
    return {
        "game_date": day,
        "game_id": game,
        "player_lookup": player,
        "model_id": model or f"{family}_m",
        "family": family,
        "predicted_points": predicted,
        "line": line,
        "market_type": "sportsbook",
        "edge": edge,
        "direction": direction,
        "p_over": 0.5 + confidence / 2 if direction == "OVER" else 0.5 - confidence / 2,
        "confidence": confidence,
        "recommendation": rec or direction,
        "quarantined": quarantined,
        "result": result,
    }


def frame(rows: list[dict], schema: pl.Schema = selection.HISTORY_COLUMNS) -> pl.DataFrame:
    return pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema)


def tags_for(rows: list[dict], signals=("model_health", "high_edge")) -> pl.DataFrame:
    """Active tags `signals` on every prediction of `rows`."""
    out = [
        {
            "game_id": r["game_id"],
            "player_lookup": r["player_lookup"],
            "model_id": r["model_id"],
            "signal": s,
            "state": "active",
        }  # fmt: skip
        for r in rows
        for s in signals
    ]
    return pl.DataFrame(out, schema=selection.SIGNAL_TAGS_CONTRACT)


def lines_for(rows: list[dict], **overrides) -> pl.DataFrame:
    out = {}
    for r in rows:
        out[(r["game_id"], r["player_lookup"])] = {
            "game_id": r["game_id"],
            "player_lookup": r["player_lookup"],
            "player_name": r["player_lookup"].upper(),
            "team": overrides.get("team", "AAA"),
            "opponent": "BBB",
            "line_book": "book",
            "over_price": -110,
            "under_price": -105,
            "prop_line_delta": overrides.get("prop_line_delta", 0.0),
        }
    return pl.DataFrame(list(out.values())).pipe(lambda f: selection._take(f, selection.LINE_COLUMNS))


def features_for(rows: list[dict], quality=90.0, games_vs=1.0, streak=0.0) -> pl.DataFrame:
    keys = sorted({(r["game_id"], r["player_lookup"]) for r in rows})
    return pl.DataFrame(
        {
            "game_id": [k[0] for k in keys],
            "player_lookup": [k[1] for k in keys],
            "feature_quality_score": [quality] * len(keys),
            "games_vs_opponent_season": [games_vs] * len(keys),
            "negative_plus_minus_streak": [streak] * len(keys),
        },
        schema=selection.FEATURE_COLUMNS,
    )


EMPTY_HEALTH = pl.DataFrame(schema=selection.HEALTH_COLUMNS)
SIGNAL_HEALTH_SCHEMA = {"game_date": pl.Date, "name": pl.Utf8, "kind": pl.Utf8, "hr_season": pl.Float64,
                        "n_season": pl.Int64}  # fmt: skip
EMPTY_SIGNAL_HEALTH = pl.DataFrame(schema=SIGNAL_HEALTH_SCHEMA)


def run(rows, *, tags=None, lines=None, features=None, health=None, signal_health=None, history=(), config=CONFIG,
        combos=(), signals=("model_health", "high_edge"), start=DAY, end=DAY, champion=CHAMPION):  # fmt: skip
    preds = frame(rows, selection.PREDICTION_COLUMNS)
    out, counts, figures, _ = selection.best_bets(
        preds,
        tags if tags is not None else tags_for(rows, signals),
        lines if lines is not None else lines_for(rows),
        features if features is not None else features_for(rows),
        health if health is not None else EMPTY_HEALTH,
        signal_health if signal_health is not None else EMPTY_SIGNAL_HEALTH,
        frame(list(history)),
        start=start, end=end, champion=champion, families=FAMILIES, config=config, combos=combos,
    )  # fmt: skip
    return out, counts, figures


def one(rows, **kw) -> dict:
    out, _, _ = run(rows, **kw)
    assert out.height == 1
    return out.row(0, named=True)


def graded(n: int, wins: int, *, family="v12_mae", direction="OVER", edge=5.5, player=None, line=20.5,
           before=DAY, tag="h") -> list[dict]:  # fmt: skip
    """n graded predictions (wins first) on the n days before `before`, one player-game each."""
    return [
        pred(
            player or f"{tag}{i}",
            family,
            edge,
            direction,
            line=line,
            day=before - timedelta(days=1 + i % 40),
            game=f"{tag}g{i}",
            result="WIN" if i < wins else "LOSS",
        )  # fmt: skip
        for i in range(n)
    ]


# ---------------------------------------------------------------------------------------------
# candidates


def test_the_candidate_is_the_recommended_lined_unquarantined_prediction_with_the_largest_edge():
    rows = [
        pred(family="v12_mae", edge=5.5),
        pred(family="v12_noveg_mae", edge=9.0, quarantined=True),  # quarantined: never
        pred(family="v12_noveg_q45", edge=8.0, rec="PASS"),  # not recommended
        pred(family="v12_q43", edge=6.0, direction="UNDER"),  # the largest edge left
        pred(family="v9_mae", edge=4.0),
    ]
    r = one(rows)
    assert (r["family"], r["model_id"], r["direction"], r["feature_set"]) == ("v12_q43", "v12_q43_m", "UNDER", "v12")
    # other players' rows are their own candidates; a row without a line is none
    no_line = pred("p2", edge=0.0, rec="NO_LINE") | {"line": None, "edge": None}
    out, _, _ = run([*rows, no_line])
    assert out.get_column("player_lookup").to_list() == ["p1"]


def test_an_edge_tie_takes_the_family_order_of_models_yaml():
    order = [f.id for f in MODELS.families]
    first, later = order[0], order[2]
    assert one([pred(family=later, edge=6.0), pred(family=first, edge=6.0)])["family"] == first
    assert one([pred(family=later, edge=6.0 + 1e-6), pred(family=first, edge=6.0)])["family"] == later


def test_agreement_champion_edge_conflict_and_the_consensus_annotation():
    rows = [
        pred(family="v12_mae", edge=6.0, direction="UNDER"),
        pred(family="v12_noveg_mae", edge=5.0, direction="UNDER"),  # agrees at exactly 5
        pred(family="v12_noveg_q43", edge=4.99, direction="UNDER"),  # a consensus vote, not agreeing
        pred(family="v12_q43", edge=3.0, direction="UNDER"),  # a vote at exactly 3
        pred(family="v12_noveg_q45", edge=2.99, direction="UNDER"),  # below the consensus edge
        pred(family="v9_mae", edge=3.5, direction="OVER"),  # the champion, against: a conflict
    ]
    r = one(rows)
    assert r["models_agreeing"] == 2
    assert r["consensus_votes"] == 4
    assert r["consensus_feature_sets"] == 2  # v12 and v12_noveg
    assert r["quantile_under_consensus"] is True  # two quantile UNDER votes at edge >= 3
    assert r["champion_edge"] == pytest.approx(-3.5)
    assert r["direction_conflict"] is True
    # one quantile vote: no quantile consensus; the champion on the same side: a positive edge
    rows2 = [rows[0], rows[3], pred(family="v9_mae", edge=3.5, direction="UNDER")]
    r2 = one(rows2)
    assert (r2["quantile_under_consensus"], r2["champion_edge"], r2["direction_conflict"]) == (False, 3.5, False)
    assert (r2["consensus_votes"], r2["consensus_feature_sets"], r2["models_agreeing"]) == (3, 2, 1)


# ---------------------------------------------------------------------------------------------
# the health gate


def health_rows(state: str, day: date, family: str = CHAMPION) -> pl.DataFrame:
    return pl.DataFrame({"game_date": [day], "family": [family], "state": [state]}, schema=selection.HEALTH_COLUMNS)


def test_the_champion_blocked_the_day_before_closes_the_day():
    rows = [pred()]
    r = one(rows, health=health_rows("BLOCKED", DAY - timedelta(days=1)))
    assert (r["health_gate_active"], r["selected"], r["rank"]) == (True, False, None)
    assert r["rejected_by"] is None
    assert CHAMPION in r["health_gate_reason"] and "BLOCKED" in r["health_gate_reason"]
    assert str(DAY - timedelta(days=1)) in r["health_gate_reason"]
    # the day's own row (not known before its games), another family, or a DEGRADING champion: open
    for health in (health_rows("BLOCKED", DAY), health_rows("BLOCKED", DAY - timedelta(days=1), "v12_mae"),
                   health_rows("DEGRADING", DAY - timedelta(days=1))):  # fmt: skip
        r = one(rows, health=health)
        assert (r["health_gate_active"], r["selected"], r["health_gate_reason"]) == (False, True, None)


def test_the_champion_chosen_by_evidence_sets_the_gate_the_champion_edge_and_the_blacklist():
    """The day's champion (lib/champion.py: next_champion of the day before) is v12_mae, not the
    configured v9_mae: the gate reads v12_mae's state, champion_edge is v12_mae's edge, the
    blacklist reads v12_mae's record of the player."""
    from nba_props.lib import champion

    before = DAY - timedelta(days=1)
    perf = pl.DataFrame({"game_date": [before] * 2, "family": [CHAMPION, "v12_mae"], "state": ["BLOCKED", "HEALTHY"],
                         "next_champion": ["v12_mae"] * 2})  # fmt: skip
    chosen = champion.champions_for_days(perf, [DAY], CHAMPION)
    assert chosen.row(0) == (DAY, "v12_mae") and CHAMPION != "v12_mae"
    rows = [pred(family="v12_noveg_mae", edge=6.0), pred(family="v12_mae", edge=4.0, direction="UNDER"),
            pred(family=CHAMPION, edge=3.0)]  # fmt: skip
    r = one(rows, health=perf, champion=chosen)
    # v9_mae BLOCKED the day before no longer closes the day: v12_mae is the champion
    assert (r["health_gate_active"], r["selected"], r["champion_edge"]) == (False, True, pytest.approx(-4.0))
    r = one(rows, health=perf.with_columns(pl.lit("BLOCKED").alias("state")), champion=chosen)
    assert r["health_gate_active"] and r["health_gate_reason"].startswith("champion v12_mae was BLOCKED on")
    # the blacklist: v12_mae's 3-5 record of the player blocks; the seed's would not have
    record = graded(8, 3, family="v12_mae", player="p1", edge=3.0, tag="bl")
    assert verdict(rows, history=record, champion=chosen)[:2] == (False, "blacklist")
    assert verdict(rows, history=record)[:2] == (True, None)


# ---------------------------------------------------------------------------------------------
# filters at their exact thresholds (both sides)


def verdict(rows, **kw) -> tuple[bool, str | None, list[str]]:
    r = one(rows, **kw)
    return r["selected"], r["rejected_by"], r["observed_by"]


def test_the_baseline_candidate_passes_every_filter():
    assert verdict([pred()]) == (True, None, [])


@pytest.mark.parametrize(
    ("filter_id", "rejected", "passed"),
    [
        ("edge_floor", dict(rows=[pred(edge=4.99)]), dict(rows=[pred(edge=5.0)])),
        (
            "under_edge_non_v12",
            dict(rows=[pred(family="v9_mae", edge=6.99, direction="UNDER")]),
            dict(rows=[pred(family="v9_mae", edge=7.0, direction="UNDER")]),
        ),
        ("familiar_matchup", dict(features=dict(games_vs=6.0)), dict(features=dict(games_vs=5.0))),
        ("quality", dict(features=dict(quality=84.99)), dict(features=dict(quality=85.0))),
        (
            "under_low_line",
            dict(rows=[pred(direction="UNDER", line=11.5, edge=6.0)]),
            dict(rows=[pred(direction="UNDER", line=12.0, edge=6.0)]),
        ),
        ("under_line_delta", dict(rows=[pred(direction="UNDER")], lines=dict(prop_line_delta=2.0)),
         dict(rows=[pred(direction="UNDER")], lines=dict(prop_line_delta=1.99))),
        ("under_line_delta", dict(rows=[pred(direction="UNDER")], lines=dict(prop_line_delta=-2.0)),
         dict(rows=[pred(direction="UNDER")], lines=dict(prop_line_delta=-1.99))),
        ("under_negative_plus_minus", dict(rows=[pred(direction="UNDER")], features=dict(streak=3.0)),
         dict(rows=[pred(direction="UNDER")], features=dict(streak=2.0))),
        ("min_signals", dict(signals=("model_health",)), dict(signals=("model_health", "high_edge"))),
        (
            "confidence_floor",
            dict(rows=[pred(family="v12_noveg_q43", confidence=0.0999)]),
            dict(rows=[pred(family="v12_noveg_q43", confidence=0.10)]),
        ),
        (
            "anti_pattern",
            dict(signals=("model_health", "a", "b"), combos=(("a", "b"),)),
            dict(signals=("model_health", "a", "c"), combos=(("a", "b"),)),
        ),
    ],
)  # fmt: skip
def test_each_filter_at_its_threshold(filter_id, rejected, passed):
    def go(case):
        case = dict(case)
        rows = case.pop("rows", [pred()])
        kw = {}
        if "features" in case:
            kw["features"] = features_for(rows, **case.pop("features"))
        if "lines" in case:
            kw["lines"] = lines_for(rows, **case.pop("lines"))
        return verdict(rows, **kw, **case)

    assert go(rejected) == (False, filter_id, [])
    assert go(passed) == (True, None, [])


def test_a_null_input_never_fires():
    rows = [pred(direction="UNDER")]
    features = features_for(rows).with_columns(
        pl.lit(None, dtype=pl.Float64).alias(c)
        for c in ("feature_quality_score", "games_vs_opponent_season", "negative_plus_minus_streak")
    )
    assert verdict(rows, features=features, lines=lines_for(rows, prop_line_delta=None)) == (True, None, [])


def test_the_blacklist_counts_the_champions_season_picks_of_the_player_before_the_day():
    def champion_record(n, wins, **kw):
        return graded(n, wins, family=CHAMPION, player="p1", edge=3.0, tag="bl", **kw)

    assert verdict([pred()], history=champion_record(8, 3)) == (False, "blacklist", [])  # 37.5% over 8
    assert verdict([pred()], history=champion_record(7, 2)) == (True, None, [])  # 28.6% but only 7
    assert verdict([pred()], history=champion_record(10, 4)) == (True, None, [])  # exactly 40%: not below
    # the day's own results, an edge below 3, a previous season or another family do not count
    own_day = [r | {"game_date": DAY} for r in champion_record(8, 0)]
    assert verdict([pred()], history=own_day) == (True, None, [])
    small = [r | {"edge": 2.99} for r in champion_record(8, 0)]
    assert verdict([pred()], history=small) == (True, None, [])
    last_season = [r | {"game_date": date(2025, 4, 1)} for r in champion_record(8, 0)]
    assert verdict([pred()], history=last_season) == (True, None, [])
    other = graded(8, 0, family="v12_mae", player="p1", edge=3.0, tag="bl")
    assert verdict([pred()], history=other) == (True, None, [])


def test_model_direction_affinity_observes_without_rejecting():
    # graded v12_mae OVER candidates this season: 30 at 14 wins (46.7% < 50%) -> would block
    assert verdict([pred()], history=graded(30, 14)) == (True, None, ["model_direction_affinity"])
    assert verdict([pred()], history=graded(29, 10)) == (True, None, [])  # fewer than 30
    assert verdict([pred()], history=graded(30, 15)) == (True, None, [])  # exactly 50%
    enforced = config_with(lambda raw: set_filter(raw, "model_direction_affinity", mode="enforce"))
    assert verdict([pred()], history=graded(30, 14), config=enforced) == (False, "model_direction_affinity", [])


def test_observe_mode_records_and_warns_enforce_rejects_and_order_decides():
    rows = [pred()]
    observe = config_with(lambda raw: set_filter(raw, "quality", mode="observe"))
    r = one(rows, features=features_for(rows, quality=80.0), config=observe)
    assert (r["selected"], r["rejected_by"], r["observed_by"]) == (True, None, ["quality"])
    label = observe.filter("quality").label
    assert any(label in a for a in r["angles"])
    # two enforcing filters: the first in the YAML's order is named
    r = one(rows, features=features_for(rows, quality=80.0), signals=("model_health",))
    assert (r["selected"], r["rejected_by"]) == (False, "quality")
    _, counts, _ = run(rows, features=features_for(rows, quality=80.0), signals=("model_health",))
    by = {c["filter"]: c for c in counts.iter_rows(named=True)}
    assert (by["quality"]["rejected"], by["quality"]["would_block"]) == (1, 1)
    assert (by["min_signals"]["rejected"], by["min_signals"]["would_block"]) == (0, 1)
    assert counts.get_column("filter").to_list() == list(selection.FILTER_ORDER)


def test_the_yaml_lists_every_filter_in_the_issues_order():
    assert tuple(f.id for f in CONFIG.filters) == selection.FILTER_ORDER
    assert CONFIG.filter("model_direction_affinity").mode == "observe"
    with pytest.raises(ValidationError):
        config_with(lambda raw: raw["filters"].reverse())


# ---------------------------------------------------------------------------------------------
# ranking and caps


def slate() -> list[dict]:
    return [
        pred("a", edge=5.5, game="g1"),
        pred("b", edge=7.0, game="g1"),
        pred("c", edge=6.0, game="g2"),
        pred("d", edge=6.0, game="g2", confidence=0.6),  # same edge: higher confidence first
        pred("e", edge=4.0, game="g2"),  # below the floor
    ]


def test_ranking_by_edge_with_deterministic_ties():
    out, _, _ = run(slate())
    ranked = out.filter(pl.col("selected")).sort("rank")
    assert ranked.get_column("player_lookup").to_list() == ["b", "d", "c", "a"]
    assert ranked.get_column("rank").to_list() == [1, 2, 3, 4]
    assert out.filter(pl.col("player_lookup") == "e").row(0, named=True)["rank"] is None
    assert selection.invalid_ranks(out).height == 0


def test_caps_when_enabled():
    rows = slate()
    teams = lines_for(rows).with_columns(
        pl.when(pl.col("player_lookup").is_in(["a", "b"])).then(pl.lit("AAA")).otherwise(pl.lit("CCC")).alias("team")
    )

    def picked(caps):
        out, _, _ = run(rows, lines=teams, config=config_with(lambda raw: raw["caps"].update(caps)))
        return out.filter(pl.col("selected")).sort("rank").get_column("player_lookup").to_list(), out

    assert picked({"per_day": 2})[0] == ["b", "d"]
    assert picked({"per_team": 1})[0] == ["b", "d"]
    assert picked({"per_game": 1})[0] == ["b", "d"]
    names, out = picked({"per_game": 1, "per_day": 1})
    assert names == ["b"]
    capped = out.filter(pl.col("player_lookup") == "d").row(0, named=True)
    assert (capped["selected"], capped["rejected_by"], capped["rank"]) == (False, None, None)
    assert not CONFIG.caps.enabled  # off by default


# ---------------------------------------------------------------------------------------------
# ultra


@pytest.mark.parametrize(
    ("row", "rule"),
    [
        (pred(family="v12_mae", edge=6.0, direction="UNDER"), "v12_edge_6"),
        (pred(family="v12_noveg_mae", edge=5.99, direction="UNDER"), "v12_edge_4_5"),
        (pred(family="v12_mae", edge=5.0, direction="OVER"), "v12_over_edge_5"),
        (pred(family="v12_mae", edge=4.99, direction="OVER"), "v12_edge_4_5"),
        (pred(family="v12_mae", edge=4.5, direction="UNDER"), "v12_edge_4_5"),
        (pred(family="v12_mae", edge=4.49, direction="UNDER"), None),
        (pred(family="v9_mae", edge=9.0, direction="OVER"), None),  # not the v12 family
    ],
)
def test_ultra_rules(row, rule):
    r = one([row])
    assert (r["ultra_rule"], r["ultra"]) == (rule, rule is not None)


@pytest.mark.parametrize(
    ("n", "wins", "public"),
    [(50, 40, True), (49, 40, False), (1000, 800, True), (1000, 799, False)],  # 80.0% / 81.6% / 80.0% / 79.9%
)
def test_an_ultra_over_is_public_only_after_enough_graded_ultra_overs(n, wins, public):
    history = graded(n, wins, family="v12_mae", direction="OVER", edge=6.0, tag="u")
    r = one([pred(edge=6.0)], history=history)
    assert (r["ultra"], r["selected"], r["ultra_public"]) == (True, True, public)
    under = one([pred(edge=6.0, direction="UNDER")], history=history)  # an ultra UNDER is public at once
    assert under["ultra_public"] is True


# ---------------------------------------------------------------------------------------------
# angles


def test_angles_quote_only_figures_computed_from_graded_history():
    history = [
        *graded(20, 13, family="v12_mae", direction="OVER", edge=7.5, tag="u"),  # ultra, high conviction, mid tier
        *graded(12, 3, family="v12_mae", direction="UNDER", edge=3.5, tag="d", line=14.5),  # low tier UNDER
    ]
    signal_health = pl.DataFrame(
        {"game_date": [DAY - timedelta(days=1)] * 2 + [DAY - timedelta(days=2)], "name": ["high_edge", "model_health",
         "high_edge"], "kind": ["signal"] * 3, "hr_season": [0.625, 0.55, 0.99], "n_season": [80, 300, 5]},
        schema=SIGNAL_HEALTH_SCHEMA,
    )  # fmt: skip
    r = one([pred(edge=7.5)], history=history, signal_health=signal_health)
    # hand-computed: the 20 ultra / edge-7.5 OVER candidates: 13 wins -> 65.0%; the 20 OVER on mid lines too
    assert r["angles"] == [
        "Ultra (top edge): 65.0% live hit rate this season (N=20)",
        "High conviction: edges this large hit 65.0% this season (N=20)",
        "OVER on mid lines: 65.0% this season (N=20)",
        "high_edge: 62.5% this season (N=80)",  # X - 1's signal health; model_health skipped
    ]
    out, _, figures = run([pred(edge=7.5)], history=history, signal_health=signal_health)
    assert figures.height == 4
    assert selection.unexplained_angle_numbers(figures).height == 0
    # an UNDER on a low line after a cold UNDER run: tier figure and the direction-health warning
    r = one([pred(family="v12_mae", edge=5.5, direction="UNDER", line=14.5)], history=history)
    assert r["angles"][0] == "Ultra (strong edge): 65.0% live hit rate this season (N=20)"  # every ultra rule
    # a record below break-even (52.4%) is a caution, never a reason for the pick; 65% is support
    assert "Caution, below break-even: UNDER on low lines: 25.0% this season (N=12)" in r["angles"]
    assert "Ultra (strong edge): 65.0% live hit rate this season (N=20)" in r["angles"]
    assert not any(a.startswith("Warning") for a in r["angles"])  # 12 < the warning's min N of 20
    # without graded history: no number at all
    assert one([pred(edge=7.5)])["angles"] == [
        "Ultra (top edge): too few graded ultra picks this season to quote a hit rate"
    ]


def test_the_direction_health_warning_uses_the_recent_window_only():
    recent = graded(20, 8, direction="UNDER", edge=3.5, tag="r")  # within 14 days? spread over 40 days
    recent = [r | {"game_date": DAY - timedelta(days=1 + i % 14)} for i, r in enumerate(recent)]
    r = one([pred(direction="UNDER", edge=6.0)], history=recent)
    assert r["angles"][-1] == "Warning: UNDER picks are running cold lately, 40.0% (N=20)"
    older = [r | {"game_date": DAY - timedelta(days=15)} for r in recent]
    assert not any("cold lately" in a for a in one([pred(direction="UNDER", edge=6.0)], history=older)["angles"])


def test_a_planted_literal_is_caught():
    history = graded(20, 13, family="v12_mae", direction="OVER", edge=7.5, tag="u")
    _, _, figures = run([pred(edge=7.5)], history=history)
    assert selection.unexplained_angle_numbers(figures).height == 0
    planted = figures.with_columns(pl.col("angle").str.replace(r"\(N=", "hits 99% (N="))
    bad = selection.unexplained_angle_numbers(planted)
    assert bad.height == figures.height and set(bad.get_column("unexplained")) == {"99"}
    # a digit in a YAML text is refused at load
    with pytest.raises(ValidationError, match="digit"):
        config_with(lambda raw: raw["angles"]["templates"].update(ultra="Ultra: 80% when edge >= 6 ({hr}%, N={n})"))
    with pytest.raises(ValidationError, match="digit"):
        config_with(lambda raw: set_filter(raw, "quality", label="quality below 85"))


def test_at_most_five_angles_in_order():
    history = [
        *graded(20, 13, family="v12_mae", direction="OVER", edge=7.5, tag="u"),
        *[r | {"game_date": DAY - timedelta(days=1 + i % 14)} for i, r in
          enumerate(graded(20, 5, family="v12_noveg_mae", direction="OVER", edge=3.5, tag="c"))],
    ]  # fmt: skip
    rows = [pred(edge=7.5), pred(family="v12_noveg_mae", edge=7.0), pred(family="v12_q43", edge=6.5)]
    signal_health = pl.DataFrame(
        {"game_date": [DAY - timedelta(days=1)] * 2, "name": ["high_edge", "s2"], "kind": ["signal"] * 2,
         "hr_season": [0.6, 0.7], "n_season": [40, 50]}, schema=SIGNAL_HEALTH_SCHEMA,
    )  # fmt: skip
    out, _, figures = run(
        rows, history=history, signal_health=signal_health, signals=("model_health", "high_edge", "s2")
    )
    angles = out.row(0, named=True)["angles"]
    assert len(angles) == 5
    assert angles[0].startswith("Ultra") and angles[1].startswith("High conviction")
    assert angles[3] == "s2: 70.0% this season (N=50)"  # signals by hit rate
    assert selection.unexplained_angle_numbers(figures).height == 0


# ---------------------------------------------------------------------------------------------
# the asset's audits fail on planted faults


def test_the_audits_catch_planted_faults():
    out, _, _ = run(slate())
    assert selection.invalid_ranks(out).height == 0
    assert selection.gate_violations(out).height == 0
    assert selection.below_floor(out, CONFIG).height == 0
    gap = out.with_columns(pl.when(pl.col("rank") == 2).then(3).otherwise(pl.col("rank")).alias("rank"))
    assert selection.invalid_ranks(gap).get_column("game_date").to_list() == [DAY]  # ranks 1, 3, 3, 4
    stray = out.with_columns(pl.when(~pl.col("selected")).then(9).otherwise(pl.col("rank")).alias("rank"))
    assert selection.invalid_ranks(stray).height == 1
    gated = out.with_columns(pl.lit(True).alias("health_gate_active"))
    assert selection.gate_violations(gated).height == 4
    low = out.with_columns(pl.when(pl.col("rank") == 4).then(4.99).otherwise(pl.col("edge")).alias("edge"))
    assert selection.below_floor(low, CONFIG).height == 1
    observed = config_with(lambda raw: set_filter(raw, "edge_floor", mode="observe"))
    assert selection.below_floor(low, observed).height == 0  # the floor is not enforced then


def test_history_figures_per_day_and_the_public_over_flag():
    history = graded(50, 40, family="v12_mae", direction="OVER", edge=6.0, tag="u")
    *_, per_day = selection.best_bets(
        frame([pred()], selection.PREDICTION_COLUMNS), tags_for([pred()]), lines_for([pred()]), features_for([pred()]),
        EMPTY_HEALTH, EMPTY_SIGNAL_HEALTH, frame(history), start=DAY, end=DAY + timedelta(days=1), champion=CHAMPION,
        families=FAMILIES, config=CONFIG,
    )  # fmt: skip
    rows = per_day.select("game_date", "ultra_n", "ultra_wins", "ultra_over_n", "ultra_over_public").rows()
    assert rows == [(DAY, 50, 40, 50, True), (DAY + timedelta(days=1), 50, 40, 50, True)]


def test_anti_pattern_combos_come_from_the_signal_registry():
    from nba_props.lib import signals

    expected = tuple(tuple(c.signals) for c in signals.load_signal_registry().combos if c.kind == signals.ANTI_PATTERN)
    assert expected and selection.anti_pattern_combos() == expected
