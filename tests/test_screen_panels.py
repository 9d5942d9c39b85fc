"""A PHQ-9 or GAD-7 filed as its questionnaire panel with the total as the panel's own value is read as that total."""

from __future__ import annotations

from builders import days_ago, observation
from test_plan import plan_for, rich_patient
from test_plan_steps import by_key

PHQ9_PANEL = "44249-1"
GAD7_PANEL = "69737-5"


def test_a_phq9_panel_whose_value_is_the_total_is_the_screen_done() -> None:
    """A PHQ-9 of 12 filed under the panel's code (44249-1) with the total as its value, as flowsheets map it: step 1
    said "A PHQ-9 screen: none in the last 2 years" and asked for one done three weeks ago (the PEG panel's own value
    was already read as the PEG)."""
    resources = [
        *rich_patient(),
        observation(PHQ9_PANEL, when=days_ago(21), value_quantity=12, category="survey"),
        observation(GAD7_PANEL, when=days_ago(21), value_quantity=4, category="survey"),
    ]
    steps = plan_for(resources).section("steps").content
    phq9 = steps.screens.latest("PHQ-9 (depression)")
    assert (phq9.score, phq9.band, phq9.day.isoformat()) == (12, "moderate", days_ago(21))
    assert steps.screens.latest("GAD-7 (anxiety)").score == 4
    assess = by_key(steps)["assess"]
    assert ("PHQ-9 12", "moderate; follow up") in [(e.label, e.detail) for e in assess.evidence]
    assert not [d for d in assess.due if "PHQ-9" in d or "GAD-7" in d]


def test_a_panel_total_beyond_the_scale_is_named_and_a_panel_without_a_number_is_no_score() -> None:
    """The panel's value is read as a total only when it is a number the instrument can give; a panel carrying a coded
    risk ("Low risk") or nothing gives no score."""
    resources = [
        *rich_patient(),
        observation(PHQ9_PANEL, when=days_ago(10), value_quantity=40, category="survey"),
        observation(GAD7_PANEL, when=days_ago(10), value_code=("http://example.org/risk", "L"), category="survey"),
    ]
    screens = plan_for(resources).section("steps").content.screens
    assert screens.latest("PHQ-9 (depression)") is None
    assert screens.unread_of("PHQ-9 (depression)") == (f"40 on {days_ago(10)} (the scale ends at 27)",)
    assert screens.latest("GAD-7 (anxiety)") is None
