"""Market regime and pre-game signal: the rules on constructed frames (values hand-computed, every
band at its boundary), every family's rows with the day's champion by evidence marked
(`is_champion`), and an idempotent rerun of each asset on a hand-built warehouse."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import polars as pl
import pytest

from nba_props.lib import champion, regime
from nba_props.lib.regime import GREEN, NO_DATA, RED, YELLOW, load_regime_config

CONFIG = load_regime_config()
MARKET = CONFIG.market_regime
SIGNAL = CONFIG.pre_game_signal
CHAMP = "champ"
END = date(2025, 1, 30)

# The columns of the prediction_accuracy contract (issue 10).
ACCURACY_SCHEMA = regime.PREDICTION_ACCURACY_CONTRACT


def pick(day, edge, *, n=0, family=CHAMP, recommendation="OVER", line=20.0, actual=None, result=None, **extra):
    predicted = line + edge if recommendation != "UNDER" else line - edge
    row = {
        "game_date": day,
        "game_id": f"{day:%Y%m%d}_AAA_BBB",
        "player_lookup": f"p{n}",
        "model_id": f"{family}_m",
        "family": family,
        "predicted_points": predicted,
        "actual_points": actual,
        "line": line,
        "market_type": "sportsbook",
        "edge": edge,
        "direction": "UNDER" if recommendation == "UNDER" else "OVER",
        "p_over": 0.6,
        "confidence": 0.2,
        "recommendation": recommendation,
        "quarantined": False,
        "game_status": "final",
        "result": result,
        "void_reason": None,
        **extra,
    }
    return row


def frame(rows):
    """prediction_accuracy rows: the registered schema once the asset exists, else the contract's."""
    from nba_props.lib import tables

    schema = tables.TABLE_SCHEMAS.get("prediction_accuracy", ACCURACY_SCHEMA)
    built = pl.DataFrame(rows, schema_overrides={k: v for k, v in schema.items() if k in rows[0]})
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in schema.items() if c not in built.columns]
    return built.with_columns(missing).select(pl.col(c).cast(t) for c, t in schema.items())


def day(i: int) -> date:
    """Day i of the 30 days ending on END (day 30 = END)."""
    return END - timedelta(days=30 - i)


def run(rows, start=END, end=END, *, every_family=False):
    """The champion's rows (CHAMP every day), or every family's."""
    out = regime.market_regime(frame(rows), CHAMP, start, end, MARKET)
    return out if every_family else out.filter(pl.col("is_champion"))


# ----------------------------------------------------------------------------- market regime


def test_compression_on_a_constructed_series():
    """Days 1-23 max edge 8, days 24-30 max edge 4 (plus smaller picks); day 28 has no games; day 27
    has games but only a PASS; another family's bigger edges never count in the champion's row
    (that family has its own row, over its own days)."""
    rows = []
    for i in range(1, 31):
        if i == 28:
            continue
        if i == 27:
            rows.append(pick(day(i), 1.0, recommendation="PASS"))
        else:
            top = 8.0 if i <= 23 else 4.0
            rows += [pick(day(i), top, n=1), pick(day(i), 3.0, n=2)]
        rows.append(pick(day(i), 12.0, n=9, family="other"))
    out = run(rows)
    assert out.height == 1
    r = out.row(0, named=True)
    # short window (days 24..30): days with games 24,25,26,27,29,30 = 6; max edges 4,4,4,0,4,4
    assert r["slate_days_short"] == 6 and r["slate_days_long"] == 29
    assert r["avg_max_edge_short"] == pytest.approx(20 / 6)
    # long window: 23 days x 8 + 5 days x 4 + day 27's 0, over 29 days with games
    assert r["avg_max_edge_long"] == pytest.approx(204 / 29)
    assert r["compression"] == pytest.approx((20 / 6) / (204 / 29))  # 0.4739...
    assert r["compression_colour"] == RED and r["max_edge_colour"] == RED
    assert r["picks"] == 2 and r["max_edge"] == 4.0 and r["picks_edge_low"] == 2 and r["picks_edge_high"] == 0
    # edge 5+ picks: the 23 early days' 8-point picks; none in the short window
    assert r["edge_high_per_day_short"] == 0.0 and r["edge_high_per_day_long"] == pytest.approx(23 / 29)
    assert r["edge_high_colour"] == RED and r["regime_colour"] == RED
    # the other family: one 12-point pick on each of the 29 days with games, all its own
    everyone = run(rows, every_family=True)
    assert everyone["family"].to_list() == [CHAMP, "other"]
    assert everyone["is_champion"].to_list() == [True, False]
    o = everyone.row(1, named=True)
    assert (o["slate_days_short"], o["slate_days_long"], o["picks"], o["max_edge"]) == (6, 29, 1, 12.0)
    assert o["avg_max_edge_short"] == 12.0 and o["compression"] == 1.0 and o["edge_high_per_day_short"] == 1.0
    assert (o["compression_colour"], o["max_edge_colour"], o["edge_high_colour"]) == (GREEN, GREEN, YELLOW)
    assert o["regime_colour"] == YELLOW


