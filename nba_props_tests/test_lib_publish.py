"""lib/publish.py: the content guard, the current-file rule, the plan's table, the config, and
the artifact store's atomic write (a crash between the temporary file and the rename leaves the
old file)."""

import json
from datetime import date

import polars as pl
import pytest

from nba_props.io.artifacts import LocalArtifactStore
from nba_props.lib import publish
from nba_props.lib.publish import Planned, Stored

D1, D2, D3 = date(2025, 10, 21), date(2025, 10, 22), date(2025, 10, 23)
RATIO = 0.30


def planned(day: date, path: str, count: int, *, current: bool = True, valid: bool = True) -> Planned:
    data = json.dumps({"date": day.isoformat(), "picks": list(range(count))}).encode()
    return Planned(day, path, current, data, count, valid, None if valid else "bad")


def test_guard_refuses_below_30_pct_of_the_same_dates_previous_count():
    # 10 before: 3 is exactly 30% (kept), 2 is below (refused)
    kept = publish.decide([planned(D1, "a.json", 3)], {"a.json": Stored(D1, 10)}, {}, RATIO)
    refused = publish.decide([planned(D1, "a.json", 2)], {"a.json": Stored(D1, 10)}, {}, RATIO)
    assert (kept[0].write, kept[0].degraded) == (True, False)
    assert (refused[0].write, refused[0].degraded) == (False, True)
    assert refused[0].previous_count == 10 and "2 < 0.3 x 10" in refused[0].reason


def test_guard_accepts_fewer_picks_when_the_upstream_says_why():
    out = publish.decide([planned(D1, "a.json", 0)], {"a.json": Stored(D1, 10)},
                         {D1: "health gate closed (champion BLOCKED)"}, RATIO)  # fmt: skip
    assert out[0].write and not out[0].degraded and "health gate" in out[0].reason


def test_guard_compares_only_the_same_date():
    # yesterday's file had 10 picks: today's 1 pick is a new date, not a shrink
    out = publish.decide([planned(D2, "a.json", 1)], {"a.json": Stored(D1, 10)}, {}, RATIO)
    assert out[0].write and out[0].previous_count is None


def test_current_file_written_once_for_the_newest_date_and_never_turned_back():
    run = [planned(D1, "all.json", 2), planned(D2, "all.json", 2), planned(D1, "d/1.json", 2, current=False)]
    out = publish.decide(run, {}, {}, RATIO)
    assert [(d.planned.day, d.planned.relpath, d.write) for d in out] == [
        (D1, "all.json", False), (D2, "all.json", True), (D1, "d/1.json", True)]  # fmt: skip
    # the store holds D3: a re-run of D2 keeps it
    again = publish.decide([planned(D2, "all.json", 5)], {"all.json": Stored(D3, 4)}, {}, RATIO)
    assert not again[0].write and not again[0].degraded and "newer date (2025-10-23)" in again[0].reason


def test_invalid_file_is_never_written():
    out = publish.decide([planned(D1, "a.json", 3, valid=False)], {}, {}, RATIO)
    assert not out[0].write and out[0].reason.startswith("schema:")


def test_stored_of_reads_date_and_count_and_tolerates_garbage():
    assert publish.stored_of(b'{"date": "2025-10-21", "picks": [1, 2]}', "picks") == Stored(D1, 2)
    assert publish.stored_of(b"not json", "picks") == Stored(None, None)
    assert publish.stored_of(None, "picks") == Stored(None, None)
    # the other keys (an admin file's candidate rows) are skipped, whatever they hold
    big = b'{"candidates": [{"x": 1}, [null, 2.5], "s"], "date": "2025-10-21", "picks": [{"p": 1}], "ultra": {}}'
    assert publish.stored_of(big, "picks") == Stored(D1, 1)
    assert publish.stored_of(b'{"date": "2025-10-21", "models": 3}', "models") == Stored(D1, None)  # not a list
    assert publish.stored_of(b'{"date": "2025-10-21"}', "today") == Stored(D1, None)
    assert publish.stored_of(b'{"picks": [1]}', "picks") == Stored(None, None)  # no date
    assert publish.stored_of(b'{"date": "21/10/2025", "picks": [1]}', "picks") == Stored(None, None)
    assert publish.stored_of(b'{"date": 1729468800, "picks": [1]}', "picks") == Stored(None, None)
    assert publish.stored_of(b"[1, 2]", "picks") == Stored(None, None)


