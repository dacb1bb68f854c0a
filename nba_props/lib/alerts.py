"""Alert state: failures become one open alert each; a later pass of the same thing recovers it.

Pure logic (no dagster): a `Signal` says "this check / deadline / job of this partition just
failed or passed"; `transition` turns signals into new and recovered alerts against the open
ones, so a failure seen on every tick is still one alert. The rows of `nba_props.alerts` and
the markdown the UI shows are built here too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Literal

import polars as pl

Kind = Literal["freshness", "check", "run", "pool_wait", "model_health", "other"]
ALERTS_TABLE = "alerts"
ALERTS_SCHEMA = pl.Schema(
    {
        "alert_id": pl.String,
        "raised_at": pl.Datetime("us", "UTC"),
        "kind": pl.String,
        "asset": pl.String,
        "partition": pl.String,
        "check": pl.String,
        "message": pl.String,
        "run_id": pl.String,
        "status": pl.String,  # open / recovered
        "recovered_at": pl.Datetime("us", "UTC"),
    }
)
ALERTS_DOC = {  # the column schema the UI shows
    "alert_id": "Stable id of the failure (kind, asset, partition, check): one alert per failure.",
    "raised_at": "When the failure was first seen (UTC).",
    "kind": "freshness, check, run, pool_wait, model_health (a business check: the champion's health) or other.",
    "asset": "The asset (or job:<name> for a failed run) the alert is about.",
    "partition": "The partition key concerned, when there is one.",
    "check": "The failed check's name, when the alert is a check or freshness failure.",
    "message": "What failed, as sent to the log and the webhook.",
    "run_id": "The run that failed or evaluated the check, when known.",
    "status": "open, or recovered once the same thing passes again.",
    "recovered_at": "When it recovered (UTC); NULL while open.",
}


@dataclass(frozen=True)
class Signal:
    """One observation: `subject` is the asset (or `job:<name>` for runs); failed or passed."""

    kind: Kind
    subject: str | None
    partition: str | None
    check: str | None
    failed: bool
    message: str
    at: datetime
    run_id: str | None = None

    @property
    def key(self) -> str:
        return alert_key(self.kind, self.subject, self.partition, self.check)


@dataclass(frozen=True)
class Alert:
    alert_id: str
    raised_at: datetime
    kind: str
    asset: str | None
    partition: str | None
    check: str | None
    message: str
    run_id: str | None
    status: Literal["open", "recovered"] = "open"
    recovered_at: datetime | None = None

    @property
    def key(self) -> str:
        return alert_key(self.kind, self.asset, self.partition, self.check)

    def to_json(self) -> dict[str, object]:
        out = asdict(self)
        for name in ("raised_at", "recovered_at"):
            out[name] = None if out[name] is None else out[name].isoformat()
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, object]) -> Alert:
        data = dict(raw)
        for name in ("raised_at", "recovered_at"):
            data[name] = None if data[name] is None else datetime.fromisoformat(str(data[name]))
        return cls(**data)  # type: ignore[arg-type]


def alert_key(kind: str, subject: str | None, partition: str | None, check: str | None) -> str:
    return "|".join([kind, subject or "", partition or "", check or ""])


def new_alert(signal: Signal) -> Alert:
    at = signal.at.astimezone(UTC)
    alert_id = hashlib.sha1(f"{signal.key}|{at.isoformat()}".encode()).hexdigest()[:16]
    return Alert(
        alert_id=alert_id,
        raised_at=at,
        kind=signal.kind,
        asset=signal.subject,
        partition=signal.partition,
        check=signal.check,
        message=signal.message,
        run_id=signal.run_id,
    )


def transition(open_alerts: Mapping[str, Alert], signals: Iterable[Signal]) -> list[Alert]:
    """The alert rows that change, in signal order: a failure with no open alert of its key opens
    one; a pass with an open alert recovers it; anything else changes nothing."""
    current = dict(open_alerts)
    changes: list[Alert] = []
    for signal in signals:
        alert = current.get(signal.key)
        if signal.failed and alert is None:
            alert = new_alert(signal)
            current[signal.key] = alert
            changes.append(alert)
        elif not signal.failed and alert is not None:
            changes.append(replace(alert, status="recovered", recovered_at=signal.at.astimezone(UTC)))
            del current[signal.key]
    return changes


def apply(open_alerts: Mapping[str, Alert], changes: Iterable[Alert]) -> dict[str, Alert]:
    """The open alerts after `changes`."""
    current = dict(open_alerts)
    for alert in changes:
        if alert.status == "open":
            current[alert.key] = alert
        else:
            current.pop(alert.key, None)
    return current


def to_frame(alerts: Iterable[Alert]) -> pl.DataFrame:
    rows = [asdict(a) for a in alerts]
    return pl.DataFrame(rows, schema=ALERTS_SCHEMA) if rows else pl.DataFrame(schema=ALERTS_SCHEMA)


def upsert(table: pl.DataFrame, changes: Iterable[Alert]) -> pl.DataFrame:
    """The alerts table with `changes` written over the rows of the same alert_id."""
    # a failure and its recovery can arrive in one batch: the later row of an alert wins
    new = to_frame(changes).unique("alert_id", keep="last", maintain_order=True)
    kept = table.filter(~pl.col("alert_id").is_in(new["alert_id"].implode()))
    return pl.concat([kept, new]).sort("raised_at", "alert_id")


def unrecorded(table: pl.DataFrame, changes: Iterable[Alert]) -> list[Alert]:
    """The changes the table does not hold yet (same alert_id and status): what still has to be
    announced. A sensor restarted without its cursor re-derives old alerts; they are not news."""
    status = dict(table.select("alert_id", "status").iter_rows()) if table.height else {}
    # a row holds an alert's latest status: its opening is recorded once the row exists at all
    return [a for a in changes if a.alert_id not in status or (a.status == "recovered" != status[a.alert_id])]


def markdown(open_alerts: Iterable[Alert]) -> str:
    rows = sorted(open_alerts, key=lambda a: (a.raised_at, a.alert_id))
    if not rows:
        return "No open alerts."
    lines = ["| raised (UTC) | kind | asset | partition | check | message |", "|---|---|---|---|---|---|"]
    for a in rows:
        cells = [f"{a.raised_at:%Y-%m-%d %H:%M}", a.kind, a.asset or "", a.partition or "", a.check or "", a.message]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)