def test_days_without_games_get_no_row_and_a_pass_only_day_has_max_edge_zero():
    rows = [pick(day(27), 1.0, recommendation="PASS"), pick(day(29), 6.0)]
    out = run(rows, start=day(26), end=END)
    assert out["game_date"].to_list() == [day(27), day(29)]
    assert out["max_edge"].to_list() == [0.0, 6.0]
    assert out["avg_max_edge_short"].to_list() == [0.0, 3.0]
    assert out["compression"].to_list() == [None, 1.0]  # long mean 0: no ratio
    assert out["compression_colour"].to_list() == [NO_DATA, GREEN]


def test_a_window_sees_only_its_days():
    """The 30-day window of END starts on day 1: a pick on day 0 never counts; rows after END neither."""
    rows = [pick(day(0), 20.0, n=1), pick(day(30), 6.0), pick(END + timedelta(days=1), 20.0, n=2)]
    r = run(rows).row(0, named=True)
    assert r["slate_days_long"] == 1 and r["avg_max_edge_long"] == 6.0


@pytest.mark.parametrize(
    ("value", "band", "colour"),
    [
        (0.85, "compression", GREEN),
        (0.8499, "compression", YELLOW),
        (0.65, "compression", YELLOW),
        (0.6499, "compression", RED),
        (7.0, "max_edge", GREEN),
        (6.99, "max_edge", YELLOW),
        (5.0, "max_edge", YELLOW),
        (4.99, "max_edge", RED),
        (3.0, "edge_high_per_day", GREEN),
        (2.99, "edge_high_per_day", YELLOW),
        (1.0, "edge_high_per_day", YELLOW),
        (0.99, "edge_high_per_day", RED),
        (None, "max_edge", NO_DATA),
    ],
)
def test_each_colour_band_at_its_boundary(value, band, colour):
    got = pl.select(regime.band_colour(pl.lit(value, dtype=pl.Float64), getattr(MARKET, band))).item()
    assert got == colour


def test_max_edge_and_edge_high_colours_through_the_asset_logic():
    """7 days with games, each with one 7-point pick and two more edge-5 picks: avg max edge 7.0
    (GREEN exactly), 3 edge-5+ picks per day (GREEN exactly)."""
    rows = [pick(day(i), e, n=n) for i in range(24, 31) for n, e in enumerate((7.0, 5.0, 5.0))]
    r = run(rows).row(0, named=True)
    assert r["avg_max_edge_short"] == 7.0 and r["max_edge_colour"] == GREEN
    assert r["edge_high_per_day_short"] == 3.0 and r["edge_high_colour"] == GREEN
    assert r["compression"] == 1.0 and r["regime_colour"] == GREEN


@pytest.mark.parametrize(
    ("value", "state"),
    [(4.49, "TIGHT"), (4.5, "NORMAL"), (5.5, "NORMAL"), (5.51, "LOOSE"), (None, NO_DATA)],
)
def test_line_mae_bands(value, state):
    assert pl.select(regime.line_state(pl.lit(value, dtype=pl.Float64), MARKET.line_mae)).item() == state


