"""Service settings from PAINPLAN_* environment variables and an optional TOML file (docs/configuration.md)."""

from __future__ import annotations

import difflib
import math
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from cds_hooks.settings import CdsSettings
from guideline.config import DEFAULTS, ConfigError, GuidelineConfig
from guideline.text_files import NotUtf8TextError, read_text_file
from launch.scopes import user_reads
from launch.settings import LaunchSettings
from smart_app.ndc_crosswalk import with_crosswalk_file
from smart_app.settings_fields import ENV_PREFIX, SettingsFields
from smart_app.settings_rules import NONE_TYPED, validate


@dataclass(frozen=True)
class Settings(SettingsFields):
    """Everything the app needs; each face reads its own part (`cds`, `launch`), clinical settings are `guideline`."""

    @cached_property
    def cds(self) -> CdsSettings:
        """What the CDS Hooks face reads."""
        return CdsSettings(**{name: getattr(self, name) for name in _CDS_FIELDS})

    @cached_property
    def launch(self) -> LaunchSettings:
        """What the SMART launch face reads."""
        from cds_hooks.services import turned_on  # here: the services module loads the checks, settings need not

        extra = tuple(key.resource_type for key in turned_on(self.guideline))  # the searches the site turns on
        values = {name: getattr(self, name) for name in _LAUNCH_FIELDS}
        return LaunchSettings(**values, extra_read_types=extra, user_read_types=user_reads(self.guideline))

    def evaluation_now(self) -> datetime:
        """The moment checks are evaluated at: noon local time on PAINPLAN_TODAY (tests, demos), else now."""
        return self.cds.evaluation_now()


def read_budget(settings: Settings) -> float:
    """Seconds the plan page's FHIR searches may take together (the write panel's version question waits as long)."""
    return settings.fhir_timeout * 2


_CDS_FIELDS = tuple(f.name for f in fields(CdsSettings))
# From the guideline: the types the page reads.
_LAUNCH_FIELDS = tuple(f.name for f in fields(LaunchSettings) if f.name not in ("extra_read_types", "user_read_types"))


def _coerce(name: str, kind: Any, value: Any) -> Any:
    """Turn an environment string or TOML value into the field's type, with a clear error."""
    try:
        if kind in (bool, "bool"):
            if isinstance(value, bool):
                return value
            lowered = str(value).strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(value)
        if isinstance(value, bool):  # TOML's true where a number or text is meant: int(True) would read it as 1
            raise ValueError("true or false is not a number" if kind in (int, float) else "true or false is not text")
        if kind in (int, "int"):
            if isinstance(value, float) and not value.is_integer():  # TOML's 2.5: int() rounds it down unsaid
                raise ValueError("not a whole number")
            return int(value)
        if kind in (float, "float"):
            number = float(value)
            if not math.isfinite(number):
                raise ValueError("not a finite number")
            return number
        if kind in ("tuple[str, ...]",):
            if isinstance(value, (list, tuple)):
                if not all(isinstance(v, str) for v in value):
                    raise ValueError("every item must be text")
                return tuple(v.strip() for v in value if v.strip())
            return tuple(part.strip() for part in str(value).split(",") if part.strip())
        if kind in ("date | None",):
            if value in (None, ""):
                return None
            # TOML's 2026-06-15T10:00:00 is a date and time: compared with dates, a crash.
            if isinstance(value, datetime):
                raise ValueError("a date is wanted, not a date and time")
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        if isinstance(value, os.PathLike):  # a folder handed over by the CLI or a test
            return os.fspath(value)
        if not isinstance(value, str):  # TOML's 8765 or a list where text is meant
            raise ValueError("must be text")
        return value
    except (ValueError, TypeError) as error:
        raise ConfigError(f"{ENV_PREFIX}{name.upper()}: cannot read {value!r} ({error})") from error


_FIELD_TYPES = {f.name: f.type for f in fields(Settings) if f.name not in ("guideline",)}
_TYPE_NAMES = {"bool": bool, "int": int, "float": float}


def _refuse_unknown_variables(env: Mapping[str, str]) -> None:
    """A PAINPLAN_* variable that names no setting stops the program, as an unknown TOML key does: ignored, a
    misspelt PAINPLAN_TRUSTED_CLIENT left every EHR call refused, with nothing saying why."""
    known = {ENV_PREFIX + name.upper() for name in _FIELD_TYPES} | {ENV_PREFIX + "CONFIG"}
    unknown = sorted(name for name in env if name.startswith(ENV_PREFIX) and name not in known)
    if not unknown:
        return
    name = unknown[0]
    key = name[len(ENV_PREFIX) :].lower()
    if key in DEFAULTS:
        hint = f"{key} is set in the TOML file's [guideline] table (docs/configuration.md), not by a variable"
    else:
        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f"did you mean {close[0]}?" if close else "see docs/configuration.md for the settings"
    raise ConfigError(f"unknown setting {name}: {hint}")


def load_settings(
    env: Mapping[str, str] | None = None,
    config_file: str | os.PathLike[str] | None = None,
    *,
    typed_as: Mapping[str, str] = NONE_TYPED,
    derived: Callable[[Settings], Mapping[str, Any]] | None = None,
    **overrides: Any,
) -> Settings:
    """Defaults, then the TOML file, then PAINPLAN_* variables, then keyword overrides (tests and the CLI), then the
    values `derived` makes of those (the demo's URL from its port), checked once, all together; an error in an
    override `typed_as` lists names the command-line option it was typed as."""
    env = os.environ if env is None else env
    if config_file is not None and not str(config_file).strip():
        # `--config "$SITE_TOML"` with the variable unset: read as no file, the site's settings were dropped unsaid.
        raise ConfigError("--config is empty: name the TOML file, or leave --config out")
    values: dict[str, Any] = {}
    guideline_table: Mapping[str, Any] = {}
    path = config_file or env.get(ENV_PREFIX + "CONFIG")
    if path:
        try:
            table = tomllib.loads(read_text_file(Path(path), "configuration file"))  # UTF-8, as TOML is
        except NotUtf8TextError as error:
            raise ConfigError(str(error)) from None
        except OSError as error:
            raise ConfigError(f"cannot read configuration file {path}: {error.strerror}") from error
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"configuration file {path} is not valid TOML: {error}") from error
        guideline_table = with_crosswalk_file(table.pop("guideline", {}), Path(path).parent)
        for key, value in table.items():
            if key not in _FIELD_TYPES:
                raise ConfigError(f"unknown setting in {path}: {key}")
            values[key] = value
    _refuse_unknown_variables(env)
    for name in _FIELD_TYPES:
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None:
            values[name] = raw
    values.update({k: v for k, v in overrides.items() if k != "guideline"})
    coerced = {
        name: _coerce(name, _TYPE_NAMES.get(str(_FIELD_TYPES[name]), str(_FIELD_TYPES[name])), value)
        for name, value in values.items()
    }
    guideline = overrides.get("guideline")
    if not isinstance(guideline, GuidelineConfig):
        guideline = GuidelineConfig.from_mapping({**guideline_table, **(guideline or {})})
    settings = Settings(**coerced, guideline=guideline)
    if derived is not None:  # before the check: checked twice, a site's template warning was logged twice
        settings = replace(settings, **derived(settings))
    validate(settings, typed_as)
    return settings
