"""The prefetch templates a hook asks for depend only on the hook and the site's settings: worked out once per
configuration object and hook, not on every call; a new configuration (settings read again) gets its own, and the
answer shared between calls cannot be changed by one of them."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest

from cds_hooks import services
from cds_hooks.services import templates
from guideline.config import GuidelineConfig

DATED = {"prefetch": {"dated": True}, "checks": {"pdmp-review": {"lookback_days": 180}}}


def _counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every time the templates are worked out (`prefetch_keys`), by hook."""
    calls: list[str] = []
    real = services.prefetch_keys

    def counting(hook: str, config: GuidelineConfig) -> Any:
        calls.append(hook)
        return real(hook, config)

    monkeypatch.setattr(services, "prefetch_keys", counting)
    return calls


def test_the_templates_are_worked_out_once_per_configuration_and_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counted(monkeypatch)
    config = GuidelineConfig.from_mapping(DATED)
    first = templates("order-sign", config)
    assert templates("order-sign", config) is first
    assert calls == ["order-sign"]
    assert first["pdmpObs"].endswith("&date=ge{{today() - 180 days}}")
    assert first["dispensesPrepared"].startswith("MedicationDispense?patient={{context.patientId}}&whenprepared=ge")
    view = templates("patient-view", config)
    assert "pdmpObs" not in view and calls == ["order-sign", "patient-view"]


def test_settings_read_again_are_a_new_configuration_with_its_own_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counted(monkeypatch)
    dated = templates("order-sign", GuidelineConfig.from_mapping(DATED))
    portable = templates("order-sign", GuidelineConfig.from_mapping({}))
    assert len(calls) == 2
    assert dated["medsRecent"] == "MedicationRequest?patient={{context.patientId}}&authoredon=ge{{today() - 395 days}}"
    assert portable["medsRecent"] == "MedicationRequest?patient={{context.patientId}}&_sort=-authoredon&_count=200"


def test_the_shared_answer_cannot_be_changed_by_a_call() -> None:
    asked = templates("order-sign", GuidelineConfig.from_mapping({}))
    with pytest.raises(TypeError):
        asked["medsActive"] = "MedicationRequest?patient={{context.patientId}}"  # type: ignore[index]
    assert services.discovery(GuidelineConfig.from_mapping({}))["services"][0]["prefetch"] == dict(asked)


def test_a_configuration_no_longer_used_is_freed_with_its_templates() -> None:
    # Settings read again make a new configuration (and tests make many): the templates kept for the old one must not
    # keep it alive.
    config = GuidelineConfig.from_mapping(DATED)
    templates("order-sign", config)
    gone = weakref.ref(config)
    del config
    gc.collect()
    assert gone() is None