def test_line_mae_bias_and_gap_pool_the_decided_picks():
    """Short window: two decided picks (|line - actual| 4 and 5 -> 4.5 NORMAL), a push (bias only), a
    void and a pending pick (neither). Medium window adds a decided pick from day 17 (|20 - 26| = 6)."""
    rows = [
        pick(day(25), 3.0, n=1, line=20.0, actual=24.0, result="WIN"),  # predicted 23: |err| 1, bias -1
        pick(day(26), 4.0, n=2, recommendation="UNDER", line=20.0, actual=25.0, result="LOSS"),  # pred 16: -9
        pick(day(27), 3.0, n=3, line=20.0, actual=20.0, result="PUSH"),  # pred 23: bias +3
        pick(day(28), 3.0, n=4, line=20.0, actual=None, result="VOID", void_reason="DNP"),
        pick(day(30), 3.0, n=5, line=20.0),  # pending
        pick(day(17), 3.0, n=6, line=20.0, actual=26.0, result="LOSS"),  # pred 23: |err| 3 (medium only)
    ]
    r = run(rows).row(0, named=True)
    assert r["n_decided_short"] == 2 and r["line_mae_short"] == 4.5 and r["line_state_short"] == "NORMAL"
    assert r["model_mae_short"] == pytest.approx((1 + 9) / 2) and r["mae_gap_short"] == pytest.approx(0.5)
    assert r["n_bias_short"] == 3 and r["residual_bias_short"] == pytest.approx((-1 - 9 + 3) / 3)
    assert r["n_decided_medium"] == 3 and r["line_mae_medium"] == pytest.approx(15 / 3)
    assert r["model_mae_medium"] == pytest.approx(13 / 3)


def test_quarantined_picks_are_not_picks():
    rows = [pick(END, 9.0, n=1, quarantined=True), pick(END, 4.0, n=2)]
    assert run(rows).row(0, named=True)["max_edge"] == 4.0


OTHER = "other"


def choices(next_champion: dict[date, str], families=(CHAMP, OTHER)) -> pl.DataFrame:
    """model_performance_daily rows (the columns the champion is read from): every family's row of
    each evidence day names the same next_champion."""
    return pl.DataFrame(
        [{"game_date": d, "family": f, "next_champion": c} for d, c in next_champion.items() for f in families],
        schema={"game_date": pl.Date, "family": pl.Utf8, "next_champion": pl.Utf8},
    )


def two_families(days, champ_edge=4.0, other_edge=6.0, *, other_off=(), champ=CHAMP):
    """One pick per family per day (`champ` 4 points, OTHER 6), OTHER without games on `other_off`."""
    return [pick(d, champ_edge, family=champ) for d in days] + [
        pick(d, other_edge, family=OTHER) for d in days if d not in other_off
    ]


def test_is_champion_follows_the_champion_chosen_by_evidence():
    """The evidence of day 27 keeps CHAMP for day 28; day 28's switches to OTHER for day 29 (kept
    on day 29 for day 30). The configured champion (CHAMP) is not the champion of days 29 and 30;
    on day 30 OTHER has no games: no champion row that day, CHAMP's row stays a plain family row."""
    days = [day(28), day(29), END]
    chosen = champion.champions_for_days(choices({day(27): CHAMP, day(28): OTHER, day(29): OTHER}), days, CHAMP)
    assert chosen["champion"].to_list() == [CHAMP, OTHER, OTHER]
    out = regime.market_regime(frame(two_families(days, other_off={END})), chosen, day(28), END, MARKET)
    assert out.select("game_date", "family", "is_champion").rows() == [
        (day(28), CHAMP, True), (day(28), OTHER, False),
        (day(29), CHAMP, False), (day(29), OTHER, True),
        (END, CHAMP, False),
    ]  # fmt: skip
    champ_rows = out.filter(pl.col("is_champion"))
    # each champion row carries its own family's figures: 4-point edges on day 28, 6-point on day 29
    assert champ_rows["max_edge"].to_list() == [4.0, 6.0]
    assert champ_rows["avg_max_edge_short"].to_list() == [4.0, 6.0]
    assert champ_rows["edge_high_per_day_short"].to_list() == [0.0, 1.0]


