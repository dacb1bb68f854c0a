"""The one way a publish asset writes its files (the rules: `lib/publish.py`): every date of the
run built and validated first, the content guard and the current-file rule decided, then the
writes (each atomic through the artifact store), the degraded markers, per-partition metadata and
the table row of every file (with its payload, so each date's version stays in the warehouse)."""

from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import dagster as dg
import polars as pl
from pydantic import BaseModel, ValidationError

from nba_props.dagster_helpers import (
    add_partitions_metadata,
    check_spec,
    daily_asset_kwargs,
    rows_check,
    unique_key_spec,
)
from nba_props.io.artifacts import ArtifactStore, dumps_json
from nba_props.lib import publish
from nba_props.lib.exports.common import to_json_bytes
from nba_props.lib.ingest_checks import duplicate_keys
from nba_props.partitions import DATE_FMT

GROUP = "publish"
CONFIG = publish.load_publish_config()
SCHEMA_VALID = "schema_valid"
CONTENT_GUARD = "content_guard"
WRITERS = 8  # concurrent file writes of a run (I/O bound: each waits on its fsync)


def asset_kwargs(asset: str, description: str) -> dict[str, object]:
    """daily_asset_kwargs (its description names the files) + the publish checks: the blocking
    schema check (nothing is written when a file would not parse back into its schema) and the
    content guard (fails on a refused file: an alert)."""
    files = ", ".join(f"`{CONFIG.prefix}/{f.path}`" for f in CONFIG.files_of(asset))
    return {
        **daily_asset_kwargs(asset, f"{description} Files: {files}.", GROUP),
        "check_specs": [
            unique_key_spec(asset),
            check_spec(
                asset,
                SCHEMA_VALID,
                "every file's encoded JSON parses back into its pydantic schema (finite "
                "numbers, ISO dates, non-negative edges with a direction); checked before writing: a failure "
                "writes nothing",
                blocking=True,
            ),  # fmt: skip
            check_spec(
                asset,
                CONTENT_GUARD,
                f"no file replaced by one of the same date with fewer than "
                f"{CONFIG.content_guard.min_ratio:g} x its picks unless the upstream says why (health gate, "
                "no games); a refused file keeps the old one and writes a degraded marker",
            ),  # fmt: skip
        ],
    }


def _plan(
    asset: str, models: Mapping[date, BaseModel], frames: Mapping[date, Mapping[str, pl.DataFrame]]
) -> tuple[list[publish.Planned], dict[date, BaseModel]]:
    """Every file of every day encoded once and parsed back into its schema; the days' whole
    models (a model given with `frames` comes back from the parse with those rows)."""
    rules, field = CONFIG.files_of(asset), CONFIG.assets[asset].count_field
    planned, whole = [], dict(models)
    for day, model in sorted(models.items()):
        data = to_json_bytes(model, frames.get(day))
        try:
            parsed = type(model).model_validate_json(data)
            valid, error = True, None
            if day in frames:
                whole[day] = parsed
        except ValidationError as exc:
            valid, error = False, str(exc).splitlines()[0]
        count = len(getattr(whole[day], field))
        planned += [publish.Planned(day, CONFIG.relpath(r, day), r.current, data, count, valid, error) for r in rules]
    return planned, whole


def _read(store: ArtifactStore, relpath: str) -> bytes | None:
    """The stored bytes, None without a file (one read, no separate existence check)."""
    try:
        return store.read_bytes(relpath)
    except FileNotFoundError:
        return None


def _stored(store: ArtifactStore, asset: str, planned: list[publish.Planned]) -> dict[str, publish.Stored]:
    field = CONFIG.assets[asset].count_field
    return {path: publish.stored_of(_read(store, path), field) for path in {p.relpath for p in planned}}


def _apply(store: ArtifactStore, d: publish.Decision) -> str | None:
    """One decision's writes (the file, or its degraded marker); the written file's URI."""
    marker = publish.marker_path(d.planned.relpath)
    if d.write:
        uri = store.write_bytes(d.planned.relpath, d.planned.data)
        store.delete(marker)  # a good file clears an earlier refusal
        return uri
    if d.degraded:
        store.write_bytes(marker, (dumps_json(publish.marker_payload(d)) + "\n").encode("utf-8"))
    return None


