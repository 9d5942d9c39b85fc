"""POST /plan/write/<form>: check the launch, CSRF and scopes, build and validate, send, then show the result."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request

from smart_app.config import Settings
from smart_app.plan_view import assemble, fetch_page_input, launch_error_page, launched_page, render_page, secured
from smart_app.write import csrf
from smart_app.write.forms import FORMS, WriteContext
from smart_app.write.page_panel import (
    VersionQuestion,
    ask_version,
    date_limits,
    http_session,
    note_mark,
    panel_for,
    removed_mark,
    version_check,
    version_flag,
)
from smart_app.write.panel import VERSION_UNCONFIRMED_SENT, WritePanel, removed_line, schedule_of
from smart_app.write.send import WriteResult, send
from smart_app.write.update import CHANGED, NAMES, VERSION_FIELD, Update, prepare_update, search_read
from smart_app.write.validate import InvalidResource, validated

log = logging.getLogger(__name__)

# The taper form's fields travel with every write so the page comes back with the same schedule.
TAPER_FIELDS = ("rate", "interval", "basis", "target", "pause_at", "pause_intervals")


def _context(session: Any, view: Any, now: Any, settings: Settings) -> WriteContext:
    from guideline.plan.decision import care_plan_category, decision_system

    taper = view.by_key["taper"].content if "taper" in view.by_key else None
    description = taper.plan.description if taper is not None and taper.plan is not None else ""
    return WriteContext(
        session.patient_id,
        session.user,
        now,
        schedule_of(view),
        description,
        care_plan_category(settings.guideline),
        decision_system(settings.guideline),
        date_limits(settings),
        session.encounter_id,
    )


def _kept(label: str, why: str) -> str:
    """The failure line for a record that was not sent or not accepted, while the form keeps what was typed."""
    return f"Not saved: {label} — {why}. What you typed is still in the form below."


def _unconfirmed(label: str, why: str) -> str:
    """The failure line for a record that was sent but whose save the EHR did not confirm: it may be in the chart,
    so saving again could record it twice."""
    return (
        f"May not have been saved: {label} — {why}. Check the patient's chart in the EHR before saving again (the "
        "records listed on this page were read again after this save, and a record the EHR is still processing may "
        "not be among them yet); what you typed is still in the form below."
    )


def _sent_before(label: str, reached: bool) -> str:
    """The failure line for a form that arrives again after it was sent (a double click, a reload of the answer
    page): the first send may have been saved, so this one is not sent at all. When the first send never reached
    the EHR (no connection was made), nothing was saved, and the line says so rather than 'already sent'."""
    if not reached:
        return (
            f"Not sent again: {label} — the earlier attempt to save this form did not reach the EHR (no connection "
            "to it could be made), so nothing was saved. It is not sent again on its own: check what you typed in "
            "the form below and press Save to send it."
        )
    return (
        f"Not sent again: {label} — this form was already sent to the EHR (the button was pressed twice, or the page "
        "showing its result was reloaded), so it was not sent a second time. Check the patient's chart in the EHR "
        "before saving again; what you typed is still in the form below."
    )


def _not_saved_answer(result: WriteResult | None, label: str, kind: str, reached: bool = True) -> tuple[str, int]:
    """The failure line and HTTP status for a write that was not saved, or not sent because it was sent before
    (`result` None; `reached` False when that earlier send never reached the EHR). Only an update is ever a conflict
    (`WriteResult.conflict`): a record being created was changed by nobody (and a PEG score has no such words)."""
    if result is None:
        return _sent_before(label, reached), 409
    if result.unconfirmed:
        return _unconfirmed(label, result.message), 202 if result.status == 202 else 502
    if result.conflict:
        return _kept(label, CHANGED.format(one=NAMES[kind][0])), 409
    return _kept(label, result.message), 502


def _not_r4(release: str) -> str:
    """Why nothing was sent to a server that is not FHIR R4 ("FHIR STU3 (3.0.2)")."""
    return f"the EHR's FHIR server is {release}, and PainPlan writes FHIR R4 records only, so nothing was sent"


def _send_once(
    session: Any, settings: Settings, form_key: str, built: Any, resource: dict, update: Update
) -> WriteResult | None:
    """Send the record with the launch's token; None, with nothing sent, when this page's form was sent before.
    The form is used up just before sending, so the same form arriving again is never sent twice."""
    key = csrf.send_key(session.handle, form_key, request.form.get(csrf.FIELD, ""))
    if not _claim(key):
        return None
    result = send(
        http_session(),
        session.iss,
        session.access_token,
        built.method,
        built.target,
        resource,
        settings.fhir_timeout * 2,
        update.if_match,
    )
    if not result.reached:
        # Still used up (a reload never sends on its own), but a reload can say truly that nothing reached the EHR.
        _claim(csrf.unreached_key(key))
    return result


def _earlier_reached(session: Any, form_key: str) -> bool:
    """Whether this page's form, sent before, reached the EHR; False only when its send made no connection."""
    key = csrf.send_key(session.handle, form_key, request.form.get(csrf.FIELD, ""))
    return not _claimed(csrf.unreached_key(key))