def test_without_performance_rows_the_configured_champion_is_every_days_champion():
    """No model_performance_daily row before the days (a new warehouse): the seed, for every day;
    a family name passed instead of a frame means the same."""
    days = [day(29), END]
    seed = champion.champions_for_days(choices({}), days, CHAMP)
    assert seed["champion"].to_list() == [CHAMP, CHAMP]
    by_frame = regime.market_regime(frame(two_families(days)), seed, day(29), END, MARKET)
    assert by_frame.filter(pl.col("is_champion"))["family"].to_list() == [CHAMP, CHAMP]
    assert by_frame.equals(regime.market_regime(frame(two_families(days)), CHAMP, day(29), END, MARKET))


def test_window_lengths_are_derived_from_the_config():
    from nba_props.defs.health import regime as assets

    mapping = assets.market_regime.get_partition_mapping(dg.AssetKey("prediction_accuracy"))
    assert (mapping.start_offset, mapping.end_offset) == (-(MARKET.history_days - 1), 0)
    assert MARKET.history_days == max(MARKET.windows.short, MARKET.windows.medium, MARKET.windows.long) == 30


# ----------------------------------------------------------------------------- pre-game signal

SIGNAL_DAY = date(2025, 1, 15)


def predictions(lined: int, over: int, high: int, *, model="m1", unlined: int = 0) -> list[dict]:
    rows = []
    for i in range(lined):
        direction = "OVER" if i < over else "UNDER"
        rows.append(
            {
                "game_date": SIGNAL_DAY,
                "model_id": model,
                "family": model.upper(),
                "line": 15.0,
                "edge": 5.0 if i < high else 4.99,
                "direction": direction,
            }
        )
    rows += [
        {"game_date": SIGNAL_DAY, "model_id": model, "family": model.upper(), "line": None, "edge": None,
         "direction": None}
        for _ in range(unlined)
    ]  # fmt: skip
    return rows


def schedule(games: int, postponed: int = 0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "game_date": [SIGNAL_DAY] * (games + postponed),
            "game_id": [f"g{i}" for i in range(games + postponed)],
            "status": ["scheduled"] * games + ["postponed"] * postponed,
        }
    )


def signal(lined, over, high, games=5, postponed=0, **kwargs) -> dict:
    frame = pl.DataFrame(
        predictions(lined, over, high, **kwargs),
        schema={
            "game_date": pl.Date, "model_id": pl.Utf8, "family": pl.Utf8, "line": pl.Float64, "edge": pl.Float64,
            "direction": pl.Utf8,
        },
    )  # fmt: skip
    out = regime.pre_game_signal(frame, schedule(games, postponed), SIGNAL)
    return out.row(0, named=True) if out.height else {}


@pytest.mark.parametrize(
    ("lined", "over", "high", "games", "skew", "volume", "colour"),
    [
        (20, 5, 3, 5, "BALANCED", "NORMAL", GREEN),  # exactly 25% OVER: not UNDER_HEAVY, not RED
        (20, 4, 3, 5, "UNDER_HEAVY", "NORMAL", RED),  # 20%
        (10, 4, 3, 5, "BALANCED", "NORMAL", GREEN),  # exactly 40%: not OVER_HEAVY
        (20, 9, 3, 5, "OVER_HEAVY", "NORMAL", GREEN),  # exactly 45%: OVER_HEAVY but not YELLOW
        (20, 10, 3, 5, "OVER_HEAVY", "NORMAL", YELLOW),  # 50% > 45%
        (20, 6, 3, 4, "BALANCED", "NORMAL", RED),  # a slate of exactly 4 games
        (20, 6, 2, 5, "BALANCED", "LOW", YELLOW),  # 2 high-edge < 3
        (20, 6, 8, 5, "BALANCED", "NORMAL", GREEN),  # exactly 8 high-edge: not HIGH
        (20, 6, 9, 5, "BALANCED", "HIGH", GREEN),
    ],
)
def test_pre_game_signal_rules_at_their_boundaries(lined, over, high, games, skew, volume, colour):
    row = signal(lined, over, high, games)
    assert (row["skew"], row["volume"], row["signal"]) == (skew, volume, colour)
    assert row["explanation"].startswith(f"{colour}:")
    assert row["pct_over"] + row["pct_under"] == pytest.approx(100.0)


