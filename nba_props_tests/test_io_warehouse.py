"""The DuckDB warehouse: partition replace, transactions, dtype round-trips, scoping, reads."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from nba_props.io.warehouse import Warehouse, WarehouseLockedError, duckdb_type
from nba_props.lib import schemas

D1, D2, D3, D4 = (date(2024, 10, 21) + timedelta(days=i) for i in range(4))

SIMPLE = pl.Schema({"game_date": pl.Date, "player_id": pl.Int64, "points": pl.Int32, "note": pl.Utf8})


def simple(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SIMPLE, orient="row")


@pytest.fixture
def wh(tmp_path) -> Warehouse:
    return Warehouse(tmp_path / "db" / "warehouse.duckdb")


def stored(wh: Warehouse, sql: str, params: list | None = None) -> pl.DataFrame:
    """What DuckDB itself holds: the file opened read-only, unqualified tables in the warehouse schema."""
    with duckdb.connect(str(wh.path), read_only=True) as con:
        con.execute(f"SET search_path = '{wh.schema},main'")
        return con.sql(sql, params=params).pl()


def test_path_parent_created_and_nothing_opened_until_used(tmp_path):
    wh = Warehouse(tmp_path / "a" / "b" / "w.duckdb")
    assert wh.path == (tmp_path / "a" / "b" / "w.duckdb").resolve()
    assert wh.path.parent.is_dir() and not wh.path.exists()
    assert wh.row_counts() == {}
    assert not wh.table_exists("box_scores")
    assert not wh.path.exists()  # reads of a missing file do not create it


def test_replace_one_partition_twice_touches_only_that_date(wh):
    wh.replace_partitions(
        "t",
        simple([(D1, 1, 10, "a"), (D2, 1, 20, "b"), (D2, 2, 21, "c"), (D3, 1, 30, "d")]),
        start=D1,
        end=D3,
        declared=SIMPLE,
    )
    assert wh.replace_partitions("t", simple([(D2, 1, 99, "new")]), start=D2, end=D2, declared=SIMPLE) == 1
    assert wh.replace_partitions("t", simple([(D2, 1, 99, "new")]), start=D2, end=D2, declared=SIMPLE) == 1

    got = wh.load("t", declared=SIMPLE)
    assert got.rows() == [(D1, 1, 10, "a"), (D2, 1, 99, "new"), (D3, 1, 30, "d")]
    assert wh.row_counts() == {"t": 3}


def test_replace_a_three_day_range_in_one_call(wh):
    wh.replace_partitions("t", simple([(D1, 1, 1, None), (D4, 1, 4, None)]), start=D1, end=D4, declared=SIMPLE)
    new = simple([(D1, 7, 11, "x"), (D2, 7, 12, "y"), (D3, 7, 13, "z")])
    assert wh.replace_partitions("t", new, start=D1, end=D3) == 3

    assert wh.load("t", declared=SIMPLE).rows() == [
        (D1, 7, 11, "x"),
        (D2, 7, 12, "y"),
        (D3, 7, 13, "z"),
        (D4, 1, 4, None),
    ]
    # a window read is inclusive at both ends and ordered by date
    assert wh.load("t", start=D2, end=D3, declared=SIMPLE)["points"].to_list() == [12, 13]
    assert wh.load("t", start=D3, declared=SIMPLE)["points"].to_list() == [13, 4]
    assert wh.load("t", end=D1, declared=SIMPLE)["points"].to_list() == [11]


def test_replace_with_an_empty_frame_clears_the_window(wh):
    wh.replace_partitions("t", simple([(D1, 1, 1, None), (D2, 1, 2, None)]), start=D1, end=D2, declared=SIMPLE)
    assert wh.replace_partitions("t", pl.DataFrame(schema=SIMPLE), start=D2, end=D2) == 0
    assert wh.load("t", declared=SIMPLE)["game_date"].to_list() == [D1]


def test_rows_outside_the_window_are_refused_and_nothing_written(wh):
    wh.replace_partitions("t", simple([(D1, 1, 1, "keep"), (D2, 1, 2, "keep")]), start=D1, end=D2, declared=SIMPLE)
    with pytest.raises(ValueError, match=r"1 row\(s\) have game_date outside 2024-10-22 .. 2024-10-22"):
        wh.replace_partitions("t", simple([(D2, 5, 5, "new"), (D3, 5, 5, "late")]), start=D2, end=D2)
    with pytest.raises(ValueError, match="NULL game_date"):
        wh.replace_partitions("t", simple([(None, 5, 5, "undated")]), start=D1, end=D2)
    with pytest.raises(ValueError, match="empty partition window"):
        wh.replace_partitions("t", simple([]), start=D2, end=D1)
    assert wh.load("t", declared=SIMPLE)["note"].to_list() == ["keep", "keep"]


def test_frame_columns_must_match_the_table(wh):
    wh.replace_partitions("t", simple([(D1, 1, 1, "keep")]), start=D1, end=D1, declared=SIMPLE)
    with pytest.raises(ValueError, match=r"missing \['note'\], unexpected \['extra'\]"):
        wh.replace_partitions(
            "t", simple([(D1, 2, 2, None)]).drop("note").with_columns(extra=pl.lit(1)), start=D1, end=D1
        )
    # same columns in another order are fine: conformed to the table's order
    reordered = simple([(D1, 3, 3, "reordered")]).select("note", "points", "player_id", "game_date")
    assert wh.replace_partitions("t", reordered, start=D1, end=D1) == 1
    assert wh.load("t", declared=SIMPLE).rows() == [(D1, 3, 3, "reordered")]
    assert stored(
        wh, "SELECT column_name FROM information_schema.columns WHERE table_name = 't' ORDER BY ordinal_position"
    )["column_name"].to_list() == list(SIMPLE.names())


def test_declared_schema_drift_from_the_stored_table_is_refused(wh):
    wh.replace_partitions("t", simple([(D1, 1, 1, "keep")]), start=D1, end=D1, declared=SIMPLE)
    widened = pl.Schema({**SIMPLE, "points": pl.Int64})
    with pytest.raises(ValueError, match=r"'points': \('INTEGER', 'BIGINT'\)"):
        wh.replace_partitions(
            "t", simple([(D1, 2, 2, None)]).cast({"points": pl.Int64}), start=D1, end=D1, declared=widened
        )
    renamed = pl.Schema({"game_date": pl.Date, "player_id": pl.Int64, "pts": pl.Int32, "note": pl.Utf8})
    with pytest.raises(ValueError, match="migrate or drop"):
        wh.replace_partitions(
            "t", simple([(D1, 2, 2, None)]).rename({"points": "pts"}), start=D1, end=D1, declared=renamed
        )
    assert wh.load("t", declared=SIMPLE)["note"].to_list() == ["keep"]


def test_a_new_declared_column_is_added_to_the_stored_table_null_on_its_rows(wh):
    wh.replace_partitions("t", simple([(D1, 1, 10, "d1"), (D2, 1, 20, "d2")]), start=D1, end=D2, declared=SIMPLE)
    grown = pl.Schema({**SIMPLE, "is_champion": pl.Boolean})
    # a write whose insert fails rolls the added column back with it
    bad = simple([(D1, 1, 11, "x")]).with_columns(points=pl.lit("lots"), is_champion=pl.lit(True))
    with pytest.raises(duckdb.ConversionException):
        wh.replace_partitions("t", bad, start=D1, end=D1, declared=grown)
    assert wh.load("t", declared=SIMPLE).height == 2
    assert "is_champion" not in stored(wh, "SELECT * FROM nba_props.t").columns
    # the real write: D2 rewritten with the new column, D1 kept with NULL there until it is rewritten
    new = simple([(D2, 1, 21, "d2 again")]).with_columns(is_champion=pl.lit(True))
    assert wh.replace_partitions("t", new, start=D2, end=D2, declared=grown) == 1
    assert wh.load("t", declared=grown).sort("game_date").rows() == [
        (D1, 1, 10, "d1", None),
        (D2, 1, 21, "d2 again", True),
    ]


def test_a_held_database_is_shared_and_its_remembered_columns_follow_every_change(wh):
    from nba_props.io import warehouse as module

    wh.replace_partitions("t", simple([(D1, 1, 10, "d1")]), start=D1, end=D1, declared=SIMPLE)
    with wh.held():
        with Warehouse(wh.path).held():  # nested (another instance, same file): one open database
            assert module._HELD[wh.path].depth == 2
        held = module._HELD[wh.path]
        assert wh.load("t").columns == list(SIMPLE.names()) and ("nba_props", "t") in held.columns
        # a read is remembered (a clone each time: an in-place change stays the caller's) ...
        first = wh.load("t", declared=SIMPLE)
        first.insert_column(0, pl.Series("mine", [1]))
        assert len(held.frames) == 2 and wh.load("t", declared=SIMPLE).rows() == [(D1, 1, 10, "d1")]
        # ... until this process writes the table (any Warehouse instance on the file)
        Warehouse(wh.path).replace_partitions("t", simple([(D1, 1, 11, "new")]), start=D1, end=D1)
        # (a committed write without a schema change keeps the columns: no catalog query per write)
        assert held.columns[("nba_props", "t")] == dict(zip(SIMPLE.names(), ["DATE", "BIGINT", "INTEGER", "VARCHAR"]))
        assert not held.frames and wh.load("t", declared=SIMPLE).rows() == [(D1, 1, 11, "new")]
        grown = pl.Schema({**SIMPLE, "is_champion": pl.Boolean})
        # a failed additive write rolls the column back, and it is not remembered either
        bad = simple([(D1, 1, 11, "x")]).with_columns(points=pl.lit("lots"), is_champion=pl.lit(True))
        with pytest.raises(duckdb.ConversionException):
            wh.replace_partitions("t", bad, start=D1, end=D1, declared=grown)
        assert wh.load("t").columns == list(SIMPLE.names())
        new = simple([(D2, 1, 20, "d2")]).with_columns(is_champion=pl.lit(True))
        assert wh.replace_partitions("t", new, start=D2, end=D2, declared=grown) == 1
        assert wh.load("t").rows() == [(D1, 1, 11, "new", None), (D2, 1, 20, "d2", True)]
        wh.replace_table("t", pl.DataFrame({"v": [1]}))  # recreated with other columns
        assert wh.load("t").rows() == [(1,)]
        assert not wh.table_exists("u")
        wh.replace_table("u", pl.DataFrame({"w": ["a"]}))
        assert wh.table_exists("u") and wh.row_counts() == {"t": 1, "u": 1}
    assert wh.path not in module._HELD
    assert stored(wh, "SELECT * FROM u")["w"].to_list() == ["a"]  # closed: the file opens read-only


def test_failure_mid_transaction_keeps_the_previous_rows(wh):
    wh.replace_partitions("t", simple([(D1, 1, 10, "old"), (D2, 1, 20, "old")]), start=D1, end=D2, declared=SIMPLE)
    # passes every up-front check; the DELETE runs, then the INSERT fails casting 'lots' to INTEGER
    bad = pl.DataFrame({"game_date": [D1, D2], "player_id": [1, 1], "points": ["12", "lots"], "note": ["new", "new"]})
    with pytest.raises(duckdb.ConversionException, match="lots"):
        wh.replace_partitions("t", bad, start=D1, end=D2)
    assert wh.load("t", declared=SIMPLE).rows() == [(D1, 1, 10, "old"), (D2, 1, 20, "old")]

    # a failed first write leaves no table behind either
    with pytest.raises(duckdb.ConversionException):
        wh.replace_partitions("fresh", bad, start=D1, end=D2, declared=SIMPLE)
    assert not wh.table_exists("fresh")


def test_empty_window_and_missing_table_give_typed_empty_frames(wh):
    for declared in (schemas.BOX_SCORES, schemas.PROP_LINE_SNAPSHOTS):
        missing = wh.load("nothing_here", start=D1, end=D1, declared=declared)
        assert missing.height == 0 and missing.schema == declared
    with pytest.raises(LookupError, match="nothing_here does not exist .* no declared schema"):
        wh.load("nothing_here")

    wh.replace_partitions("t", simple([(D1, 1, 1, None)]), start=D1, end=D1, declared=SIMPLE)
    for got in (
        wh.load("t", start=D3, end=D4, declared=SIMPLE),
        wh.load("t", start=D3, end=D4),  # no declared: the table's own types
        wh.load("t", start=D2, end=D1),  # end < start: an empty window
    ):
        assert got.height == 0
        assert got.schema == pl.Schema(
            {"game_date": pl.Date, "player_id": pl.Int64, "points": pl.Int32, "note": pl.String}
        )


def _box_scores() -> pl.DataFrame:
    rows = {
        "game_date": [D1, D2, D2],
        "game_id": ["20241021_NYK_BOS", "20241022_LAL_DEN", "20241022_LAL_DEN"],
        "nba_game_id": ["0022400001", None, "0022400002"],
        "season": ["2024-25"] * 3,
        "player_id": [2**40 + 1, 1628983, 203999],  # beyond Int32
        "player_name": ["José Calderón", "Shai Gilgeous-Alexander", "Nikola Jokić"],
        "player_lookup": ["josecalderon", "shaigilgeousalexander", "nikolajokic"],
        "team": ["NYK", "LAL", "DEN"],
        "opponent": ["BOS", "DEN", "LAL"],
        "is_home": [False, False, True],
        "played": [True, False, True],
        "dnp_reason": [None, "Coach's Decision", None],
        "starter": [True, None, True],
        "minutes": [35.5, None, 0.1 + 0.2],
        "source": ["nba_api", "nba_api", "nba_api"],
    }
    stats = [c for c, dtype in schemas.BOX_SCORES.items() if dtype == pl.Int32]
    for i, column in enumerate(stats):
        rows[column] = [2**31 - 1 - i, None, -(2**31) + i]
    return pl.DataFrame(rows).select(schemas.BOX_SCORES.names()).cast(dict(schemas.BOX_SCORES))


def _prop_lines() -> pl.DataFrame:
    utc = UTC
    midnight_et = datetime(2024, 10, 22, 4, 0, tzinfo=utc)  # 00:00 ET = 04:00 UTC
    return pl.DataFrame(
        {
            "game_date": [D1, D1, D2],
            "game_id": ["20241021_NYK_BOS"] * 2 + ["20241022_LAL_DEN"],
            "event_id": ["abc", "abc", None],
            "away_team": ["NYK", "NYK", "LAL"],
            "home_team": ["BOS", "BOS", "DEN"],
            "tip_time_utc": [
                datetime(2024, 10, 21, 23, 30, tzinfo=utc),
                datetime(2024, 10, 21, 23, 59, 59, 999999, tzinfo=utc),
                datetime(2024, 10, 23, 2, 0, tzinfo=utc),  # 22:00 ET on D2, the next day in UTC
            ],
            "player_name": ["Jalen Brunson", "Jalen Brunson", "LeBron James"],
            "player_lookup": ["jalenbrunson", "jalenbrunson", "lebronjames"],
            "market": ["player_points"] * 3,
            "bookmaker": ["draftkings", "fanduel", "prizepicks"],
            "line": [26.5, 25.0, 24.5],
            "over_price": [-115, 100, None],
            "under_price": [-105, -120, None],
            "captured_at": [midnight_et - timedelta(microseconds=1), midnight_et, None],
            "source": ["the_odds_api", "the_odds_api", "dfs"],
        }
    ).cast(dict(schemas.PROP_LINE_SNAPSHOTS))


@pytest.mark.parametrize(
    ("table", "declared", "build"),
    [
        ("box_scores", schemas.BOX_SCORES, _box_scores),
        ("prop_line_snapshots", schemas.PROP_LINE_SNAPSHOTS, _prop_lines),
    ],
)
def test_dtype_round_trip_is_exact(wh, table, declared, build):
    frame = build()
    assert frame.schema == declared
    assert wh.replace_partitions(table, frame, start=D1, end=D2, declared=declared) == 3

    assert_frame_equal(wh.load(table, declared=declared), frame)
    # without the declared schema the table's own types give the same dtypes back
    assert_frame_equal(wh.load(table), frame)
    # and the stored column types are the explicit mapping
    types = dict(
        stored(
            wh, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?", [table]
        ).iter_rows()
    )
    assert types == {
        c: {"TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE"}.get(t, t)
        for c, t in ((c, duckdb_type(d)) for c, d in declared.items())
    }


def test_timestamps_are_not_shifted_by_the_session_timezone(wh):
    frame = _prop_lines()
    wh.replace_partitions("prop_line_snapshots", frame, start=D1, end=D2, declared=schemas.PROP_LINE_SNAPSHOTS)
    # the instant 03:59:59.999999 UTC is stored as such (not as local time), and dates stay dates
    text = stored(
        wh,
        "SELECT strftime(captured_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%f') AS t FROM prop_line_snapshots "
        "WHERE bookmaker = 'draftkings'",
    )["t"].item()
    assert text == "2024-10-22 03:59:59.999999"


def test_explicit_type_mapping():
    assert duckdb_type(pl.Date()) == "DATE"
    assert duckdb_type(pl.Datetime("us", "UTC")) == "TIMESTAMPTZ"
    assert duckdb_type(pl.Datetime("us")) == "TIMESTAMP"
    assert duckdb_type(pl.Int32()) == "INTEGER"
    assert duckdb_type(pl.Int64()) == "BIGINT"
    assert duckdb_type(pl.Float64()) == "DOUBLE"
    assert duckdb_type(pl.Utf8()) == "VARCHAR"
    assert duckdb_type(pl.Boolean()) == "BOOLEAN"
    assert duckdb_type(pl.List(pl.Utf8)) == "VARCHAR[]"
    with pytest.raises(TypeError, match="all-NULL"):
        duckdb_type(pl.Null())


def test_list_column_round_trip(wh):
    declared = pl.Schema({"game_date": pl.Date, "angles": pl.List(pl.Utf8), "at": pl.Datetime("us", "UTC")})
    frame = pl.DataFrame(
        {
            "game_date": [D1, D1],
            "angles": [["hot hand", "b2b"], None],
            "at": [datetime(2024, 10, 21, 23, 59, tzinfo=UTC), None],
        },
        schema=declared,
    )
    wh.replace_partitions("angles", frame, start=D1, end=D1, declared=declared)
    assert_frame_equal(wh.load("angles", declared=declared), frame)
    assert_frame_equal(wh.load("angles"), frame)


def test_where_scopes_a_replace_on_a_shared_table(wh):
    def quarantine(asset: str, day: date, reasons: list[str]) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "game_date": [day] * len(reasons),
                "asset": [asset] * len(reasons),
                "source_file": ["f.csv"] * len(reasons),
                "source_row": list(range(len(reasons))),
                "reason": reasons,
                "raw": ["{}"] * len(reasons),
            },
            schema=schemas.QUARANTINE,
        )

    q = "ingest_quarantine"
    wh.replace_partitions(
        q,
        quarantine("box_scores", D1, ["b1", "b2"]),
        start=D1,
        end=D1,
        declared=schemas.QUARANTINE,
        where={"asset": "box_scores"},
    )
    wh.replace_partitions(
        q,
        quarantine("schedule", D1, ["s1"]),
        start=D1,
        end=D1,
        declared=schemas.QUARANTINE,
        where={"asset": "schedule"},
    )
    # rerunning box_scores for D1 with fewer rows leaves schedule's rows alone
    wh.replace_partitions(
        q,
        quarantine("box_scores", D1, ["b3"]),
        start=D1,
        end=D1,
        declared=schemas.QUARANTINE,
        where={"asset": "box_scores"},
    )
    # an empty replace clears only its own scope
    wh.replace_partitions(
        q,
        schemas.empty(schemas.QUARANTINE),
        start=D1,
        end=D1,
        declared=schemas.QUARANTINE,
        where={"asset": "injury_report"},
    )

    assert sorted(wh.load(q, declared=schemas.QUARANTINE).select("asset", "reason").rows()) == [
        ("box_scores", "b3"),
        ("schedule", "s1"),
    ]
    assert wh.load(q, start=D1, end=D1, declared=schemas.QUARANTINE, where={"asset": "schedule"})[
        "reason"
    ].to_list() == ["s1"]

    with pytest.raises(ValueError, match=r"1 row\(s\) have asset != 'box_scores'"):
        wh.replace_partitions(q, quarantine("schedule", D1, ["s2"]), start=D1, end=D1, where={"asset": "box_scores"})
    assert wh.row_counts() == {q: 2}


def test_replace_table_swaps_the_whole_table(wh):
    wh.replace_table("regime", pl.DataFrame({"k": ["a", "b"], "v": [1.0, 2.0]}))
    assert wh.replace_table("regime", pl.DataFrame({"k": ["c"], "v": [3.0]})) == 1
    assert wh.load("regime").rows() == [("c", 3.0)]
    declared = pl.Schema({"k": pl.Utf8, "n": pl.Int32})
    # declared schema wins over the frame's dtypes; the table is recreated with the new columns
    assert wh.replace_table("regime", pl.DataFrame({"n": [7], "k": ["d"]}), declared=declared) == 1
    got = wh.load("regime")
    assert got.schema == declared and got.rows() == [("d", 7)]
    assert wh.replace_table("regime", pl.DataFrame(schema=declared), declared=declared) == 0
    assert wh.load("regime", declared=declared).schema == declared


def test_row_counts(wh):
    wh.replace_partitions("a", simple([(D1, 1, 1, None), (D2, 2, 2, None)]), start=D1, end=D2, declared=SIMPLE)
    wh.replace_table("b", pl.DataFrame({"x": [1]}))
    wh.replace_table("c", pl.DataFrame(schema={"x": pl.Int64}))
    assert wh.row_counts() == {"a": 2, "b": 1, "c": 0}


def test_other_schema_is_separate(tmp_path):
    path = tmp_path / "w.duckdb"
    Warehouse(path).replace_table("x", pl.DataFrame({"v": [1]}))
    other = Warehouse(path, schema="scratch")
    assert other.row_counts() == {} and not other.table_exists("x")
    with pytest.raises(ValueError, match="invalid table name"):
        other.load("x; DROP TABLE x", declared=SIMPLE)


def test_threads_each_get_their_own_connection(wh):
    days = [D1 + timedelta(days=i) for i in range(8)]
    wh.replace_partitions("t", pl.DataFrame(schema=SIMPLE), start=D1, end=D1, declared=SIMPLE)
    errors: list[BaseException] = []

    def read_many() -> None:
        try:
            for _ in range(10):
                wh.load("t", declared=SIMPLE)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    readers = [threading.Thread(target=read_many) for _ in range(4)]
    for t in readers:
        t.start()
    for day in days:  # one writer (the duckdb pool), readers alongside
        wh.replace_partitions("t", simple([(day, 1, day.day, None)]), start=day, end=day)
    for t in readers:
        t.join()
    assert errors == []
    assert wh.load("t", declared=SIMPLE)["points"].to_list() == [d.day for d in days]


def test_a_lock_held_by_another_process_is_a_clear_error(wh):
    wh.replace_table("x", pl.DataFrame({"v": [1]}))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(wh.path)!r}); print('ready', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(WarehouseLockedError, match="locked by another process"):
            wh.row_counts()
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    # released once the other process closes its connection
    assert wh.row_counts() == {"x": 1}


def test_load_only_some_columns_of_a_table(wh):
    wh.replace_partitions("t", simple([(D1, 1, 10, "a"), (D2, 2, 20, "b")]), start=D1, end=D2, declared=SIMPLE)
    picked = list(SIMPLE.names())[1:3]
    frame = wh.load("t", start=D2, end=D2, declared=SIMPLE, columns=picked)
    assert frame.columns == picked and frame.height == 1  # the window still applies (on game_date)
    assert frame.schema == pl.Schema({c: SIMPLE[c] for c in picked})
    assert wh.load("missing", declared=SIMPLE, columns=picked).columns == picked  # empty, typed
    with pytest.raises(ValueError, match="not declared"):
        wh.load("t", declared=SIMPLE, columns=["nope"])