def test_excuses_health_gate_and_days_without_played_games():
    best_bets = pl.DataFrame({"game_date": [D1, D2], "health_gate_active": [True, False],
                              "health_gate_reason": ["champion v12 BLOCKED", None]})  # fmt: skip
    schedule = pl.DataFrame({"game_date": [D1, D2, D3], "status": ["final", "final", "postponed"]})
    assert publish.excuses_of(schedule, [D1, D2, D3, date(2025, 10, 24)], best_bets=best_bets) == {
        D1: "health gate closed (champion v12 BLOCKED)",
        D3: "no games on the date",
        date(2025, 10, 24): "no games on the date",
    }


def test_withdrawn_picks_excuse_a_shrunken_day():
    best_bets = pl.DataFrame(schema={"game_date": pl.Date, "health_gate_active": pl.Boolean,
                                     "health_gate_reason": pl.Utf8})  # fmt: skip
    schedule = pl.DataFrame({"game_date": [D1, D2], "status": ["final", "final"]})
    ledger = pl.DataFrame({"game_date": [D1, D1, D2], "status": ["withdrawn", "withdrawn", "published"],
                           "withdrawn_reason": ["filter: edge_floor", "filter: edge_floor", None]})  # fmt: skip
    assert publish.excuses_of(schedule, [D1, D2], best_bets=best_bets, ledger=ledger) == {
        D1: "the ledger withdrew 2 pick(s) before their tip (filter: edge_floor)"
    }
    assert publish.excuses_of(schedule, [D1, D2], best_bets=best_bets) == {}


def test_files_rows_and_marker():
    out = publish.decide([planned(D1, "v1/best-bets/all.json", 1)], {"v1/best-bets/all.json": Stored(D1, 8)}, {}, RATIO)
    rows = publish.files_rows(out)
    assert rows.schema == publish.FILES_SCHEMA
    assert rows.select("written", "degraded", "picks", "previous_picks").row(0) == (False, True, 1, 8)
    assert publish.marker_path("v1/best-bets/all.json") == "v1/best-bets/all.degraded.json"
    assert publish.marker_payload(out[0])["refused_count"] == 1


def test_config_paths_are_dated_or_current():
    config = publish.load_publish_config()
    assert config.relpath(config.files_of("admin_picks_json")[0], D1) == "v1/admin/picks/2025-10-21.json"
    with pytest.raises(ValueError, match="either dated"):
        publish.FileRule(path="x/{date}.json", current=True)
    with pytest.raises(ValueError, match="either dated"):
        publish.FileRule(path="x/latest.json")


def _version_of(tmp_path, text: str) -> str:
    """The algorithm version of a config whose one rule file `a.yaml` holds `text`."""
    config = publish.PublishConfig(prefix="v1", algorithm_files=("a.yaml",), assets={},
                                   content_guard={"min_ratio": 0.3})  # fmt: skip
    (tmp_path / "a.yaml").write_text(text)
    return publish.algorithm_version(config, {"models": "2"}, tmp_path)


def test_algorithm_version_changes_with_a_rule_file(tmp_path):
    first = _version_of(tmp_path, "x: 1\n")
    assert first.startswith("models-2.rules-") and _version_of(tmp_path, "x: 2\n") != first


def test_algorithm_version_ignores_comments_and_layout(tmp_path):
    first = _version_of(tmp_path, "x: 1\ny: [a, b]\n")
    assert _version_of(tmp_path, "# the evidence for x, written next to it\ny:\n  - a\n  - b\nx: 1  # kept\n") == first
    assert _version_of(tmp_path, "x: 1\ny: [b, a]\n") != first  # order inside a list is content


def test_a_crash_between_temp_and_rename_leaves_the_old_file(tmp_path, monkeypatch):
    store = LocalArtifactStore(tmp_path)
    store.write_bytes("v1/best-bets/all.json", b'{"old": true}')

    def crash(src, dst):
        raise OSError("power cut between the temporary file and the rename")

    monkeypatch.setattr("nba_props.io.artifacts.os.replace", crash)
    with pytest.raises(OSError, match="power cut"):
        store.write_bytes("v1/best-bets/all.json", b'{"new": true}')
    assert store.read_bytes("v1/best-bets/all.json") == b'{"old": true}'
    assert (tmp_path / "v1" / "best-bets" / "all.json").stat().st_mode & 0o777 == 0o644  # readable, not 0600
    assert [p.name for p in (tmp_path / "v1" / "best-bets").iterdir()] == ["all.json"]  # no temporary left


def test_delete(tmp_path):
    store = LocalArtifactStore(tmp_path)
    store.write_bytes("a/b.json", b"{}")
    assert store.delete("a/b.json") and not store.exists("a/b.json") and not store.delete("a/b.json")