def publish_files(
    context: dg.AssetExecutionContext,
    asset: str,
    store: ArtifactStore,
    models: Mapping[date, BaseModel],
    excuses: Mapping[date, str],
    markdown: Callable[[BaseModel], str] | None = None,
    figures: Callable[[BaseModel], Mapping[str, object]] | None = None,
    frames: Mapping[date, Mapping[str, pl.DataFrame]] | None = None,
) -> Iterator:
    """`asset`'s output and checks (the publish step holds several assets). `frames`: per day,
    list fields its model holds empty, as frames (`to_json_bytes`)."""
    planned, models = _plan(asset, models, frames or {})
    decisions = publish.decide(planned, _stored(store, asset, planned), excuses, CONFIG.content_guard.min_ratio)
    rows = publish.files_rows(decisions)
    invalid = rows.filter(pl.col("reason").str.starts_with("schema:")).select("game_date", "path", "reason")
    if invalid.height:  # before anything is written: the asset writes no file and has no output;
        # its blocking check fails the step once the step's other assets are written
        context.log.error(f"{asset}: {invalid.height} file(s) fail their schema; nothing written")
        yield rows_check(SCHEMA_VALID, invalid, asset_key=asset)
        return
    # each file atomic on its own (temp + fsync + rename): written concurrently, the fsyncs overlap
    acting = [d for d in decisions if d.write or d.degraded]  # (a season's run skips most current files)
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        uris = list(pool.map(lambda d: _apply(store, d), acting))
    uri_of = {id(d): uri for d, uri in zip(acting, uris, strict=True)}
    by_day: dict[date, list[publish.Decision]] = {}
    for d in decisions:
        by_day.setdefault(d.planned.day, []).append(d)
    per_day: dict[str, dict[str, object]] = {}
    for day, model in models.items():
        values: dict[str, object] = {"dagster/row_count": len(by_day[day]), "picks": by_day[day][0].planned.count,
                                     "degraded": any(d.degraded for d in by_day[day]),
                                     "written": sum(d.write for d in by_day[day])}  # fmt: skip
        for d in by_day[day]:
            name = d.planned.relpath.removeprefix(f"{CONFIG.prefix}/")
            if d.write:  # a file not written has no size or path to show: only why
                values[f"bytes/{name}"] = len(d.planned.data)
                values[f"files/{name}"] = dg.MetadataValue.path(uri_of[id(d)])
            else:
                values[f"skipped/{name}"] = d.reason
        if figures is not None:
            values |= dict(figures(model))
        if markdown is not None:
            values["day"] = dg.MetadataValue.md(markdown(model))
        per_day[day.strftime(DATE_FMT)] = values
    add_partitions_metadata(context, per_day, asset_key=asset)
    yield dg.Output(
        rows,
        output_name=asset,
        metadata={
            "run_rows": rows.height,
            "run_written": int(rows.get_column("written").sum()),
            "run_degraded": int(rows.get_column("degraded").sum()),
            "run_bytes_written": int(rows.filter(pl.col("written")).get_column("bytes").sum()),
            "store": store.uri(CONFIG.prefix),
        },
    )
    yield rows_check("unique_key", duplicate_keys(rows, publish.FILES_KEY), asset_key=asset)
    yield rows_check(SCHEMA_VALID, invalid, asset_key=asset)
    refused = rows.filter(pl.col("degraded")).select("game_date", "path", "picks", "previous_picks", "reason")
    where = {}
    if refused.height:  # the alert names the (first) day and says why
        where = {"partition": refused.item(0, "game_date").strftime(DATE_FMT)}
    yield rows_check(CONTENT_GUARD, refused, severity=dg.AssetCheckSeverity.ERROR,
                     description=f"{refused.height} file(s) kept as they were: " + "; ".join(
                         f"{r['path']}: {r['reason']}" for r in refused.head(3).iter_rows(named=True)),
                     asset_key=asset, **where)  # fmt: skip
