"""The local artifact store: atomic writes, JSON encoding, listing, root confinement."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pytest

from nba_props.io.artifacts import ArtifactStore, ArtifactStoreResource, LocalArtifactStore


@pytest.fixture
def store(tmp_path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "artifacts")


def test_bytes_round_trip_and_file_uri(store, tmp_path):
    uri = store.write_bytes("models/week=2024-10-21/v1.cbm", b"\x00\x01model")
    target = (tmp_path / "artifacts" / "models" / "week=2024-10-21" / "v1.cbm").resolve()
    assert uri == f"file://{target}" and uri.startswith("file:///")
    assert store.uri("models/week=2024-10-21/v1.cbm") == uri
    assert target.read_bytes() == b"\x00\x01model"
    assert store.read_bytes("models/week=2024-10-21/v1.cbm") == b"\x00\x01model"
    assert store.exists("models/week=2024-10-21/v1.cbm")
    assert not store.exists("models/week=2024-10-21")  # a folder is not an artifact
    assert not store.exists("models/missing.cbm")
    with pytest.raises(FileNotFoundError):
        store.read_bytes("models/missing.cbm")


def test_json_is_stable_readable_and_stringifies_dates(store, tmp_path):
    obj = {"b": [1, 2.5, None], "a": {"day": date(2024, 10, 22), "at": datetime(2024, 10, 22, 23, 5, tzinfo=UTC)}}
    store.write_json("best-bets/all.json", obj)
    text = (tmp_path / "artifacts" / "best-bets" / "all.json").read_text()
    assert text == json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n"
    assert text.index('"a"') < text.index('"b"')
    assert store.read_json("best-bets/all.json") == {
        "a": {"at": "2024-10-22 23:05:00+00:00", "day": "2024-10-22"},
        "b": [1, 2.5, None],
    }


def test_overwrite_is_atomic_and_leaves_no_temp_files(store, tmp_path, monkeypatch):
    store.write_json("best-bets/today.json", {"v": 1})
    store.write_json("best-bets/today.json", {"v": 2})
    assert store.read_json("best-bets/today.json") == {"v": 2}

    # a crash at the rename leaves the previous file whole and no temporary file behind
    def failing_replace(src, dst):
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk gone"):
        store.write_json("best-bets/today.json", {"v": 3})
    monkeypatch.undo()
    assert store.read_json("best-bets/today.json") == {"v": 2}
    assert sorted(p.name for p in (tmp_path / "artifacts" / "best-bets").iterdir()) == ["today.json"]


def test_list_is_sorted_relative_and_prefix_filtered(store):
    assert store.list() == []  # the root does not exist yet
    for path in ["b.json", "admin/picks/2024-10-22.json", "admin/dashboard.json", "admin/picks/2024-10-21.json"]:
        store.write_json(path, {})
    assert store.list() == [
        "admin/dashboard.json",
        "admin/picks/2024-10-21.json",
        "admin/picks/2024-10-22.json",
        "b.json",
    ]
    assert store.list("admin/picks/") == ["admin/picks/2024-10-21.json", "admin/picks/2024-10-22.json"]
    assert store.list("nothing/") == []


@pytest.mark.parametrize("bad", ["../x.json", "a/../../x.json", "a/../b.json", "/etc/passwd", "", ".", "C:/x"])
def test_paths_escaping_the_root_are_refused(store, bad):
    with pytest.raises(ValueError):
        store.write_bytes(bad, b"x")
    with pytest.raises(ValueError):
        store.exists(bad)


def test_symlink_out_of_the_root_is_refused(store, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    store.root.mkdir(parents=True)
    (store.root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError, match="outside the store root"):
        store.write_bytes("link/x.bin", b"x")
    assert list(outside.iterdir()) == []


def test_resource_and_protocol(tmp_path):
    @dg.asset
    def published(artifacts: ArtifactStoreResource) -> None:
        artifacts.store().write_json("systems/model-health.json", {"ok": True})

    root = tmp_path / "art"
    assert dg.materialize([published], resources={"artifacts": ArtifactStoreResource(root=str(root))}).success
    store = ArtifactStoreResource(root=str(root)).store()
    assert isinstance(store, ArtifactStore) and isinstance(store, LocalArtifactStore)
    assert store.read_json("systems/model-health.json") == {"ok": True}
    assert Path(store.root) == root.resolve()


def test_uri_encodes_only_what_a_uri_cannot_hold(store):
    assert store.uri("reports/steering report #1.md").endswith("/reports/steering%20report%20%231.md")
    assert store.uri("models/week=2024-10-21/m.cbm").endswith("/models/week=2024-10-21/m.cbm")
