"""The per-app launch service: settings, database, client allowlist, discovery cache and token cipher."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import Engine

from launch.clients import SmartClient, load_clients
from launch.crypto import TokenCipher
from launch.discovery import DiscoveryCache
from launch.identity import JwksCache
from launch.settings import LaunchSettings

EXTENSION_KEY = "painplan.launch"
DISCOVERY_TIMEOUT_CAP = 3.0  # some servers take seconds to 404 on .well-known; never let a launch hang on it


@dataclass(frozen=True)
class LaunchService:
    settings: LaunchSettings
    engine: Engine
    clients: Mapping[str, SmartClient]
    discovery: DiscoveryCache
    jwks: JwksCache
    cipher: TokenCipher

    @property
    def redirect_uri(self) -> str:
        return self.settings.public_url.rstrip("/") + "/launch/callback"


def build_service(settings: LaunchSettings, engine: Engine, app_secret: str) -> LaunchService:
    timeout = min(settings.fhir_timeout, DISCOVERY_TIMEOUT_CAP)
    return LaunchService(
        settings=settings,
        engine=engine,
        clients=load_clients(settings.smart_clients),
        discovery=DiscoveryCache(timeout, settings.allow_http),
        jwks=JwksCache(timeout),
        cipher=TokenCipher(app_secret),
    )


def service_for(app: Flask) -> LaunchService:
    """The app's service; built on first use when the launch blueprint was not registered (tests, tools)."""
    service = app.extensions.get(EXTENSION_KEY)
    if service is None:
        service = build_service(app.config["PAINPLAN_LAUNCH"], app.extensions["painplan.db"], str(app.secret_key))
        app.extensions[EXTENSION_KEY] = service
    return service


def current_service() -> LaunchService:
    return service_for(current_app._get_current_object())  # type: ignore[attr-defined]
