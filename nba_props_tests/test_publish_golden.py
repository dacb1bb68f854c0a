"""Golden files: every published file of a fixed simulated slice (the session's trained league,
its trained week's Monday run end to end with a frozen clock) compared byte for byte with the
committed copies in nba_props_tests/golden/ (the README's examples). Also: every file parses
back into its schema, and a public file carries no admin-only field.

After an intended change: `NBA_PROPS_UPDATE_GOLDEN=1 make test PYTEST_ARGS=nba_props_tests/test_publish_golden.py`
and review the diff of nba_props_tests/golden/."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from nba_props.lib.exports import admin_files, best_bets_files, common
from nba_props.lib.publish import load_publish_config
from nba_props_tests.conftest import TRAINED_WEEK, _point_at

GOLDEN = Path(__file__).parent / "golden"
CLOCK = "2024-11-26T14:00:00+00:00"  # the morning after the slice's games: picks published, then graded
CONFIG = load_publish_config()
SCHEMA_OF = {
    "best-bets/all.json": best_bets_files.BestBetsAll,
    "best-bets/today.json": best_bets_files.BestBetsToday,
    "signal-best-bets/": admin_files.SignalBestBets,
    "admin/dashboard.json": admin_files.AdminDashboard,
    "admin/picks/": admin_files.AdminPicks,
    "systems/model-health.json": admin_files.ModelHealthFile,
}
PUBLIC = set(best_bets_files.PUBLIC_SCHEMAS) | set(admin_files.PUBLIC_SCHEMAS)


@pytest.fixture(scope="module")
def published(trained_league, tmp_path_factory) -> Path:
    """The trained league's Monday through the whole main job (one run), the clock frozen after its
    games; returns the artifact folder holding v1/."""
    from nba_props.cli import run_backfill

    home = tmp_path_factory.mktemp("golden") / "home"
    shutil.copytree(trained_league.home, home)
    with pytest.MonkeyPatch.context() as env:
        _point_at(env, home, trained_league.sim)
        env.setenv("NBA_PROPS_CLOCK", CLOCK)
        summary = run_backfill(TRAINED_WEEK, TRAINED_WEEK)
    assert not any(f.get("failed") for f in summary.values()), summary
    return home / "artifacts"


# the slice's files: its dated files and the current ones (the league's earlier days have files too)
EXPECTED = sorted({f"{CONFIG.prefix}/{r.path.replace('{date}', TRAINED_WEEK.isoformat())}"
                   for a in CONFIG.assets.values() for r in a.files})  # fmt: skip


def _files(root: Path) -> dict[str, bytes]:
    return {relpath: (root / relpath).read_bytes() for relpath in EXPECTED if (root / relpath).is_file()}


def _schema(relpath: str):
    name = relpath.removeprefix(f"{CONFIG.prefix}/")
    return next(model for prefix, model in SCHEMA_OF.items() if name.startswith(prefix))


def test_every_file_matches_its_golden_copy(published):
    files = _files(published)
    assert sorted(files) == EXPECTED
    assert json.loads(files[f"{CONFIG.prefix}/best-bets/all.json"])["date"] == TRAINED_WEEK.isoformat()
    if os.environ.get("NBA_PROPS_UPDATE_GOLDEN") == "1":
        shutil.rmtree(GOLDEN / CONFIG.prefix, ignore_errors=True)
        for relpath, data in files.items():
            target = GOLDEN / relpath
            target.parent.mkdir(parents=True, exist_ok=True)
            # committed readable (indented); compared as parsed JSON
            target.write_text(json.dumps(json.loads(data), indent=2) + "\n")
    for relpath, data in files.items():
        golden = GOLDEN / relpath
        assert golden.is_file(), f"no golden copy of {relpath}: NBA_PROPS_UPDATE_GOLDEN=1"
        assert json.loads(data) == json.loads(golden.read_text()), f"{relpath} differs from its golden copy"


def test_every_file_parses_into_its_schema_and_public_ones_hold_no_admin_field(published):
    for relpath, data in _files(published).items():
        model = _schema(relpath).model_validate_json(data)
        if type(model) in PUBLIC:
            assert not set(common.field_names(type(model))) & common.ADMIN_ONLY_FIELDS, relpath
            assert not _keys(json.loads(data)) & common.ADMIN_ONLY_FIELDS, relpath


def _keys(obj) -> set[str]:
    if isinstance(obj, dict):
        return set(obj) | {k for v in obj.values() for k in _keys(v)}
    if isinstance(obj, list):
        return {k for v in obj for k in _keys(v)}
    return set()
