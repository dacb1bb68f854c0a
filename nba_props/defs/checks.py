"""Turn a rule's offending rows (lib) into an AssetCheckResult with counts and a sample."""

from __future__ import annotations

import dagster as dg
import polars as pl

SAMPLE_ROWS = 5


def rows_check(
    check_name: str,
    offending: pl.DataFrame,
    *,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
    **extra_metadata: object,
) -> dg.AssetCheckResult:
    metadata: dict[str, object] = {"offending_rows": offending.height, **extra_metadata}
    if offending.height:
        metadata["sample"] = dg.MetadataValue.md(_markdown(offending.head(SAMPLE_ROWS)))
    return dg.AssetCheckResult(
        check_name=check_name, passed=offending.height == 0, severity=severity, metadata=metadata
    )


def _markdown(frame: pl.DataFrame) -> str:
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([header, rule, *body])
