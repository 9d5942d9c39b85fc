"""The settings the SMART launch face reads; the app's loader builds them from PAINPLAN_* variables and TOML."""

from __future__ import annotations

from dataclasses import dataclass

from launch.scopes import USER_READS


@dataclass(frozen=True)
class LaunchSettings:
    """Where the app lives, which SMART clients it is, and which EHR origins may frame its pages."""

    public_url: str = "http://127.0.0.1:8765"
    fhir_timeout: float = 2.5
    allow_http: bool = False
    smart_clients: str = ""
    smart_default_iss: str = ""
    frame_ancestors: tuple[str, ...] = ("'self'",)
    write_back: bool = True  # ask for the write scopes the plan page's forms use (granted scopes still decide)
    extra_read_types: tuple[str, ...] = ()  # types the site turned on for the plan page to read
    user_read_types: tuple[str, ...] = USER_READS  # organisation data the page reads as the user (`user_reads`)
