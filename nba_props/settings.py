"""The one settings model, read from `NBA_PROPS_*` environment variables.

Paths default under `NBA_PROPS_HOME` (`./.nba_props`) and are resolved to absolute paths at
load time. Invalid values fail at load with a `SettingsError` naming every bad variable, e.g.
``NBA_PROPS_PROVIDER='foo' is invalid: expected 'simulated' or 'files'``. Secrets are
`SecretStr`: they never appear in `repr()` nor in `public_dict()` (the run-metadata view).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import AwareDatetime, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from nba_props import seasons

ENV_PREFIX = "NBA_PROPS_"


class SettingsError(ValueError):
    """Settings could not be loaded; the message names each offending `NBA_PROPS_*` variable."""


def env_var(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def _absolute(path: Path) -> Path:
    return path.expanduser().resolve()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        case_sensitive=False,
        env_ignore_empty=True,  # NBA_PROPS_DATA_DIR="" means unset, not "."
        extra="forbid",
        frozen=True,
    )

    home: Path = Field(default_factory=lambda: Path.cwd() / ".nba_props")
    storage: Literal["duckdb", "bigquery"] = "duckdb"
    duckdb_path: Path | None = None
    artifacts_dir: Path | None = None
    provider: Literal["simulated", "files"] = "simulated"
    data_dir: Path | None = None
    sim_season: str = "2024-25"
    sim_seed: int = 7
    # Which seasons are partitions (nba_props/partitions.py): "all", "league" or "2023-24..2024-25".
    # `make demo` / `make ui` use "league" so the simulated season is the whole partition range.
    partition_seasons: str = "all"
    gcp_project: str | None = None
    bigquery_dataset: str = "nba_props"
    gcs_bucket: str | None = None
    odds_api_key: SecretStr | None = None
    # Optional alert webhook (JSON POST); a secret: shown only as set/unset.
    alert_webhook_url: SecretStr | None = None
    # A frozen "now" (ISO instant with offset) for sensors, checks and providers; unset = wall clock.
    clock: AwareDatetime | None = None

    @field_validator("home", "duckdb_path", "artifacts_dir", "data_dir")
    @classmethod
    def _resolve_path(cls, value: Path | None) -> Path | None:
        return None if value is None else _absolute(value)

    @field_validator("sim_season")
    @classmethod
    def _valid_season(cls, value: str) -> str:
        seasons.parse_label(value)
        return value

    @field_validator("partition_seasons")
    @classmethod
    def _valid_partition_seasons(cls, value: str) -> str:
        if value not in ("all", "league"):
            first, _, last = value.partition("..")
            for label in (first, last or first):
                seasons.parse_label(label)
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if self.provider == "files":
            if self.data_dir is None:
                raise ValueError(
                    f"{env_var('data_dir')} is required when {env_var('provider')}='files': "
                    "set it to the folder holding the raw files (layout of shared/data/nba)"
                )
            if not self.data_dir.is_dir():
                raise ValueError(f"{env_var('data_dir')}='{self.data_dir}' is not an existing directory")
        defaults = {
            "duckdb_path": self.home / "warehouse.duckdb",
            "artifacts_dir": self.home / "artifacts",
            "data_dir": self.home / "simulated",
        }
        for name, default in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, default)  # frozen model: fill once, here
        return self

    def public_dict(self) -> dict[str, str]:
        """Resolved settings as strings for run metadata; secrets only as "set"/"unset"."""
        out: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name in _SECRET_FIELDS or isinstance(value, SecretStr):
                out[name] = "set" if value is not None and value.get_secret_value() else "unset"
            elif value is None:
                out[name] = "unset"
            else:
                out[name] = str(value)
        return out


_SECRET_FIELDS = frozenset({"odds_api_key", "alert_webhook_url"})


def _describe(error: dict[str, Any]) -> str:
    loc = error.get("loc") or ()
    ctx = error.get("ctx") or {}
    if not loc:  # model-level check: its message already names the variables
        return str(ctx.get("error", error["msg"]))
    field = str(loc[0])
    var = env_var(field)
    if error["type"] == "extra_forbidden":
        return f"{var} is not a known setting"
    if error["type"] == "literal_error":
        reason = f"expected {ctx.get('expected')}"
    elif "error" in ctx:
        reason = str(ctx["error"])
    else:
        reason = error["msg"][:1].lower() + error["msg"][1:]
    shown = "'***'" if field in _SECRET_FIELDS else repr(error.get("input"))
    return f"{var}={shown} is invalid: {reason}"


def load_settings(**overrides: Any) -> Settings:
    """Read the environment now (no caching); keyword overrides win over the environment."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = [_describe(err) for err in exc.errors(include_url=False)]
        raise SettingsError("invalid nba_props settings:\n  " + "\n  ".join(problems)) from None