def _claim(key: str) -> bool:
    """Record a send key in the launch store; False when it was recorded before."""
    from launch import store
    from launch.service import current_service

    return store.claim_send(current_service().engine, key)


def _claimed(key: str) -> bool:
    """Whether a send key is recorded in the launch store (a look, never a claim)."""
    from launch import store
    from launch.service import current_service

    return store.send_claimed(current_service().engine, key)


@dataclass(frozen=True)
class Answer:
    """What a save came to when the page is shown again rather than redirected: the failure line, its HTTP status,
    and whether the records on file are read again first (the EHR may have stored the record, or changed it)."""

    failure: str
    status: int
    reread: bool = False


def _not_taken(panel: WritePanel, built: Any, form_key: str, label: str, kind: str) -> Answer | None:
    """Why the panel does not take this form (saving turned off, a server of another release, a scope not granted,
    fields to correct); None when it does."""
    interaction = "update" if built.method == "PUT" else "create"
    if not panel.requested:
        return Answer(f"Not saved: {label} — saving to the chart is turned off in PainPlan's settings.", 403)
    if panel.server_release:
        return Answer(f"Not saved: {label} — {_not_r4(panel.server_release)}.", 502)  # no form is offered to keep it
    if not panel.can(form_key, interaction):
        return Answer(f"Not saved: the EHR did not grant PainPlan permission to {interaction} {kind} records.", 403)
    if built.errors:
        return Answer(f"Not saved: {label} needs a few corrections (see below).", 422)
    return None


def _to_send(
    session: Any, built: Any, page_input: Any, values: dict[str, str], context: WriteContext, label: str, kind: str
) -> tuple[Update, dict] | Answer:
    """The update and the validated record to send; the Answer saying why not when the update is refused or the
    record built is not valid FHIR."""
    update = Update(built.resource)
    if built.method == "PUT":
        # Server-side, from this launch's reads: never an id the form names that the page did not offer.
        update = prepare_update(
            built,
            page_input.resources,
            search_read(page_input.statuses, kind),
            session.patient_id,
            values.get(VERSION_FIELD + str(built.resource["id"] if built.resource else "")),
            context,
        )
    if update.refusal:
        return Answer(_kept(label, update.refusal), update.status)
    try:
        return update, validated(update.resource or {})
    except InvalidResource as error:
        log.error("write-back built an invalid %s: %s", kind, error)
        return Answer(f"Not saved: {label} could not be turned into a valid FHIR record ({error}).", 500)


def _save(
    session: Any,
    settings: Settings,
    form_key: str,
    built: Any,
    update: Update,
    resource: dict,
    version: VersionQuestion | None,
    label: str,
    kind: str,
) -> str | Answer:
    """Send the record once the server's version allows it: the saved page's address to redirect to, or the Answer
    saying why it was not saved (or may not have been)."""
    from launch.session import plan_url

    # The page's own question, already waited for up to its deadline: asked again here, a hung `metadata` held the
    # save for another fhir_timeout. No question was asked only of a base whose address names its release.
    check = version_check(session.iss, version)
    if check.refusal:
        return Answer(_kept(label, _not_r4(check.refusal)), 502)
    result = _send_once(session, settings, form_key, built, resource, update)
    if result is not None and check.unconfirmed:
        log.warning("the FHIR server's version could not be confirmed; the record was sent as R4")
    if result is not None and result.ok:
        taper = {name: request.form.get(name) for name in TAPER_FIELDS if request.form.get(name)}
        url = plan_url(
            session,
            saved=form_key,
            ref=result.reference or "",
            **taper,
            **note_mark(session, form_key, result),
            **version_flag(session, form_key, check),
            **removed_mark(session, form_key, built),
        )
        return f"{url}#write-{form_key}"
    reached = result is not None or _earlier_reached(session, form_key)
    failure, status = _not_saved_answer(result, label, kind, reached)
    if result is not None and result.unconfirmed and built.removed:
        # The EHR may hold the record without them, while the form below still shows them as typed.
        failure = f"{failure} {removed_line(form_key, built.removed)}"
    if result is not None and check.unconfirmed:
        failure = f"{failure} {VERSION_UNCONFIRMED_SENT}"
    return Answer(failure, status, reread=result is not None and (result.unconfirmed or result.conflict))


