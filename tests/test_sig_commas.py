"""A comma inside a number of a sig's frequency text ("every 4 to 6,5 hours") or of a dose quantity sent as text
by a lenient EHR ("1,5" tablets, "7,5" mg) is read by the one comma rule names use (`guideline.commas`): a decimal
comma, or a thousands separator. A count of times a day that is not whole ("2,5 times a day": 2.5, or 2 to 5?) is
no frequency anyone takes: unread and named, never a silent guess; so is a count of hours that differs between its
readings ("every 4,5 hours": tests/test_sig_comma_counts.py). Before, "2,5 times a day" was 5 a day and the rest
were read as no frequency or no dose at all."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fixtures.mme.helpers import dosage, every, med_request, mme, qty

from guideline.mme import quantize6

CERNER_FREQUENCY = "https://fhir-ehr.cerner.com/r4/ec2458f2-1e24-41c8-b71b-0e701af7583d/codeSet/4003"
OXYCODONE_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet


def _order(dose: Any, timing: dict) -> Any:
    return mme(med_request(OXYCODONE_5, [dosage(dose, timing)])).orders[0]


def test_a_range_with_a_decimal_comma_counts_its_shorter_period() -> None:
    order = _order(1, {"code": {"text": "every 4 to 6,5 hours as needed"}})
    assert (order.state, order.mme) == ("ok", Decimal(45))  # every 4 hours: 6 a day


def test_a_count_of_times_that_is_not_whole_is_named_never_guessed() -> None:
    """ "2,5 times a day": 2.5 times, or 2 to 5? Before it read "5 times a day", 37.5 MME, without a word."""
    order = _order(1, {"code": {"text": "2,5 times a day"}})
    assert (order.state, order.reason, order.mme) == ("unknown", "no-frequency", None)


def test_a_dose_quantity_sent_as_text_with_a_decimal_comma_is_read() -> None:
    # Before: "the dosage has no dose" (the value "1,5" was no number).
    order = _order(qty("1,5"), every(6))
    assert (order.state, order.mme) == ("ok", Decimal(45))
    assert order.explanation.startswith("oxycodone hydrochloride 5 MG Oral Tablet: 1.5 tablets every 6 hours")


def test_a_mass_dose_sent_as_text_with_a_decimal_comma_is_read() -> None:
    order = _order(qty("7,5", "mg"), every(6))
    assert (order.state, order.mme) == ("ok", Decimal(45))


def test_a_period_sent_as_text_with_a_decimal_comma_is_read() -> None:
    order = _order(1, every("4,5"))
    assert (order.state, quantize6(order.mme)) == ("ok", Decimal(40))


def test_a_list_comma_is_still_no_number() -> None:
    """ "every 4, 6 hours": a list, not 4.6; read as before (no frequency), never as a decimal."""
    order = _order(1, {"code": {"text": "every 4, 6 hours"}})
    assert (order.state, order.reason) == ("unknown", "no-frequency")


def test_a_frequency_sent_as_text_that_is_not_whole_is_still_named() -> None:
    """repeat.frequency "2,5" (a positiveInt in FHIR): read by the comma rule it is 2.5 times, which no one takes, so
    the dosage has no frequency and is named, as it was when the text was no number at all."""
    order = _order(1, every(1, "d", frequency="2,5"))
    assert (order.state, order.reason) == ("unknown", "no-frequency")
    whole = _order(1, every(1, "d", frequency=2.5))
    assert (whole.state, whole.reason) == ("unknown", "no-frequency")
