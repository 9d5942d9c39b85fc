"""What the page's write-back area shows: which forms the granted scopes allow, the last result, what is on record."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from guideline.plan.on_record import OnRecord, on_record
from guideline.plan.reads import unread_words
from guideline.words import and_list
from launch.scopes import granted_writes
from smart_app.write.forms import DECISIONS, FORMS, GOAL_KINDS, TEXT_FIELDS, Built

SAVED_REFERENCE = re.compile(r"^[A-Z][A-Za-z]{1,40}/[A-Za-z0-9.-]{1,64}$")
# The page's search each list of records on file comes from (guideline.plan.on_record): the one definition, read by
# the list's "not known"/"more may be on record" words and by an update's check that its record was read
# (update.search_read).
RECORD_SEARCHES = {"goals": "goals", "plans": "care_plans", "agreements": "consents", "notes": "documents"}


_NOT_CONFIRMED = (
    "PainPlan could not confirm which FHIR version the EHR's server uses (its capability statement could not be "
    "read, or names no version)"
)
# Said beside a save (or a failure) when the server's FHIR version could not be confirmed and the record went as R4.
VERSION_UNCONFIRMED = f"{_NOT_CONFIRMED}, so the record was sent as FHIR R4: check it in the patient's chart."
# The same, beside a write that was not saved or not confirmed.
VERSION_UNCONFIRMED_SENT = f"{_NOT_CONFIRMED}; the record was sent as FHIR R4."

# Said in the panel before any save, when the server's FHIR version could not be confirmed (its capability statement
# could not be read, did not answer before the page was shown, or names no version).
VERSION_UNCONFIRMED_AHEAD = (
    "PainPlan could not confirm which FHIR version the EHR's server uses, so a record you save here is sent as FHIR "
    "R4, the version PainPlan writes. A server of another version may refuse it or store it with parts missing: "
    "after saving, check the record in the patient's chart."
)

# Said beside a save (or a write that may have been stored) when characters a FHIR string cannot hold were removed.
REMOVED_WHAT = "invisible control characters, which pasted text can carry"


def removed_line(form_key: str, removed: Mapping[str, int]) -> str:
    """What the save's line says of the characters removed from the form's text fields ("2 characters that cannot
    be stored were removed from the goal text (…)."); '' when none were."""
    words = TEXT_FIELDS.get(form_key, {})
    counts = [(words[name], count) for name, count in removed.items() if name in words and count > 0]
    if not counts:
        return ""
    total = sum(count for _, count in counts)
    many = f"{total} character{'s' if total > 1 else ''} that cannot be stored {'were' if total > 1 else 'was'} removed"
    if len(counts) == 1:
        return f"{many} from {counts[0][0]} ({REMOVED_WHAT})."
    each = [f"{count} from {field}" for field, count in counts]
    return f"{many}: {and_list(each)} ({REMOVED_WHAT})."


def removed_arg(removed: Mapping[str, int]) -> str:
    """The removals as the redirect after a save carries them ("description:2,measure:1"); '' when none."""
    return ",".join(f"{name}:{count}" for name, count in removed.items())


def removed_from(form_key: str, arg: str) -> dict[str, int]:
    """The removals a redirect's argument names, for the form's own text fields only; the rest is ignored."""
    found: dict[str, int] = {}
    for part in arg.split(","):
        name, _, count = part.partition(":")
        if name in TEXT_FIELDS.get(form_key, {}) and count.isascii() and count.isdecimal() and len(count) < 7:
            found[name] = int(count)
    return found


@dataclass(frozen=True)
class WritePanel:
    """Everything the templates need for the forms; `failed` re-fills a form that was not saved."""

    requested: bool  # the write_back setting
    granted: Mapping[str, frozenset[str]]
    csrf: str
    records: OnRecord
    note_text: str
    has_schedule: bool
    saved: tuple[str, str] | None = None  # (form key, reference or "")
    saved_note: str = ""  # what the EHR noted on that save (its warnings), checked to come from PainPlan's redirect
    # That save went to a server whose FHIR version PainPlan could not confirm (sent as R4), by its signed redirect.
    saved_version_unconfirmed: bool = False
    # Characters removed from that save's text fields, by field name, by its signed redirect.
    saved_removed: Mapping[str, int] = field(default_factory=dict)
    failed: Built | None = None
    failure: str = ""  # what was not saved and why
    # Each list of records on file whose search was not read in full, with the words saying so: such a list is
    # never "none on record", and one cut off may leave out the very record to update.
    unread: Mapping[str, str] = field(default_factory=dict)
    # "FHIR STU3" when the server's base address names a release other than R4, or "FHIR STU3 (3.0.2)" when its
    # CapabilityStatement states one: PainPlan writes R4 only, so no form.
    server_release: str = ""
    # The server's version could not be confirmed before the page was shown: a save is sent as R4, said up front.
    version_unconfirmed: bool = False
    # Each date input's first and last day (forms.date_ranges), given to the browser as min and max: the save checks
    # the same bounds, and decides.
    date_bounds: Mapping[str, tuple[date, date]] = field(default_factory=dict)
    decisions: Mapping[str, str] = field(default_factory=lambda: DECISIONS)
    goal_kinds: Mapping[str, str] = field(default_factory=lambda: GOAL_KINDS)

    def can(self, form_key: str, interaction: str = "create") -> bool:
        """The form is offered: the site turned write-back on, the scope allows it and the server takes R4 records.
        The setting is checked, not only the grant: an EHR may grant the scopes an app is registered for, whatever
        it asked."""
        granted = interaction in self.granted.get(FORMS[form_key][2], frozenset())
        return self.requested and not self.server_release and granted

    @property
    def any_form(self) -> bool:
        return any(self.can(key) for key in FORMS)

    def bounds(self, input_id: str) -> Mapping[str, str]:
        """The min and max attributes of a date input; none when the page knows no bounds for it."""
        first, last = self.date_bounds.get(input_id, (None, None))
        return {"min": first.isoformat(), "max": last.isoformat()} if first and last else {}

    def values(self, form_key: str) -> Mapping[str, str]:
        """What the clinician typed into this form when it was not saved; empty otherwise."""
        return self.failed.values if self.failed is not None and self.failed.kind == form_key else {}

    def errors(self, form_key: str) -> Mapping[str, str]:
        return self.failed.errors if self.failed is not None and self.failed.kind == form_key else {}

    @property
    def version_notice(self) -> str:
        """What the panel says up front when the server's FHIR version is not confirmed; '' otherwise."""
        return VERSION_UNCONFIRMED_AHEAD if self.version_unconfirmed else ""

    @property
    def saved_caution(self) -> str:
        """What the saved line adds when the server's FHIR version was not confirmed; '' otherwise."""
        return VERSION_UNCONFIRMED if self.saved_version_unconfirmed else ""

    @property
    def saved_removals(self) -> str:
        """What the saved line adds when characters had to be removed from what was typed; '' otherwise."""
        return removed_line(self.saved[0], self.saved_removed) if self.saved is not None else ""

    def saved_label(self) -> str:
        if self.saved is None:
            return ""
        return FORMS[self.saved[0]][1]


def saved_from(args: Mapping[str, str]) -> tuple[str, str] | None:
    """The redirect after a write names what was saved; only well-formed values are shown back."""
    key = args.get("saved", "")
    if key not in FORMS:
        return None
    reference = args.get("ref", "")
    return key, reference if SAVED_REFERENCE.match(reference) else ""


def build_panel(
    scope: str,
    requested: bool,
    csrf: str,
    resources: tuple[dict, ...],
    note_text: str,
    has_schedule: bool,
    args: Mapping[str, str],
    failed: Built | None = None,
    failure: str = "",
    statuses: Sequence[Any] = (),
    server_release: str = "",
    saved_note: str = "",
    saved_version_unconfirmed: bool = False,
    saved_removed: Mapping[str, int] | None = None,
    version_unconfirmed: bool = False,
    date_bounds: Mapping[str, tuple[date, date]] | None = None,
) -> WritePanel:
    """The panel for the page; `statuses` are the page's searches, so a list whose search failed or was cut off says
    so."""
    saved = saved_from(args)
    return WritePanel(
        requested=requested,
        granted=granted_writes(scope),
        csrf=csrf,
        records=on_record(resources),
        note_text=note_text,
        has_schedule=has_schedule,
        saved=saved,
        saved_note=saved_note if saved is not None else "",
        saved_version_unconfirmed=saved_version_unconfirmed and saved is not None,
        saved_removed=dict(saved_removed or {}) if saved is not None else {},
        failed=failed,
        failure=failure,
        unread=records_unread(statuses),
        server_release=server_release,
        version_unconfirmed=version_unconfirmed,
        date_bounds=date_bounds or {},
    )


def records_unread(statuses: Sequence[Any]) -> dict[str, str]:
    """For each list of records on file, the words naming its search when it failed or was cut off at the page limit
    ("Goals could not be read"); lists read in full are left out."""
    by_key = {status.key: status for status in statuses}
    found = {name: unread_words([by_key[key]]) for name, key in RECORD_SEARCHES.items() if key in by_key}
    return {name: words for name, words in found.items() if words}


def schedule_of(view: Any) -> Any:
    taper = view.by_key["taper"].content if "taper" in view.by_key else None
    doses = getattr(taper, "doses", None)
    return doses.schedule if doses is not None and doses.schedule.steps else None