def create_write_blueprint(settings: Settings) -> Blueprint:
    blueprint = Blueprint("plan_write", __name__)
    # The hidden version field's name, for the forms: the save reads the same constant.
    blueprint.add_app_template_global(VERSION_FIELD, "version_field")

    @blueprint.post("/plan/write/<form_key>")
    def write(form_key: str) -> Response:
        from launch.session import LaunchError, current_launch, plan_url, read_renewing

        def page(body: str, status: int) -> Response:
            return secured(Response(body, status=status, mimetype="text/html"), settings)

        if form_key not in FORMS:
            return page(render_template("plan_error.html", message="There is no such form."), 404)

        def not_saved(message: str, status: int) -> Response:
            """The launch or the token is gone: nothing can be sent, so hand back what was typed."""
            skip = {csrf.FIELD, *TAPER_FIELDS}
            typed = [
                (k, v)
                for k, v in request.form.items()
                if k not in skip and not k.startswith(VERSION_FIELD) and v.strip()
            ]
            body = render_template("plan/write_error.html", label=FORMS[form_key][1], message=message, typed=typed)
            return page(body, status)

        try:
            session = current_launch()
        except LaunchError as error:
            return not_saved(error.message, error.status)
        if not csrf.token_ok(current_app.secret_key, session.handle, request.form.get(csrf.FIELD)):
            return not_saved(
                "This form has expired or did not come from the plan page; reload the page and try again.", 403
            )
        builder, label, kind = FORMS[form_key]
        values = {k: v for k, v in request.form.items() if k != csrf.FIELD}
        now = settings.evaluation_now()
        version = ask_version(session, settings)
        try:
            session, shown = read_renewing(session, lambda launch: launched_page(launch, settings, now, request.form))
        except LaunchError as error:
            return not_saved(error.message, error.status)
        page_input, view = shown.page_input, shown.view
        context = _context(session, view, now, settings)
        built = builder(values, context)
        panel = panel_for(session, settings, view, page_input, request.form, version, keep_forms=True)
        answer = _not_taken(panel, built, form_key, label, kind)
        if answer is None:
            prepared = _to_send(session, built, page_input, values, context, label, kind)
            answer = (
                prepared
                if isinstance(prepared, Answer)
                else _save(session, settings, form_key, built, *prepared, version, label, kind)
            )
        if isinstance(answer, str):
            return redirect(answer, code=303)
        if answer.reread:
            # The EHR may have stored it, or changed it after this request read it: the records on file are read
            # again, so the list under the answer shows the record as it is now (and a conflict's form carries its
            # new version), which the list read before the save never could.
            again = settings.evaluation_now()
            try:
                session, shown = read_renewing(
                    session, lambda launch: launched_page(launch, settings, again, request.form)
                )
            except LaunchError:
                pass  # the answer still says what became of the save; the list under it stays the one read before
            else:
                view = shown.view
                panel = panel_for(session, settings, view, shown.page_input, request.form, version, keep_forms=True)
        panel = replace(panel, failed=built, failure=answer.failure)

        def link(**params: Any) -> str:
            return plan_url(session, **params)

        body = render_page(view, request.form, link, f"write-{form_key}", session.handle, shown.orders, panel)
        return page(body, answer.status)

    @blueprint.get("/plan/handout")
    def handout() -> Response:
        """The patient's handout (print-friendly): ?lang=en|es, the taper schedule when ?schedule=1."""
        from guideline.plan.handout import build_handout, language
        from launch.session import LaunchError, current_launch, plan_url, read_renewing

        try:
            session = current_launch()
        except LaunchError as error:
            return launch_error_page(error, settings)
        now = settings.evaluation_now()
        try:
            session, page_input = read_renewing(session, lambda launch: fetch_page_input(launch, settings, now.date()))
        except LaunchError as error:
            return launch_error_page(error, settings)
        view = assemble(page_input, settings.guideline, session.patient_id, now, request.args, session.user)
        medications = view.by_key["medications"].content
        medicines = (
            [f"{row.name}: {row.sig}" if row.sig else row.name for row in medications.opioids] if medications else []
        )
        # Never "no opioid medicine" when the medicines could not be read: the section failed or its search did.
        medications_failed = medications is None or any(not q.ok for q in view.by_key["medications"].queried)
        panel = panel_for(session, settings, view, page_input, request.args)
        goals = [f"{g.kind}: {g.text}" for g in panel.records.goals if g.status in ("active", "on-hold", "")]
        schedule = schedule_of(view) if request.args.get("schedule") == "1" else None
        lang = language(request.args.get("lang"))
        sheet = build_handout(
            lang,
            medicines,
            goals,
            schedule,
            settings.guideline["resources"],
            _next_visit(view),
            goals_unread="goals" in panel.unread,
        )
        taper = {name: request.args.get(name) for name in TAPER_FIELDS if request.args.get(name)}
        other = "es" if lang == "en" else "en"
        links = {
            "other": plan_url(session, **taper, schedule=request.args.get("schedule"), lang=other).replace(
                "/plan?", "/plan/handout?", 1
            ),
            "back": plan_url(session, **taper),
        }
        body = render_template(
            "plan/handout.html", sheet=sheet, view=view, medications_failed=medications_failed, links=links
        )
        return secured(Response(body, mimetype="text/html"), settings)

    return blueprint


def _next_visit(view: Any) -> date | None:
    """The follow-up day of the last recorded decision, when it is still ahead (a past one is no appointment)."""
    steps = view.by_key["steps"].content if "steps" in view.by_key else None
    decision = steps.decision if steps is not None else None
    if decision is None or decision.follow_up is None or decision.follow_up < view.now.date():
        return None
    return decision.follow_up
