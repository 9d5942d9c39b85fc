"""A specimen validity result whose value is far longer than any result's (a report pasted in, a garbled or hostile
feed) is not read, by its words or for a number: its specimen is not judged by it, and it is named as not judged with
its first 150 characters and its length; a value of a result's length reads as before."""

from __future__ import annotations

from builders import padded
from test_specimen_validity_text import CREATININE, _as_text, _item, _negative_with
from test_specimen_validity_units import _named, _udt_detail
from test_uds_specimen_validity import _creatinine
from test_uds_unreadable_specimen import WHY_DILUTE

from guideline.words import TEXT_READ_CHARACTERS


def test_a_validity_value_of_a_results_length_is_read(tmp_path) -> None:
    detail = _udt_detail(tmp_path, [_as_text(_creatinine(30), padded("Dilute", TEXT_READ_CHARACTERS))])
    assert detail is not None and WHY_DILUTE in detail


def test_a_validity_value_longer_than_any_results_is_not_read_and_is_named_with_its_length(tmp_path) -> None:
    # Read, its "Dilute" left the negative unread; not read, the specimen is not judged by it, and it says so.
    validity = [_as_text(_creatinine(30), padded("Dilute", 1_000_000))]
    assert _udt_detail(tmp_path, validity) is None
    assert _named(_negative_with(*validity)) == (
        _item(
            f'{CREATININE} "Dilute see attached report see attached report see attached report see attached report '
            'see attached report see attached report see attached report se…", its value is 1,000,000 characters '
            "long, not read"
        ),
    )
