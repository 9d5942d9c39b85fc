"""The demo app as the demo FHIR tests use it: demo mode, no auth, a fixed day and public address."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flask import Flask

from smart_app import create_app

TODAY = date(2026, 3, 15)
BASE = "http://demo.test:9000"


def demo_app(instance_path: Path) -> Flask:
    return create_app(
        {
            "demo": True,
            "auth": "off",
            "allow_http": True,
            "today": TODAY,
            "public_url": BASE,
            "instance_path": instance_path,
        }
    )
