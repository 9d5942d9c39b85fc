"""A snooze covers the finding it was set on: a higher dose, another sedative, a new unexpected result or another
unidentified medicine shows again, whatever the indicator (guideline 10.0.4 extended; docs/clinical-logic.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from alembic import command
from builders import NOW, PATIENT_ID, card, days_ago, med_request, observation, run
from cds_support import bundle, db, full_prefetch, hook_request, make_app, oxycodone_draft, topics
from sqlalchemy import create_engine, insert, text

from cds_hooks import store
from cds_hooks.feedback import load_snoozes
from guideline.cards import Snooze, finding_keys
from smart_app.migrate import alembic_config, current_revision, head_revision, upgrade

REASONS = "http://painplan.example/fhir/CodeSystem/painplan-override-reason"
LORAZEPAM = "197901"  # lorazepam 1 MG Oral Tablet
ALPRAZOLAM = "308048"  # alprazolam 0.5 MG Oral Tablet
COCAINE = "14314-9"  # Benzoylecgonine [Presence] in Urine by Screen method
LATER = datetime(2026, 6, 16, tzinfo=UTC)


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path, instance_path=str(tmp_path / "instance"))


def sign(app, drafts=(), **prefetch) -> dict:
    body = hook_request(drafts=list(drafts), prefetch=full_prefetch("order-sign", **prefetch))
    response = app.test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200
    return response.json


def override(app, response: dict, check_id: str, reason: str) -> None:
    found = next(c for c in response["cards"] if c["source"]["topic"]["code"] == check_id)
    item = {
        "card": found["uuid"],
        "outcome": "overridden",
        "outcomeTimestamp": "2026-06-15T16:00:00Z",
        "overrideReason": {"reason": {"code": reason, "system": REASONS}},
    }
    assert app.test_client().post("/cds-services/order-sign/feedback", json={"feedback": [item]}).status_code == 200


def active(rxcui: str, id: str) -> dict:
    return med_request(rxcui, id=id, status="active", authored=days_ago(10))


# -- high-mme: a higher dose is a new finding ----------------------------------------------------------------------


def test_an_overridden_dose_stays_quiet_at_that_dose_or_lower_and_shows_again_when_higher(app):
    at_75 = oxycodone_draft(dose=5, every_hours=12)  # 10 tablets a day = 75 MME: warning
    first = sign(app, [at_75])
    assert "high-mme" in topics(first)
    override(app, first, "high-mme", "benefits-outweigh-risks")

    assert "high-mme" not in topics(sign(app, [at_75]))
    assert "high-mme" not in topics(sign(app, [oxycodone_draft(dose=1, every_hours=3)]))  # 60 MME, still warning
    higher = sign(app, [oxycodone_draft(dose=11, every_hours=24)])  # 11 tablets = 82.5 MME: warning, but higher
    assert "high-mme" in topics(higher)


def test_a_higher_dose_with_the_same_indicator_breaks_the_snooze(app):
    at_60 = oxycodone_draft(dose=1, every_hours=3)  # 8 tablets = 60 MME: warning
    first = sign(app, [at_60])
    override(app, first, "high-mme", "taper-in-progress")
    [snooze] = load_snoozes(db(app), PATIENT_ID, None, LATER)
    assert snooze.level == Decimal("60") and snooze.indicator == "warning"

    at_75 = sign(app, [oxycodone_draft(dose=5, every_hours=12)])  # 75 MME: warning too, but higher
    shown = next(c for c in at_75["cards"] if c["source"]["topic"]["code"] == "high-mme")
    assert shown["indicator"] == "warning" and "75.0 MME/day" in shown["summary"]


# -- opioid-benzodiazepine: another sedative is a new finding ------------------------------------------------------


def test_an_overridden_combination_stays_quiet_until_another_sedative_appears(app):
    lorazepam = bundle(active(LORAZEPAM, "mr-lorazepam"))
    first = sign(app, [oxycodone_draft(dose=1)], medsActive=lorazepam)
    assert "opioid-benzodiazepine" in topics(first)
    override(app, first, "opioid-benzodiazepine", "benefits-outweigh-risks")

    assert "opioid-benzodiazepine" not in topics(sign(app, [oxycodone_draft(dose=1)], medsActive=lorazepam))
    both = bundle(active(LORAZEPAM, "mr-lorazepam"), active(ALPRAZOLAM, "mr-alprazolam"))
    again = sign(app, [oxycodone_draft(dose=1)], medsActive=both)
    assert "opioid-benzodiazepine" in topics(again)


# -- unexpected-uds-result: a new unexpected result is a new finding -----------------------------------------------


def test_discussed_results_stay_quiet_but_a_new_unexpected_result_shows(app):
    older = observation(COCAINE, when=days_ago(40), value_string="Positive")
    first = sign(app, [oxycodone_draft(dose=1)], udsLabs=bundle(older))
    assert "unexpected-uds-result" in topics(first)
    override(app, first, "unexpected-uds-result", "results-discussed")

    assert "unexpected-uds-result" not in topics(sign(app, [oxycodone_draft(dose=1)], udsLabs=bundle(older)))
    newer = observation(COCAINE, when=days_ago(5), value_string="Positive")
    again = sign(app, [oxycodone_draft(dose=1)], udsLabs=bundle(older, newer))
    assert "unexpected-uds-result" in topics(again)


# -- what is stored ------------------------------------------------------------------------------------------------


def test_the_database_keeps_digests_of_the_finding_never_drug_names_or_results(app):
    first = sign(app, [oxycodone_draft(dose=1)], medsActive=bundle(active(LORAZEPAM, "mr-lorazepam")))
    override(app, first, "opioid-benzodiazepine", "benefits-outweigh-risks")
    rows = store.all_rows(db(app), store.issued_cards) + store.all_rows(db(app), store.snoozes)
    stored = " ".join(str(row.get("about")) for row in rows).lower()
    assert "lorazepam" not in stored and "197901" not in stored
    [snooze] = load_snoozes(db(app), PATIENT_ID, None, LATER)
    assert snooze.about is not None and len(snooze.about) == 1 and all(len(k) == 16 for k in snooze.about)


def test_finding_keys_read_any_text_a_record_may_hold():
    keys = finding_keys(["name with a lone surrogate \ud800", "plain"])
    assert len(keys) == 2 and all(len(k) == 16 for k in keys)


# -- the engine's rule, and snoozes stored before findings were kept ---------------------------------------------


def _snooze(about: frozenset[str] | None, level: Decimal | None = None) -> Snooze:
    return Snooze(
        check_id="high-mme",
        patient_id=PATIENT_ID,
        until=datetime(2026, 9, 1, tzinfo=UTC),
        indicator="critical",
        about=about,
        level=level,
    )


@pytest.mark.parametrize(
    ("snooze", "shown"),
    [
        (_snooze(None), False),  # stored before 0002: covers the check, as it did when set
        (_snooze(frozenset(), Decimal("90")), False),  # the same total
        (_snooze(frozenset(), Decimal("120")), False),  # set on a higher total: this one is lower
        (_snooze(frozenset(), Decimal("89.9")), True),  # set on a lower total: this one is new
        (_snooze(frozenset(), None), False),  # no level recorded
    ],
    ids=["old-row", "same-level", "lower-now", "higher-now", "no-level"],
)
def test_the_engine_hides_a_card_only_under_a_snooze_that_covers_its_finding(snooze: Snooze, shown: bool) -> None:
    draft = med_request("1049621", draft=True, id="ox1", dose=2, period=4)  # oxycodone 5 mg 12 a day = 90 MME
    evaluation = run("order-sign", drafts=[draft], snoozes=[snooze], now=NOW)
    assert (card(evaluation, "high-mme") is not None) is shown


def test_a_database_at_the_first_revision_gets_the_finding_columns_and_keeps_its_snoozes(tmp_path):
    url = f"sqlite:///{tmp_path / 'at-0001.db'}"
    engine = create_engine(url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    assert current_revision(engine) == "0001"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO cds_snoozes (patient_id, check_id, user_id, reason, until, indicator, set_at) "
                "VALUES ('p1', 'high-mme', '', 'taper-in-progress', '2026-09-01 00:00:00', 'warning', "
                "'2026-06-01 00:00:00')"
            )
        )
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    [snooze] = load_snoozes(engine, "p1", None, LATER)
    assert snooze.about is None and snooze.level is None  # covers every high-mme finding, as before
    with engine.begin() as connection:  # the new columns take values
        connection.execute(
            insert(store.issued_cards).values(
                uuid="c1", check_id="high-mme", indicator="info", issued_at=LATER, service="order-sign", level="60"
            )
        )
    assert store.find_issued(engine, "c1").level == "60"


@pytest.mark.parametrize("stored", ["not a number", "NaN", ""])
def test_a_stored_level_that_cannot_be_read_hides_no_finding_with_a_level(stored: str) -> None:
    level = store.read_level(stored)
    snooze = _snooze(frozenset(), level)
    draft = med_request("1049621", draft=True, id="ox1", dose=2, period=4)  # 90 MME
    evaluation = run("order-sign", drafts=[draft], snoozes=[snooze], now=NOW)
    assert card(evaluation, "high-mme") is not None
    assert store.read_level(store.stored_level(level)) == level  # saved again, it reads the same