def test_pre_game_signal_explains_every_red_rule_and_counts_only_played_games():
    row = signal(20, 4, 3, games=4, postponed=2)
    assert row["slate_games"] == 4
    assert row["explanation"] == "RED: 4-game slate (<= 4); 20.0% OVER (< 25%)"


def test_a_model_needs_ten_lined_predictions():
    assert signal(9, 3, 3, unlined=5) == {}
    assert signal(10, 3, 3, unlined=5)["lined_predictions"] == 10


# ----------------------------------------------------------------------------- the assets, rerun


@pytest.fixture
def warehouse_resources(tmp_path):
    from nba_props.io.io_manager import DuckDBPolarsIOManager, WarehouseResource
    from nba_props.io.warehouse import Warehouse

    database = str(tmp_path / "w.duckdb")
    storage = WarehouseResource(database=database)
    return Warehouse(database), {"io_manager": DuckDBPolarsIOManager(storage=storage), "warehouse": storage}


def _stand_ins(*names):
    from nba_props.partitions import game_date_partitions

    return [
        dg.AssetSpec(n, partitions_def=game_date_partitions, metadata={"partition_expr": "game_date"}) for n in names
    ]


MARKET_INPUTS = ["prediction_accuracy", "pick_accuracy", "model_performance_daily"]
SIGNAL_INPUTS = ["predictions", "schedule", "model_performance_daily"]


def _materialize(asset, inputs, resources, first: date, last: date):
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [asset, *_stand_ins(*inputs)],
            resources=resources,
            instance=instance,
            selection=[asset.key],
            tags={
                "dagster/asset_partition_range_start": first.isoformat(),
                "dagster/asset_partition_range_end": last.isoformat(),
            },
        )
        assert result.success
        return result


def test_market_regime_rerun_leaves_the_table_unchanged(warehouse_resources):
    from nba_props.defs.health.regime import SEED, market_regime

    store, resources = warehouse_resources
    first = day(1)
    rows = [
        pick(day(i), 3.0 + (i % 5), n=n, family=fam, line=20.0, actual=20.0 + n + i % 3, result="WIN")
        for i in range(1, 31)
        if i % 6
        for n in range(3)
        for fam in (SEED, "other")
    ]
    accuracy = frame(rows).with_columns(model_id=pl.col("family") + "_m")
    store.replace_partitions("prediction_accuracy", accuracy, start=first, end=END)
    result = _materialize(market_regime, MARKET_INPUTS, resources, day(20), END)
    once = store.load("market_regime").sort("game_date", "family")
    assert once.height == 2 * sum(1 for i in range(20, 31) if i % 6)  # both families' rows
    # no model_performance_daily rows: the configured champion is every day's champion
    assert once.filter(pl.col("is_champion"))["family"].unique().to_list() == [SEED]
    assert once.filter(pl.col("family") == "other")["is_champion"].unique().to_list() == [False]
    _materialize(market_regime, MARKET_INPUTS, resources, day(20), END)
    assert store.load("market_regime").sort("game_date", "family").equals(once)
    # each partition carries its own figures (the Plots tab)
    by_partition = {
        m.partition: m.metadata
        for m in (e.materialization for e in result.get_asset_materialization_events())
    }  # fmt: skip
    assert len(by_partition) == 11
    expected = once.filter((pl.col("game_date") == day(29)) & pl.col("is_champion")).row(0, named=True)
    assert by_partition[day(29).isoformat()]["compression"].value == pytest.approx(expected["compression"])
    assert by_partition[day(29).isoformat()]["regime_colour"].value == expected["regime_colour"]
    assert by_partition[day(29).isoformat()]["champion"].value == SEED
    assert by_partition[day(29).isoformat()]["dagster/row_count"].value == 2
    assert "compression" not in by_partition[END.isoformat()]  # day 30 has no games: no row, no figure
    # a partition run alone gives the row the range run gave (each window is the date's own)
    _materialize(market_regime, MARKET_INPUTS, resources, day(29), day(29))
    assert store.load("market_regime").sort("game_date", "family").equals(once)
    assert (
        store.load("market_regime", start=day(29), end=day(29))
        .sort("family")
        .equals(once.filter(pl.col("game_date") == day(29)))
    )


