"""The write-back panel as the plan page shows it, for the page and for a save's answer alike: the server's FHIR
version asked in the background while the page reads the chart, the signed marks a save's redirect carries, and the
panel built from them. The plan page imports this, and the write blueprint imports the plan page: nothing here
imports either, so the two import each other one way only."""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as WaitedTooLong
from dataclasses import dataclass
from typing import Any

from flask import current_app

from launch.scopes import granted_writes
from smart_app.config import Settings, read_budget
from smart_app.date_limits import DateLimits
from smart_app.write import csrf, fhir_version
from smart_app.write.forms import date_ranges
from smart_app.write.panel import WritePanel, build_panel, removed_arg, removed_from, schedule_of
from smart_app.write.send import WriteResult

log = logging.getLogger(__name__)

VERSION_FLAG = "fhir-version-unconfirmed"  # what the redirect's fv_sig signs
REMOVED_FLAG = "removed-characters:"  # what the redirect's removed_sig signs, before the removals themselves
MAX_NOTE = 600  # what the EHR noted on a save, as carried in the redirect's address
VERSIONS = "painplan.fhir_versions"  # this app's fhir_version.VersionCache, in app.extensions


def versions() -> fhir_version.VersionCache:
    """What this app learnt of each FHIR server's version: per app, so one app's answers are never another's."""
    cache = current_app.extensions.get(VERSIONS)
    if cache is None:  # made once per app, not a throwaway cache on every page view and save
        cache = current_app.extensions.setdefault(VERSIONS, fhir_version.VersionCache())
    return cache


@dataclass(frozen=True)
class VersionQuestion:
    """The page's question of the server's FHIR version, asked in the background while the page's reads run."""

    base_url: str
    answer: Future
    deadline: float  # time.monotonic() at which the page stops waiting: when its own reads' budget ends

    def check(self) -> fhir_version.SaveCheck:
        """What the answer means for a save; not confirmed when the server has not answered by the deadline."""
        try:
            stated = self.answer.result(timeout=max(0.0, self.deadline - time.monotonic()))
        except WaitedTooLong:
            log.warning("the FHIR server's CapabilityStatement did not answer before the page was shown")
            stated = None
        return fhir_version.check_of(self.base_url, stated)


def ask_version(session: Any, settings: Settings) -> VersionQuestion | None:
    """Start asking the server's version when the page may offer a form and only the server can say (its base
    address names no release); None when there is nothing to ask. Asked once a while per base (versions())."""
    if not (settings.write_back and granted_writes(session.scope) and fhir_version.asked_of(session.iss)):
        return None
    deadline = time.monotonic() + read_budget(settings)  # the page waits no longer than its own reads may take
    return VersionQuestion(session.iss, versions().ask(http_session(), session.iss, settings.fhir_timeout), deadline)


def version_check(base_url: str, version: VersionQuestion | None) -> fhir_version.SaveCheck:
    """What the server's FHIR version means for a save, for the panel and the save alike: the page's question's
    answer (waited for up to its deadline), or, when none was asked, what the base address alone says: a release it
    names, else sent unconfirmed (no question is asked when the page offers no form, so no notice shows then)."""
    return version.check() if version is not None else fhir_version.check_of(base_url, None)


def panel_for(
    session: Any,
    settings: Settings,
    view: Any,
    page_input: Any,
    args: Any,
    version: VersionQuestion | None = None,
    keep_forms: bool = False,
) -> WritePanel:
    """The write-back panel; `version` the page's question of the server's FHIR version (None: only what the base
    address says is known). `keep_forms`: a form sent back keeps its place, with what was typed, even when the
    server's answer refuses it (the save's line says why), as only a base address naming another release removes it."""
    check = version_check(session.iss, version)
    return build_panel(
        session.scope,
        settings.write_back,
        csrf.new_token(current_app.secret_key, session.handle),
        page_input.resources,
        view.note,
        schedule_of(view) is not None,
        args,
        statuses=page_input.statuses,
        server_release=fhir_version.base_refusal(session.iss) if keep_forms else check.refusal,
        saved_note=_saved_note(session, args),
        saved_version_unconfirmed=_saved_version_unconfirmed(session, args),
        saved_removed=_saved_removed(session, args),
        version_unconfirmed=check.unconfirmed,
        date_bounds=date_ranges(view.now.date(), date_limits(settings)),
    )


def _saved_note(session: Any, args: Any) -> str:
    """What the EHR noted on the save just made, when the address carries it with PainPlan's own signature."""
    note, form_key = args.get("note", ""), args.get("saved", "")
    ok = csrf.note_ok(current_app.secret_key, session.handle, form_key, note, args.get("note_sig"))
    return note if ok else ""


def _saved_version_unconfirmed(session: Any, args: Any) -> bool:
    """The save just made went to a server whose version was not confirmed, by PainPlan's own signed redirect."""
    signed = args.get("fv_sig")
    return csrf.note_ok(current_app.secret_key, session.handle, args.get("saved", ""), VERSION_FLAG, signed)


def _saved_removed(session: Any, args: Any) -> dict[str, int]:
    """The characters removed from the save just made, by PainPlan's own signed redirect; none otherwise."""
    removed, form_key = args.get("removed", ""), args.get("saved", "")
    ok = csrf.note_ok(current_app.secret_key, session.handle, form_key, REMOVED_FLAG + removed, args.get("removed_sig"))
    return removed_from(form_key, removed) if removed and ok else {}


def note_mark(session: Any, form_key: str, result: WriteResult) -> dict[str, str]:
    """What the EHR noted on the save, for the page it redirects to, signed so a link cannot make one up."""
    if not result.warnings:
        return {}
    note = " ".join(result.warnings)[:MAX_NOTE]
    return {"note": note, "note_sig": csrf.note_mac(current_app.secret_key, session.handle, form_key, note)}


def removed_mark(session: Any, form_key: str, built: Any) -> dict[str, str]:
    """The redirect's signed record of the characters removed from what was typed; none when nothing was."""
    removed = removed_arg(built.removed)
    if not removed:
        return {}
    mac = csrf.note_mac(current_app.secret_key, session.handle, form_key, REMOVED_FLAG + removed)
    return {"removed": removed, "removed_sig": mac}


def version_flag(session: Any, form_key: str, check: Any) -> dict[str, str]:
    """The redirect's signed mark that the server's version was not confirmed; none when it was."""
    if not check.unconfirmed:
        return {}
    return {"fv_sig": csrf.note_mac(current_app.secret_key, session.handle, form_key, VERSION_FLAG)}


def date_limits(settings: Settings) -> DateLimits:
    """How far ahead the site lets a goal be due and a follow-up be set."""
    return DateLimits(settings.goal_due_years, settings.follow_up_years)


def http_session() -> Any:
    """The process's pooled HTTP session, which the FHIR reads use too."""
    from cds_hooks.fhir_client import shared_session

    return shared_session()
