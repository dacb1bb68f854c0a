"""`AlertSink`: where alerts go. Always the log and the warehouse table `nba_props.alerts`;
optionally a webhook (JSON POST, retried, with a timeout) when NBA_PROPS_ALERT_WEBHOOK_URL is set.

The sensors, the runs' crash recovery and the replay raise alerts through it (`send`). The
state logic (one alert per failure, recoveries) is `lib/alerts.py`."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime

import dagster as dg

from nba_props.io.warehouse import Warehouse, WarehouseLockedError
from nba_props.lib import alerts as lib_alerts
from nba_props.lib.alerts import ALERTS_SCHEMA, ALERTS_TABLE, Alert, Kind, Signal
from nba_props.lib.automation import AlertRules, load_automation_config

log = logging.getLogger("nba_props.alerts")


class AlertSink(dg.ConfigurableResource):
    """`database`: the DuckDB warehouse file; `webhook_url`: bound from the environment variable
    (dg.EnvVar, so the UI shows its name, never the value) or None."""

    database: str
    webhook_url: str | None = None

    # ------------------------------------------------------------------ public

    def send(
        self,
        kind: Kind,
        message: str,
        *,
        asset: str | None = None,
        partition: str | None = None,
        check: str | None = None,
        run_id: str | None = None,
        at: datetime | None = None,
    ) -> Alert:
        """Raise one alert now (the runs helper and the replay use this): log, webhook, table.
        Raises WarehouseLockedError when the table stays locked after the retries (the
        alert was logged and posted; the caller decides whether to keep it for later)."""
        signal = Signal(kind, asset, partition, check, True, message, at or datetime.now(UTC), run_id)
        alert = lib_alerts.new_alert(signal)
        self.notify([alert])
        if not self.store([alert]):
            raise WarehouseLockedError(f"alert {alert.alert_id} logged and posted, not stored: warehouse locked")
        return alert

    def notify(self, alerts: Sequence[Alert]) -> None:
        """Log and post each alert (or recovery) once."""
        for alert in alerts:
            verb, what = ("ALERT", "") if alert.status == "open" else ("RECOVERED", "raised as: ")
            log.warning("%s [%s] %s %s %s: %s%s", verb, alert.kind, alert.asset or "-", alert.partition or "-",
                        alert.check or "-", what, alert.message)  # fmt: skip
            if self.webhook_url:
                self.post(alert)

    def unannounced(self, alerts: Sequence[Alert]) -> list[Alert]:
        """`alerts` minus those the table already records with the same status (announced before a
        restart); all of them when the table cannot be read (better twice than never)."""
        if not alerts:
            return []
        warehouse = Warehouse(self.database)
        try:
            if not warehouse.table_exists(ALERTS_TABLE):
                return list(alerts)
            table = warehouse.load(ALERTS_TABLE, declared=ALERTS_SCHEMA, partition_column="raised_at")
        except WarehouseLockedError:
            return list(alerts)
        return lib_alerts.unrecorded(table, alerts)

    def store(self, alerts: Sequence[Alert]) -> bool:
        """Upsert the alert rows; False when the warehouse stays locked by a run's writer."""
        if not alerts:
            return True
        rules = load_automation_config().alerts
        warehouse = Warehouse(self.database)
        for attempt in range(rules.warehouse_attempts):
            try:
                table = warehouse.load(ALERTS_TABLE, declared=ALERTS_SCHEMA, partition_column="raised_at")
                warehouse.replace_table(ALERTS_TABLE, lib_alerts.upsert(table, alerts), declared=ALERTS_SCHEMA)
                return True
            except WarehouseLockedError:
                if attempt + 1 < rules.warehouse_attempts:
                    time.sleep(rules.warehouse_backoff_seconds * 2**attempt)
        log.warning("warehouse locked: %d alert row(s) kept pending", len(alerts))
        return False

    def post(self, alert: Alert, rules: AlertRules | None = None) -> bool:
        """POST the alert as JSON; retried on errors, 5xx and timeouts. Never logs the URL.
        `rules`: the retries and timeout (config/automation.yaml `alerts` unless given)."""
        assert self.webhook_url
        rules = rules or load_automation_config().alerts
        body = json.dumps(alert.to_json()).encode()
        for attempt in range(rules.webhook_attempts):
            request = urllib.request.Request(
                self.webhook_url, data=body, method="POST", headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=rules.webhook_timeout_seconds) as response:
                    if response.status < 300:
                        return True
            except urllib.error.HTTPError as exc:
                if exc.code < 500:  # a client error will not heal by retrying
                    log.warning("alert webhook refused alert %s: HTTP %s", alert.alert_id, exc.code)
                    return False
            except (urllib.error.URLError, TimeoutError, OSError):
                pass
            if attempt + 1 < rules.webhook_attempts:
                time.sleep(rules.webhook_backoff_seconds * 2**attempt)
        log.warning("alert webhook failed for alert %s after %d attempts", alert.alert_id, rules.webhook_attempts)
        return False
