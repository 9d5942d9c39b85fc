"""One hook call computes at a time in a process, and a call waiting on the FHIR server holds up no other call."""

from __future__ import annotations

import json
import re
import threading
import time

import responses
from builders import patient
from cds_support import FHIR, bundle, hook_request, make_app, oxycodone_draft, topics

import cds_hooks.service as service
from cds_hooks.service import run_hook


@responses.activate
def test_a_call_waiting_on_a_slow_fhir_server_does_not_hold_up_a_call_with_its_data(tmp_path):
    app = make_app(tmp_path, fhir_timeout=3)
    answered = threading.Event()

    def slow(_request):
        answered.wait(5)  # the EHR answers only once the other call is done
        return 200, {}, json.dumps(bundle())

    responses.add_callback(responses.GET, re.compile(FHIR + "/.*"), callback=slow)
    # Only the patient prefetched: the medications, results and diagnoses are asked of the FHIR server.
    waiting = hook_request(drafts=[oxycodone_draft()], prefetch={"patient": patient()}, fhir=True)
    finished: list[str] = []

    def post(name: str, body: dict) -> None:
        response = app.test_client().post("/cds-services/order-sign", json=body)
        assert response.status_code == 200 and "high-mme" in topics(response.json)
        finished.append(name)

    slow_call = threading.Thread(target=post, args=("waiting on the FHIR server", waiting))
    slow_call.start()
    time.sleep(0.3)  # the slow call is now inside its FHIR queries
    post("with its data", hook_request(drafts=[oxycodone_draft()]))
    answered.set()
    slow_call.join(10)
    assert finished == ["with its data", "waiting on the FHIR server"]


def test_the_turn_is_held_while_computing_and_never_while_waiting_on_data(tmp_path, monkeypatch):
    app = make_app(tmp_path)
    settings, engine = app.config["PAINPLAN"].cds, app.extensions["painplan.db"]
    turn = threading.Lock()
    held: dict[str, bool] = {}

    def spy(name, real):
        def wrapper(*args, **kwargs):
            held[name] = turn.locked()
            return real(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(service, "gather", spy("gather", service.gather))
    monkeypatch.setattr(
        service.store.CallStore, "load_snoozes", spy("load_snoozes", service.store.CallStore.load_snoozes)
    )
    monkeypatch.setattr(
        service.store.CallStore, "record_issued", spy("record_issued", service.store.CallStore.record_issued)
    )
    monkeypatch.setattr(service, "build_record", spy("build_record", service.build_record))
    monkeypatch.setattr(service, "evaluate", spy("evaluate", service.evaluate))
    monkeypatch.setattr(service, "card_json", spy("card_json", service.card_json))
    result = run_hook("order-sign", hook_request(drafts=[oxycodone_draft()]), settings, engine=engine, cpu_turn=turn)
    assert result.status == 200 and "high-mme" in result.topics
    assert held == {
        "gather": False,
        "load_snoozes": False,
        "build_record": True,
        "evaluate": True,
        "card_json": True,
        "record_issued": False,
    }
    assert not turn.locked()
