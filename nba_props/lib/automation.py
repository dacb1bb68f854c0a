"""The rules of the automation (config/automation.yaml): which assets carry an automation
condition and its lookback, the same-day inputs that may hold a request back, the freshness
policy of every asset, the partition-aware deadlines and the alerts' retries. Pure pydantic."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from nba_props.lib.config_files import CONFIG_DIR, load_config

AUTOMATION_CONFIG_PATH = CONFIG_DIR / "automation.yaml"
BUSINESS_KINDS = ("model_health",)  # the alert kinds of business checks (lib/alerts.Kind)
# kinds a listed check may be routed as: a business kind, or "check" (a data fault raised by a
# non-blocking check, e.g. the publish content guard, which must alert without stopping anything)
ROUTED_KINDS = (*BUSINESS_KINDS, "check")


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConditionRules(_Rules):
    lookback_days: int = Field(ge=1)
    pre_game_assets: tuple[str, ...]
    pre_game_ignored_updates: tuple[str, ...] = ()
    post_game_assets: dict[str, tuple[str, ...]]
    excluded_groups: tuple[str, ...]
    excluded_assets: tuple[str, ...]
    same_day_blockers: dict[str, tuple[str, ...]]
    sensor_minimum_interval_seconds: int = Field(ge=1)


class TimeWindowPolicy(_Rules):
    fail_hours: float = Field(gt=0)
    warn_hours: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _warn_before_fail(self) -> TimeWindowPolicy:
        if self.warn_hours is not None and self.warn_hours >= self.fail_hours:
            raise ValueError(f"warn_hours ({self.warn_hours}) must be below fail_hours ({self.fail_hours})")
        return self


class CronPolicy(_Rules):
    deadline: str  # a cron in the game timezone (America/New_York)
    lower_bound_hours: float = Field(gt=0)


class PolicyRule(_Rules):
    time_window: TimeWindowPolicy | None = None
    cron: CronPolicy | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> PolicyRule:
        if (self.time_window is None) == (self.cron is None):
            raise ValueError("a freshness policy is exactly one of `time_window` or `cron`")
        return self


class FreshnessPolicies(_Rules):
    default: PolicyRule | None
    assets: dict[str, PolicyRule | None]

    def rule_for(self, asset: str) -> PolicyRule | None:
        return self.assets[asset] if asset in self.assets else self.default


class Deadline(_Rules):
    """The partition of `partition` (today / yesterday, ET, as of the check) exists by `at` (ET)."""

    asset: str
    partition: Literal["today", "yesterday"]
    at: time


class FreshnessSensorRules(_Rules):
    minimum_interval_seconds: int = Field(ge=1)
    keep_days: int = Field(ge=2)


class BusinessCheck(_Rules):
    """A check whose failure is a business alert (not a data failure): routed to the alert sink
    with its own `kind` whatever its severity or blocking flag."""

    asset: str
    check: str
    kind: str

    @model_validator(mode="after")
    def _known_kind(self) -> BusinessCheck:
        if self.kind not in ROUTED_KINDS:
            raise ValueError(f"business check kind {self.kind!r} is not one of {ROUTED_KINDS}")
        return self


class AlertRules(_Rules):
    minimum_interval_seconds: int = Field(ge=1)
    warehouse_attempts: int = Field(ge=1)
    warehouse_backoff_seconds: float = Field(ge=0)
    webhook_attempts: int = Field(ge=1)
    webhook_timeout_seconds: float = Field(gt=0)
    webhook_backoff_seconds: float = Field(ge=0)
    business_checks: tuple[BusinessCheck, ...]

    def business_kind(self, asset: str, check: str) -> str | None:
        """The alert kind of a business check, None for any other check."""
        return next((b.kind for b in self.business_checks if (b.asset, b.check) == (asset, check)), None)


class AutomationConfig(_Rules):
    conditions: ConditionRules
    freshness_policies: FreshnessPolicies
    deadlines: tuple[Deadline, ...]
    freshness_sensor: FreshnessSensorRules
    alerts: AlertRules

    @model_validator(mode="after")
    def _one_deadline_per_asset(self) -> AutomationConfig:
        assets = [d.asset for d in self.deadlines]
        if len(assets) != len(set(assets)):
            raise ValueError(f"one deadline per asset (the check is `partition_fresh` of the asset): {assets}")
        return self


def load_automation_config(path: str | Path | None = None) -> AutomationConfig:
    return load_config(AutomationConfig, path or AUTOMATION_CONFIG_PATH)