def test_market_regime_without_graded_rows_writes_nothing(warehouse_resources):
    """Before any grading (no prediction_accuracy table yet, e.g. a backfill of the whole job on a
    new warehouse) the asset succeeds with no row."""
    from nba_props.defs.health.regime import market_regime

    store, resources = warehouse_resources
    _materialize(market_regime, MARKET_INPUTS, resources, day(29), END)
    assert store.load("market_regime").height == 0


def write_choices(store, next_champion: dict[date, str], families) -> None:
    """model_performance_daily rows (full schema, the columns the champion is read from set)."""
    from nba_props.lib import tables

    schema = tables.TABLE_SCHEMAS["model_performance_daily"]
    rows = choices(next_champion, families)
    rows = rows.with_columns(pl.lit(None, dtype=t).alias(c) for c, t in schema.items() if c not in rows.columns)
    store.replace_partitions("model_performance_daily", rows.select(schema.names()), start=min(next_champion),
                             end=max(next_champion), declared=schema)  # fmt: skip


def _partition_metadata(result) -> dict[str, dict]:
    events = result.get_asset_materialization_events()
    return {m.partition: {k: v.value for k, v in m.metadata.items()} for m in (e.materialization for e in events)}


def test_market_regime_asset_follows_the_champion_by_evidence(warehouse_resources):
    """model_performance_daily says: the configured champion for day 28, OTHER from day 29 on (a
    switch on the evidence of day 28). The table marks OTHER's rows of days 29 and 30 and each
    partition's figures are its champion's row."""
    from nba_props.defs.health.regime import SEED, market_regime

    store, resources = warehouse_resources
    days = [day(28), day(29), END]
    store.replace_partitions("prediction_accuracy", frame(two_families(days, 4.0, 8.0, champ=SEED)),
                             start=day(28), end=END)  # fmt: skip
    write_choices(store, {day(27): SEED, day(28): OTHER, day(29): OTHER}, (SEED, OTHER))
    result = _materialize(market_regime, MARKET_INPUTS, resources, day(28), END)
    rows = store.load("market_regime").sort("game_date", "family")
    champions = rows.filter(pl.col("is_champion")).select("game_date", "family").rows()
    assert champions == [(day(28), SEED), (day(29), OTHER), (END, OTHER)]
    meta = _partition_metadata(result)
    assert [meta[d.isoformat()]["champion"] for d in days] == [SEED, OTHER, OTHER]
    # the champion's own figures: 4-point picks on day 28 (max_edge 4, short mean 4); OTHER's 8-point
    # picks on days 29 and 30 (its short window: 3 days with games, all 8)
    assert [meta[d.isoformat()]["max_edge"] for d in days] == [4.0, 8.0, 8.0]
    assert [meta[d.isoformat()]["avg_max_edge_short"] for d in days] == [4.0, 8.0, 8.0]
    assert [meta[d.isoformat()]["picks_edge_high"] for d in days] == [0, 1, 1]
    assert [meta[d.isoformat()]["max_edge_colour"] for d in days] == [RED, GREEN, GREEN]  # < 5 RED, >= 7 GREEN


