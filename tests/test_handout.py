"""The patient handout: every sentence in English and Spanish, the schedule in the patient's words, the numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from builders import STIGMATISING, STIGMATISING_FRAGMENTS

from guideline.plan.handout import LANGUAGES, TEXT, build_handout, day_in_words, language
from guideline.taper import taper_schedule
from guideline.taper_doses import Regimen, dose_schedule

OXYCODONE = Regimen("oxycodone 5 mg tablet", "Oxycodone", Decimal("5"), Decimal("4"), Decimal("1.5"))
CONTACTS = ({"name": "CT Behavioral Health Partnership", "phone": "1-877-552-8247"}, {"name": "No phone"})


def test_every_sentence_exists_in_both_languages_and_is_person_centred() -> None:
    for key, versions in TEXT.items():
        assert set(versions) == set(LANGUAGES), key
        assert all(v.strip() for v in versions.values()), key
        assert versions["en"] != versions["es"], key
        for text in versions.values():
            assert not [w for w in STIGMATISING_FRAGMENTS if w in text.lower()] and not STIGMATISING.search(text)


def test_spanish_schedule_rows_in_tablets() -> None:
    schedule = dose_schedule(taper_schedule(Decimal("30"), date(2026, 6, 15), Decimal("25")), (OXYCODONE,))
    sheet = build_handout("es", ["oxycodone 5 mg tablet"], [], schedule, CONTACTS)
    rows = [row.doses[0] for row in sheet.schedule]
    # 30 MME (4 tablets of 7.5 MME) at 25 % of the start per month: 22.5, 15, 7.5, 0 are whole tablets.
    assert rows[:4] == [f"oxycodone 5 mg tablet: {n} tabletas al día" for n in (4, 3, 2)] + [
        "oxycodone 5 mg tablet: 1 tableta al día"
    ]
    assert rows[-1] == "oxycodone 5 mg tablet: ya no tome esta medicina"
    assert sheet.text["naloxone_h"] == "La naloxona puede salvarle la vida"
    assert [c["phone"] for c in sheet.contacts] == ["1-877-552-8247"]  # an entry without a number is left out


def test_unknown_language_falls_back_to_english() -> None:
    assert language("fr") == "en" and language(None) == "en" and language("es") == "es"
    assert build_handout("xx", [], [], None, ()).text["title"] == "Your pain treatment plan"


def test_after_a_strength_switch_the_handout_names_the_new_strength_never_the_old_name() -> None:
    morphine = Regimen(
        "morphine ER 30 mg tablet",
        "Morphine",
        Decimal("30"),
        Decimal("2"),
        Decimal("1"),
        form="extended-release tablet",
        other_strengths_mg=(Decimal("15"),),
    )
    schedule = dose_schedule(taper_schedule(Decimal("60"), date(2026, 6, 15), Decimal("10")), (morphine,))
    switched = next(s for s in schedule.steps if s.strength_change)
    for lang, expected in (("es", "morphine 15 mg (concentración nueva"), ("en", "morphine 15 mg (new strength")):
        rows = build_handout(lang, [], [], schedule, ()).schedule
        line = rows[switched.number].doses[0]
        assert line.startswith(expected) and "30 mg" not in line, line
        assert rows[0].doses[0].startswith("morphine ER 30 mg tablet: 2 ")
    assert switched.doses[0].label == "morphine 15 mg extended-release tablet"


def test_the_next_visit_is_written_in_words_in_each_language() -> None:
    day = date(2026, 9, 15)
    assert day_in_words(day, "en") == "Tuesday, September 15, 2026"
    assert day_in_words(day, "es") == "martes 15 de septiembre de 2026"
    assert build_handout("es", [], [], None, CONTACTS, day).next_visit == "martes 15 de septiembre de 2026"
    assert build_handout("en", [], [], None, CONTACTS).next_visit is None


def test_who_to_call_describes_each_line_in_the_sheets_language_or_not_at_all() -> None:
    contacts = (
        {"name": "Line A", "phone": "1", "description": "For members", "description_es": "Para miembros"},
        {"name": "Line B", "phone": "2", "description": "English only"},
    )
    spanish = build_handout("es", [], [], None, contacts).contacts
    assert [c["description"] for c in spanish] == ["Para miembros", ""]
    english = build_handout("en", [], [], None, contacts).contacts
    assert [c["description"] for c in english] == ["For members", "English only"]


def test_the_connecticut_lines_on_the_handout_have_spanish_descriptions() -> None:
    from guideline.config import GuidelineConfig

    with_phone = [r for r in GuidelineConfig.from_mapping()["resources"] if r.get("phone")]
    assert with_phone and all(r.get("description_es") for r in with_phone)
