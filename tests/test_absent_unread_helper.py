"""`Unread`, the one object a check asks for the data it rests on that was not read: it says on the card exactly what
`could_not_check` and `fitted` say."""

from __future__ import annotations

from guideline.unread_data import FILLS, MARK, ORDERS, PROCEDURES, STATEMENTS, Unread, could_not_check, fitted

UNREAD = {
    ORDERS: "the FHIR server answered HTTP 401",
    FILLS: "the FHIR server answered HTTP 401",
    PROCEDURES: "timed out",
}


def test_the_kinds_not_read_in_the_order_asked_and_why() -> None:
    unread = Unread.among(UNREAD, (FILLS, STATEMENTS, ORDERS))
    assert unread.kinds == (FILLS, ORDERS) and unread.any
    assert unread.where == " in what could be read"
    assert unread.paragraph("opioid use") == could_not_check(UNREAD, (FILLS, STATEMENTS, ORDERS), "opioid use")
    assert (
        unread.fitted("No recent opioid use") == fitted(["No recent opioid use"], True) == "No recent opioid use" + MARK
    )
    assert unread.of(ORDERS, PROCEDURES).kinds == (ORDERS,)


def test_everything_read_says_nothing() -> None:
    unread = Unread.among(UNREAD, (STATEMENTS,))
    assert unread.kinds == () and not unread.any
    assert unread.where == "" and unread.paragraph("opioid use") == ""
    assert unread.fitted("No recent opioid use") == "No recent opioid use"


def test_an_unread_with_nothing_unread_is_false_as_a_condition():
    """A check writing `if unread:` must mean "some of its data was not read", as `.any` does."""
    from guideline.unread_data import Unread

    assert not Unread() and Unread((("fills", "the FHIR server answered HTTP 401"),))
