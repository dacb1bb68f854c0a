"""Every asset spec, check, job, sensor and resource of the code location, serialized and compared
with a committed snapshot, so every graph change shows up in review.

After an intended change: `NBA_PROPS_UPDATE_SNAPSHOT=1 make test PYTEST_ARGS=nba_props_tests/test_defs_snapshot.py`
and commit `nba_props_tests/snapshots/definitions.json`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


def _partitions(partitions_def) -> dict | None:
    if partitions_def is None:
        return None
    if isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        return {
            "type": type(partitions_def).__name__,
            "cron": partitions_def.cron_schedule,
            "start": partitions_def.start.isoformat(),
            "timezone": partitions_def.timezone,
            "end_offset": partitions_def.end_offset,
            "exclusions": sorted(str(e) for e in (getattr(partitions_def, "exclusions", None) or [])),
        }
    return {"type": type(partitions_def).__name__, "description": str(partitions_def)}


def snapshot_of(defs: dg.Definitions) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for node in sorted(graph.asset_nodes, key=lambda n: n.key.to_user_string()):
        condition = node.automation_condition
        freshness = getattr(node, "freshness_policy", None)
        assets[node.key.to_user_string()] = {
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "owners": sorted(node.owners),
            "tags": dict(sorted((node.tags or {}).items())),
            "partitions": _partitions(node.partitions_def),
            "backfill_policy": str(node.backfill_policy) if node.backfill_policy else None,
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "checks": {
                key.name: {"blocking": graph.get_check_spec(key).blocking}
                for key in sorted(node.check_keys, key=lambda k: k.name)
            },
            "automation_condition": condition.get_label() or type(condition).__name__ if condition else None,
            "freshness_policy": type(freshness).__name__ if freshness else None,
            "columns": [c.name for c in node.metadata["dagster/column_schema"].columns]
            if "dagster/column_schema" in node.metadata
            else None,
        }
    repo = defs.get_repository_def()
    jobs = {
        job.name: {
            "assets": sorted(
                k.to_user_string() for k in (job.asset_layer.executable_asset_keys if job.asset_layer else [])
            ),
            "partitions": _partitions(job.partitions_def),
        }
        for job in sorted(repo.get_all_jobs(), key=lambda j: j.name)
        if not job.name.startswith("__")
    }
    return {
        "assets": assets,
        "jobs": jobs,
        "sensors": sorted(s.name for s in repo.sensor_defs),
        "schedules": sorted(s.name for s in repo.schedule_defs),
        "resources": sorted(repo.get_top_level_resources()),
    }


def test_definitions_match_the_committed_snapshot(nba_home):
    from nba_props import definitions

    current = snapshot_of(definitions.defs())
    text = json.dumps(current, indent=2, sort_keys=True) + "\n"
    if os.environ.get("NBA_PROPS_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(text)
    # A missing snapshot fails (read_text raises) rather than being written and passing unseen.
    committed = json.loads(SNAPSHOT.read_text())
    assert current == committed, (
        "definitions changed: review the diff, then regenerate with NBA_PROPS_UPDATE_SNAPSHOT=1 "
        f"({SNAPSHOT.relative_to(Path(__file__).parents[1])})"
    )


def test_snapshot_notices_a_changed_graph(nba_home):
    """The comparison is real: adding an asset changes the snapshot."""
    from nba_props import definitions

    base = definitions.defs()

    @dg.asset(group_name="extra")
    def planted() -> None: ...

    changed = dg.Definitions.merge(base, dg.Definitions(assets=[planted]))
    assert snapshot_of(changed) != snapshot_of(base)


def test_dagster_validates_the_code_location(nba_home):
    """What `dg check defs` / the webserver do on load: import the module and build every definition."""
    env = {**os.environ, "DAGSTER_HOME": str(nba_home / "dagster_home")}
    Path(env["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "nba_props.definitions"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Validation successful" in done.stdout + done.stderr
