"""The demo keeps its own database: its clicks never reach the service's analytics, and `--reset` forgets them."""

from __future__ import annotations

import argparse

from sqlalchemy import create_engine, func, select

from cds_hooks import store
from smart_app import create_app
from smart_app.db import database_url, instance_folder
from smart_app.demo import demo_settings, reset_demo_database


def demo_args(**values) -> argparse.Namespace:
    return argparse.Namespace(**{"port": 8799, "host": None, "today": "2026-06-15", "reset": False, **values})


def test_the_demo_uses_its_own_sqlite_file_even_when_a_service_database_is_configured(tmp_path):
    env = {"PAINPLAN_INSTANCE_PATH": str(tmp_path), "PAINPLAN_DATABASE_URL": "postgresql://db.example/painplan"}
    settings = demo_settings(demo_args(), env)
    assert database_url(settings, instance_folder(settings)) == f"sqlite:///{tmp_path / 'demo.db'}"


def test_demo_cards_land_in_the_demo_database_only_and_reset_removes_them(tmp_path):
    settings = demo_settings(demo_args(), {"PAINPLAN_INSTANCE_PATH": str(tmp_path)})
    app = create_app(settings)
    client = app.test_client()
    from cds_support import hook_request, oxycodone_draft

    response = client.post("/cds-services/order-sign", json=hook_request(drafts=[oxycodone_draft()]))
    assert response.status_code == 200 and response.get_json()["cards"]
    app.extensions["painplan.db"].dispose()
    demo_db = create_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    with demo_db.connect() as connection:
        assert connection.execute(select(func.count()).select_from(store.issued_cards)).scalar() > 0
    demo_db.dispose()
    assert not (tmp_path / "painplan.db").exists()  # what `serve` and `feedback-report` read is untouched

    (tmp_path / "painplan.db").write_text("the service's data")
    assert reset_demo_database(settings) >= 1
    assert not (tmp_path / "demo.db").exists()
    assert (tmp_path / "painplan.db").read_text() == "the service's data"


def test_the_demo_serves_a_plain_http_public_url_on_another_host(tmp_path):
    # `painplan demo --host 0.0.0.0` shown on a laptop's LAN address: the demo allows plain http itself, so the
    # address is no reason to stop it (the service, which EHRs send tokens to, still refuses it without allow_http).
    env = {"PAINPLAN_INSTANCE_PATH": str(tmp_path), "PAINPLAN_PUBLIC_URL": "http://192.168.1.20:8799"}
    settings = demo_settings(demo_args(host="0.0.0.0"), env)
    assert (settings.public_url, settings.allow_http) == ("http://192.168.1.20:8799", True)
