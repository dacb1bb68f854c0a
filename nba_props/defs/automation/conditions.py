"""The automation condition sensor: evaluates every asset's condition (set in one place by
`nba_props/automation.py`) and launches what they request. Running by default."""

import dagster as dg

from nba_props.lib.automation import load_automation_config

automation = dg.AutomationConditionSensorDefinition(
    "automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=load_automation_config().conditions.sensor_minimum_interval_seconds,
    description="Requests derived game-date partitions (today and the lookback) when an input updates "
    "or a partition is newly missing; see nba_props/automation.py and config/automation.yaml.",
)
