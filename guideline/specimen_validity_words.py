"""What the cards and the plan page say of a urine drug test's specimen validity: the validity results PainPlan could
not judge beside the results they bear on, what each may mean ("a dilute specimen can read negative"), and a verdict
read for certain that leaves a positive in doubt. `guideline.specimen_validity` reads the validity results; this
module only words them."""

from __future__ import annotations

from guideline.facts import Facts
from guideline.specimen_validity import NO_VERDICTS, POSITIVES_STAND
from guideline.uds import UdsResult
from guideline.words import and_list

# What a substituted or invalid specimen means for a positive found in it, possible or read for certain.
NOT_THE_PATIENTS = "a substituted or invalid specimen may not be the patient's urine"
# What a specimen whose validity could not be judged means for a negative found in it: dilution, when its results not
# judged leave it open; else only what they leave open, since a creatinine read exactly may have ruled dilution out.
DILUTE_READS_NEGATIVE = "a dilute specimen can read negative"
NOT_WHAT_THE_PATIENT_TAKES = "an invalid or substituted specimen may not show what the patient takes"


def specimen_not_judged(facts: Facts, result: UdsResult) -> tuple[str, ...]:
    """The validity results of its specimen PainPlan could not judge (`Facts.specimen_validity`), as written: every
    one when it read a substance negative (on a dilute specimen a negative would go unread); else, when it read a
    positive or its specimen's verdict ("dilute") left its negatives unread, those that leave open a verdict that would
    leave a positive unread too (`Validity.beside_positives`: "substituted", "invalid"), since a positive stands on a
    dilute specimen."""
    found = _not_judged_first(facts, result)
    return found[1] if found else ()


def _not_judged_first(facts: Facts, result: UdsResult) -> tuple[str, tuple[str, ...]] | None:
    """The side ("negative", then "positive") its validity results not judged are named beside, with them; None when
    none is (`specimen_not_judged`)."""
    for value in ("negative", "positive"):
        if unread := _not_judged_beside(facts, result, value):
            return value, unread
    return None


def _not_judged_beside(facts: Facts, result: UdsResult, value: str) -> tuple[str, ...]:
    """Its specimen's validity results not judged that bear on its `value` ("negative", "positive") results."""
    if facts.validity_not_judged is NO_VERDICTS or not _bears_on(result, value):
        return ()
    validity = facts.specimen_validity
    return (validity.not_judged if value == "negative" else validity.beside_positives).of(result.observation)


def _bears_on(result: UdsResult, value: str) -> bool:
    """Whether it read a substance `value`; one its specimen's verdict left unread (a dilute negative) bears as a
    positive does: only a more serious verdict left open would say more of it."""
    read = {item.value for item in result.substances}
    if value == "positive" and result.observation.specimen_unfit:
        return bool(read & {"positive", "none"})
    return value in read


def read_unfit_words(result: UdsResult) -> str | None:
    """ "its specimen's validity results read it substituted; a substituted or invalid specimen may not be the
    patient's urine", when they read for certain a verdict that leaves its positives in doubt (not "dilute":
    `POSITIVES_STAND`). Its positives stand all the same (a threshold PainPlan reads is no lab's verdict on the drug
    result), but a positive's line and its row on the plan page say so, as they say a verdict only possible."""
    read = [verdict for verdict in result.observation.specimen_unfit if verdict not in POSITIVES_STAND]
    return f"its specimen's validity results read it {and_list(read)}; {NOT_THE_PATIENTS}" if read else None


def validity_row_words(facts: Facts, result: UdsResult) -> str | None:
    """What the plan page's row of its test says of its specimen's validity, by the card's rule and in its words:
    `read_unfit_words` beside a positive on a specimen read substituted or invalid for certain, else its validity
    results not judged (`specimen_not_judged`) as said beside the side they were found on; None when neither."""
    if any(s.value == "positive" for s in result.substances) and (read := read_unfit_words(result)):
        return read
    found = _not_judged_first(facts, result)
    return _not_judged_words(facts, result, *found) if found else None


def validity_not_judged_words(facts: Facts, result: UdsResult, value: str) -> str | None:
    """ "a dilute specimen can read negative, and this one's validity could not be judged: Creatinine Ur 15, sent with
    no unit" beside a `value` "negative" (`_not_judged_meaning`), for its specimen's validity results not judged that
    bear on it (`_not_judged_beside`); None when none does. The unexpected result's line and the plan page's row of
    its test say it alike. What it means comes first, and the results not judged last, unbracketed: their own words
    hold brackets ("[pH]")."""
    unread = _not_judged_beside(facts, result, value)
    return _not_judged_words(facts, result, value, unread) if unread else None


def _not_judged_words(facts: Facts, result: UdsResult, value: str, unread: tuple[str, ...]) -> str:
    """`validity_not_judged_words` for the results not judged `unread` already found beside `value` (the plan page's
    row finds them choosing its side, `_not_judged_first`, and looked them up twice)."""
    written = "; ".join(unread)  # each says why: a unit or words not read, or a bound that cannot tell
    return f"{_not_judged_meaning(facts, result, value)}, and this one's validity could not be judged: {written}"


def _not_judged_meaning(facts: Facts, result: UdsResult, value: str) -> str:
    """What its specimen's validity results not judged may mean beside a `value` result: for a negative, that a
    dilute specimen can read negative when one of them leaves dilution open (`Validity.dilution_open`), else that an
    invalid or substituted one may not show what the patient takes (a creatinine read exactly ruled dilution out:
    85 mg/dL beside a pH "<5"); for a positive, that a substituted or invalid one may not be the patient's urine."""
    if value != "negative":
        return NOT_THE_PATIENTS
    if facts.specimen_validity.dilution_open.of(result.observation):
        return DILUTE_READS_NEGATIVE
    return NOT_WHAT_THE_PATIENT_TAKES