def test_pre_game_signal_rerun_leaves_the_table_unchanged(warehouse_resources):
    from nba_props.defs.health.regime import SEED, pre_game_signal
    from nba_props.lib import tables

    store, resources = warehouse_resources
    preds = pl.DataFrame(predictions(20, 6, 4) + predictions(12, 2, 1, model="m2") + predictions(5, 2, 1, model="m3"))
    preds = preds.with_columns(
        game_id=pl.format("g{}", pl.int_range(pl.len()) % 5),
        player_lookup=pl.format("p{}", pl.int_range(pl.len())),
    )
    preds = preds.with_columns(
        pl.lit(None, dtype=t).alias(c) for c, t in tables.TABLE_SCHEMAS["predictions"].items() if c not in preds.columns
    ).select(tables.TABLE_SCHEMAS["predictions"].names())
    store.replace_partitions("predictions", preds, start=SIGNAL_DAY, end=SIGNAL_DAY)
    sched = schedule(5).with_columns(
        pl.lit(None, dtype=t).alias(c) for c, t in tables.TABLE_SCHEMAS["schedule"].items() if c not in ("game_date", "game_id", "status")
    ).select(tables.TABLE_SCHEMAS["schedule"].names())  # fmt: skip
    store.replace_partitions("schedule", sched, start=SIGNAL_DAY, end=SIGNAL_DAY)
    result = _materialize(pre_game_signal, SIGNAL_INPUTS, resources, SIGNAL_DAY, SIGNAL_DAY)
    once = store.load("pre_game_signal").sort("model_id")
    assert once["model_id"].to_list() == ["m1", "m2"]
    assert once["signal"].to_list() == [GREEN, RED]
    # no model_performance_daily row of the day before: the configured champion, without a row here
    meta = _partition_metadata(result)[SIGNAL_DAY.isoformat()]
    assert meta["champion"] == SEED and "champion_signal" not in meta
    # the champion by evidence of SIGNAL_DAY is M2 (m2's family): its figures, the rows unchanged
    write_choices(store, {SIGNAL_DAY - timedelta(days=1): "M2"}, ("M1", "M2"))
    result = _materialize(pre_game_signal, SIGNAL_INPUTS, resources, SIGNAL_DAY, SIGNAL_DAY)
    assert store.load("pre_game_signal").sort("model_id").equals(once)
    meta = _partition_metadata(result)[SIGNAL_DAY.isoformat()]
    assert meta["champion"] == "M2" and meta["champion_signal"] == RED and meta["champion_signal_level"] == 0
    assert meta["champion_pct_over"] == pytest.approx(100 * 2 / 12) and meta["champion_high_edge"] == 1
    assert meta["champion_explanation"] == "RED: 16.7% OVER (< 25%)"


# ----------------------------------------------------------------------------- best-bet metrics

BB = MARKET.best_bets


def bet(day_: date, result: str | None, direction: str = "OVER", counted: bool = True) -> dict:
    return {"game_date": day_, "direction": direction, "counted": counted, "result": result}


def bb_run(bets: list[dict]) -> dict:
    """END's row, the champion having a slate every day of the window."""
    picks = pl.DataFrame(bets, schema=regime.PICK_ACCURACY_CONTRACT)
    rows = regime.market_regime(frame([pick(day(i), 4.0) for i in range(1, 31)]), CHAMP, END, END, MARKET, picks)
    return rows.row(0, named=True)


def test_best_bet_windows_come_from_the_config():
    from nba_props.defs.health import regime as assets

    mapping = assets.market_regime.get_partition_mapping(dg.AssetKey("pick_accuracy"))
    assert (BB.windows.hit_rate, BB.windows.direction) == (3, 14)
    assert (mapping.start_offset, mapping.end_offset) == (-(BB.history_days - 1), 0) == (-13, 0)


def test_three_day_hit_rate_counts_only_counted_decided_picks_of_its_window():
    row = bb_run(
        [bet(day(27), "WIN")] * 5  # day 27 is outside the 3 days (28, 29, 30)
        + [bet(day(28), "WIN"), bet(day(28), "WIN"), bet(day(28), "LOSS")]
        + [bet(day(29), "WIN"), bet(day(29), "LOSS"), bet(day(29), "PUSH"), bet(day(29), "VOID"), bet(day(29), None)]
        + [bet(END, "WIN"), bet(END, "LOSS", counted=False)]  # a late / withdrawn pick never counts
    )
    assert (row["best_bets_wins"], row["best_bets_n"]) == (4, 6)
    assert row["best_bets_hr"] == pytest.approx(4 / 6)
    assert row["best_bets_hr_colour"] == GREEN


@pytest.mark.parametrize(
    "wins, losses, colour",
    [(3, 2, GREEN), (5, 4, YELLOW), (3, 3, YELLOW), (4, 5, RED), (3, 1, NO_DATA), (0, 0, NO_DATA)],
)  # 3/5 = 0.60 exactly: GREEN; 0.5 exactly: not RED; N = 4 < min_decided 5: NO_DATA
def test_best_bet_hit_rate_colour_at_its_boundaries(wins, losses, colour):
    assert (BB.hit_rate.green_at_least, BB.hit_rate.red_below, BB.min_decided) == (0.60, 0.50, 5)
    row = bb_run([bet(END, "WIN")] * wins + [bet(END, "LOSS")] * losses)
    assert row["best_bets_hr_colour"] == colour


def _sides(over_w, over_n, under_w, under_n, when=END):
    return (
        [bet(when, "WIN")] * over_w
        + [bet(when, "LOSS")] * (over_n - over_w)
        + [bet(when, "WIN", "UNDER")] * under_w
        + [bet(when, "LOSS", "UNDER")] * (under_n - under_w)
    )


@pytest.mark.parametrize(
    "sides, divergence, colour",
    [
        ((3, 5, 3, 5), 0.0, GREEN),
        ((6, 8, 6, 10), 15.0, YELLOW),  # 75% - 60%: exactly 15 points
        ((7, 10, 6, 10), 10.0, GREEN),
        ((5, 5, 6, 8), 25.0, RED),  # 100% - 75%: exactly 25 points
        ((2, 5, 9, 10), -50.0, RED),  # UNDER doing better: the colour reads |divergence|
        ((4, 5, 2, 4), 30.0, NO_DATA),  # 4 UNDER picks < min_decided
    ],
)
def test_over_under_divergence_and_its_colour(sides, divergence, colour):
    row = bb_run(_sides(*sides))
    assert row["best_bets_divergence"] == pytest.approx(divergence)
    assert row["best_bets_divergence_colour"] == colour


def test_the_direction_window_is_fourteen_days_ending_on_the_date():
    inside = bb_run(_sides(5, 5, 5, 5, when=day(17)))  # day 17 .. 30 is the 14-day window
    outside = bb_run(_sides(5, 5, 5, 5, when=day(16)))
    assert (inside["best_bets_over_n"], inside["best_bets_under_n"]) == (5, 5)
    assert (outside["best_bets_over_n"], outside["best_bets_under_n"], outside["best_bets_divergence"]) == (0, 0, None)
    assert outside["best_bets_hr"] is None and outside["best_bets_hr_colour"] == NO_DATA


def test_market_regime_asset_reads_the_graded_picks(warehouse_resources):
    from nba_props.defs.health.regime import SEED, market_regime
    from nba_props.lib import tables

    store, resources = warehouse_resources
    champion_days = [pick(day(i), 4.0, family=SEED) for i in range(25, 31)]
    store.replace_partitions("prediction_accuracy", frame(champion_days), start=day(25),
                             end=END)  # fmt: skip
    schema = tables.TABLE_SCHEMAS["pick_accuracy"]
    bets = pl.DataFrame(_sides(4, 5, 1, 5, when=day(29)), schema=regime.PICK_ACCURACY_CONTRACT).with_columns(
        game_id=pl.format("g{}", pl.int_range(pl.len())), player_lookup=pl.lit("p")
    )
    bets = bets.with_columns(pl.lit(None, dtype=t).alias(c) for c, t in schema.items() if c not in bets.columns)
    store.replace_partitions("pick_accuracy", bets.select(pl.col(c).cast(t) for c, t in schema.items()),
                             start=day(29), end=day(29), declared=schema)  # fmt: skip
    result = _materialize(market_regime, MARKET_INPUTS, resources, day(29), END)
    rows = store.load("market_regime").sort("game_date")
    end_row = rows.filter(pl.col("game_date") == END).row(0, named=True)
    assert (end_row["best_bets_wins"], end_row["best_bets_n"]) == (5, 10)
    assert end_row["best_bets_divergence"] == pytest.approx(60.0) and end_row["best_bets_divergence_colour"] == RED
    meta = {m.partition: m.metadata for m in (e.materialization for e in result.get_asset_materialization_events())}
    assert meta[END.isoformat()]["best_bets_hr"].value == 0.5
    assert meta[END.isoformat()]["best_bets_hr_level"].value == 1  # YELLOW
