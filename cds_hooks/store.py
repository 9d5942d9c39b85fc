"""Durable CDS state (SQLAlchemy Core): issued cards, feedback, snoozes and the JWT replay cache."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, closing, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import ClauseElement

from cds_hooks.notices import NOTICES
from guideline.cards import Card, Snooze

log = logging.getLogger(__name__)

metadata = MetaData()
ID = 512  # Epic ids run to ~200 characters; leave room

issued_cards = Table(
    "cds_issued_cards",
    metadata,
    Column("uuid", String(36), primary_key=True),
    Column("check_id", String(64), nullable=False),
    Column("patient_id", String(ID)),
    Column("user_id", String(ID)),
    Column("indicator", String(16), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("service", String(64), nullable=False),
    Column("hook_instance", String(128)),
    # The finding's parts as digests (space-separated) and its level: an override's snooze keeps them (0002).
    Column("about", Text),
    Column("level", String(32)),
    # The kinds of data the card's finding rests on that could not be read, sorted, comma-separated ("lab-results");
    # "" when all were read; NULL when not known: a notice, a row stored before 0004, or one stored by a PainPlan that
    # wrote NULL for a complete record too (`stored_incomplete`, `records_of`).
    Column("records_incomplete", Text),
    # The override reason codes the card offered, space-separated ("" for none); NULL in rows stored before 0005, on
    # which feedback is taken as it was then (`offered`).
    Column("offered_reasons", Text),
    Index("ix_cds_issued_cards_issued_at", "issued_at"),
)

# No patient data here: the card uuid links to issued_cards, which is pruned after the retention period.
feedback = Table(
    "cds_feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("fingerprint", String(64), nullable=False, unique=True),
    Column("card_uuid", String(128), nullable=False, index=True),
    Column("service", String(64), nullable=False),
    Column("hook_instance", String(128)),
    Column("outcome", String(16), nullable=False),
    Column("reason_system", String(256)),
    Column("reason_code", String(128)),
    Column("comment", Text),
    Column("accepted_suggestions", Text),
    Column("outcome_timestamp", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

snoozes = Table(
    "cds_snoozes",
    metadata,
    Column("patient_id", String(ID), primary_key=True),
    Column("check_id", String(64), primary_key=True),
    Column("user_id", String(ID), primary_key=True),  # "" = every user
    # One row per reason: a later override must not erase a "pdmp-reviewed" row, which counts as a PDMP review.
    Column("reason", String(128), primary_key=True),
    Column("until", DateTime(timezone=True), nullable=False),
    Column("indicator", String(16), nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
    Column("comment", Text),
    # NULL in rows stored before 0002: such a snooze covers every finding of its check, as it did then.
    Column("about", Text),
    Column("level", String(32)),
)

seen_jti = Table(
    "cds_seen_jti",
    metadata,
    Column("iss", String(512), primary_key=True),
    Column("jti", String(256), primary_key=True),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

RETENTION = timedelta(days=90)


def create_tables(engine: Engine) -> None:
    metadata.create_all(engine, checkfirst=True)


def utc(value: datetime) -> datetime:
    """Aware UTC for storage; SQLite hands back naive datetimes, which we stored as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class IssuedCard:
    uuid: str
    check_id: str
    patient_id: str | None
    user_id: str | None
    indicator: str
    issued_at: datetime
    service: str
    hook_instance: str | None
    about: str | None = None  # `finding_keys` of the card, space-separated (see `stored_about`)
    level: str | None = None
    records_incomplete: str | None = None  # see `stored_incomplete`
    offered_reasons: str | None = None  # see `stored_reasons`


def stored_reasons(card: dict[str, Any]) -> str:
    """The override reason codes a rendered card offered, as one column value: space-separated, "" for none."""
    return " ".join(reason["code"] for reason in card.get("overrideReasons", ()))


def offered(issued: IssuedCard) -> frozenset[str] | None:
    """The override reason codes the card offered; None when not recorded (a row stored before 0005)."""
    return None if issued.offered_reasons is None else frozenset(issued.offered_reasons.split())


def stored_incomplete(card: Card) -> str | None:
    """The unread kinds a card's finding rests on (its `facts["not_read"]`, as each check names them) as one column
    value: sorted, comma-separated; "" when everything it rests on was read; None for PainPlan's own notices, which
    rest on no data (`records_of`)."""
    if card.check_id in NOTICES:
        return None
    kinds = card.facts.get("not_read") or ()
    return ",".join(sorted(set(kinds)))


def stored_about(keys: frozenset[str] | None) -> str | None:
    """A finding's digests as one column value; "" for a finding without parts (None: not recorded)."""
    return None if keys is None else " ".join(sorted(keys))


def read_about(value: str | None) -> frozenset[str] | None:
    return None if value is None else frozenset(value.split())


def stored_level(level: Decimal | None) -> str | None:
    return None if level is None else str(level)


# Below any finding's level: a snooze whose stored level cannot be read hides no finding that has one.
UNREADABLE_LEVEL = Decimal("-Infinity")


def read_level(value: str | None) -> Decimal | None:
    """A stored level (None: not recorded). One that cannot be read covers no level: it must not hide a finding
    it may never have seen."""
    if value is None:
        return None
    try:
        level = Decimal(value)
    except ArithmeticError:
        return UNREADABLE_LEVEL
    return UNREADABLE_LEVEL if level.is_nan() else level


# The hook path's statements, built once: building and caching a statement object costs more than SQLite's work.
_INSERT_ISSUED = insert(issued_cards)
_ISSUED_COLUMNS = tuple(column.name for column in issued_cards.c)
_SNOOZE_COLUMNS = (
    snoozes.c.check_id,
    snoozes.c.patient_id,
    snoozes.c.until,
    snoozes.c.indicator,
    snoozes.c.user_id,
    snoozes.c.reason,
    snoozes.c.set_at,
    snoozes.c.about,
    snoozes.c.level,
)
_SNOOZES_FOR = select(*_SNOOZE_COLUMNS).where(
    snoozes.c.patient_id == bindparam("patient"),
    snoozes.c.until > bindparam("now"),
    snoozes.c.user_id.in_([bindparam("everyone"), bindparam("user")]),
)
_DELETE_EXPIRED_JTI = delete(seen_jti).where(seen_jti.c.expires_at < bindparam("now"))
_INSERT_JTI = insert(seen_jti)
_JTI_COLUMNS = tuple(column.name for column in seen_jti.c)


@dataclass(frozen=True)
class _DriverStatement:
    """A statement compiled once for a dialect and run on the driver's own cursor.

    Every hook call runs two statements; SQLAlchemy's per-execution work (cache lookup, execution context, result
    object) costs several times what SQLite itself does. The SQL, the parameter order and the type conversions are
    SQLAlchemy's own, taken from the compiled statement, so the driver sees exactly what SQLAlchemy would send.
    """

    sql: str
    order: tuple[str, ...] | None  # positional drivers (SQLite's qmark); None: named parameters (psycopg)
    converters: tuple[tuple[str, Callable[[Any], Any]], ...]  # parameters the dialect converts before sending

    def parameters(self, values: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        for name, convert in self.converters:
            values[name] = convert(values[name])
        return values if self.order is None else tuple([values[name] for name in self.order])

    def rows(self, many: list[dict[str, Any]]) -> list[tuple[Any, ...]] | list[dict[str, Any]]:
        """The parameters of many rows. A value the rows share (a call's cards share their issue time) is converted
        once: the dialect's conversions (SQLite's datetime to text) are Python code."""
        # Shared means the same object, not an equal one: equal values may convert differently (12:00 UTC and
        # 07:00 -05:00 are equal datetimes, and SQLite's text drops the zone; 1 == True), and some cannot be hashed.
        # Each original is kept here, so that its id is not reused by another value while the rows are converted.
        done: dict[tuple[str, int], tuple[Any, Any]] = {}
        for values in many:
            for name, convert in self.converters:
                value = values[name]
                key = (name, id(value))
                if key not in done:
                    done[key] = (value, convert(value))
                values[name] = done[key][1]
        if self.order is None:
            return many
        order = self.order
        return [tuple([values[name] for name in order]) for values in many]


def _driver_statement(statement: ClauseElement, dialect: Dialect, column_keys: Sequence[str] = ()) -> _DriverStatement:
    compiled = statement.compile(dialect=dialect, column_keys=list(column_keys) or None)
    converters = []
    for name, bind in compiled.binds.items():
        convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if convert is not None:
            converters.append((name, convert))
    order = tuple(compiled.positiontup) if compiled.positional else None
    return _DriverStatement(compiled.string, order, tuple(converters))


@dataclass(frozen=True)
class _HookStatements:
    """What a hook call runs on the database, compiled for one dialect."""

    snoozes_for: _DriverStatement
    snooze_converters: tuple[Callable | None, ...]  # result converters of the snooze columns
    insert_issued: _DriverStatement
    delete_expired_jti: _DriverStatement
    insert_jti: _DriverStatement


@lru_cache(maxsize=8)
def _hook_statements(dialect: Dialect) -> _HookStatements:
    return _HookStatements(
        snoozes_for=_driver_statement(_SNOOZES_FOR, dialect),
        snooze_converters=tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in _SNOOZE_COLUMNS
        ),
        insert_issued=_driver_statement(_INSERT_ISSUED, dialect, _ISSUED_COLUMNS),
        delete_expired_jti=_driver_statement(_DELETE_EXPIRED_JTI, dialect),
        insert_jti=_driver_statement(_INSERT_JTI, dialect, _JTI_COLUMNS),
    )


class CallStore:
    """One hook call's database work on one pooled connection: its snoozes read before it is evaluated, its cards
    written and committed (before it is answered) after. The connection is checked out at the first statement and
    returned once the cards are committed, or at `close`: checking one out and in again for each statement cost more
    than SQLite's own work on it. After a failure the connection is discarded and a later statement gets a new one.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._statements = _hook_statements(engine.dialect)
        self._connection: Any = None

    def __enter__(self) -> CallStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Return the connection to the pool (which rolls back anything not committed)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _connect(self) -> Any:
        if self._connection is None:
            self._connection = self.engine.raw_connection()
        return self._connection

    def _discard(self) -> None:
        """After a failure: never hand the connection on half-broken (PostgreSQL refuses all after an error)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.invalidate()
            connection.close()

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        """A cursor on the call's connection; anything raised through it discards the connection (the only way one is
        dropped: an error the caller handles inside, such as a replayed token id, leaves the connection as it is)."""
        try:
            with closing(self._connect().cursor()) as cursor:
                yield cursor
        except BaseException:
            self._discard()
            raise

    def load_snoozes(self, patient_id: str | None, user_id: str | None, now: datetime) -> list[Snooze]:
        """Unexpired snoozes for this patient: patient-wide ones and those set by this user."""
        if not patient_id:
            return []
        statement, converters = self._statements.snoozes_for, self._statements.snooze_converters
        # "" stands for every user; without a user id the query asks for "" twice.
        values = {"patient": patient_id, "now": utc(now), "everyone": "", "user": user_id or ""}
        with self._cursor() as cursor:
            cursor.execute(statement.sql, statement.parameters(values))
            rows = cursor.fetchall()
        if rows and any(converters):
            rows = [tuple(v if c is None else c(v) for c, v in zip(converters, row, strict=True)) for row in rows]
        return [
            Snooze(
                check_id=check_id,
                patient_id=patient,
                until=utc(until),
                indicator=indicator,
                user_id=user or None,
                reason=reason or None,
                set_at=utc(set_at),
                about=read_about(about),
                level=read_level(level),
            )
            for check_id, patient, until, indicator, user, reason, set_at, about, level in rows
        ]

    def record_issued(self, cards: Sequence[IssuedCard]) -> None:
        """Every card of the call in one transaction and one executemany, committed before the call is answered;
        the connection then goes back to the pool."""
        if not cards:
            return
        statement = self._statements.insert_issued
        rows = statement.rows([{**card.__dict__, "issued_at": utc(card.issued_at)} for card in cards])
        with self._cursor() as cursor:
            cursor.executemany(statement.sql, rows)
            self._connection.commit()
        self.close()

    def remember_jti(self, iss: str, jti: str, expires_at: datetime, now: datetime) -> bool:
        """Record a token id; False if it was already seen and has not expired (a replay)."""
        expired, insert_jti = self._statements.delete_expired_jti, self._statements.insert_jti
        with self._cursor() as cursor:
            # One transaction: expired ids go first, so an id seen before and since expired is accepted again.
            cursor.execute(expired.sql, expired.parameters({"now": utc(now)}))
            values = {"iss": iss, "jti": jti, "expires_at": utc(expires_at)}
            try:
                cursor.execute(insert_jti.sql, insert_jti.parameters(values))
            except self.engine.dialect.loaded_dbapi.IntegrityError:
                self._connection.rollback()  # the id is known: a replay; the connection itself is fine
                return False
            self._connection.commit()
        return True


def call_store(engine: Engine | None) -> AbstractContextManager[CallStore | None]:
    """A hook call's `CallStore`, closed when the call ends; None without a database."""
    return CallStore(engine) if engine is not None else nullcontext()


def record_issued(engine: Engine, cards: Sequence[IssuedCard]) -> None:
    """Every card of one call in one transaction and one executemany, committed before the call is answered."""
    with CallStore(engine) as call:
        call.record_issued(cards)


def find_issued(engine: Engine, card_uuid: str) -> IssuedCard | None:
    with engine.connect() as connection:
        row = connection.execute(select(issued_cards).where(issued_cards.c.uuid == card_uuid)).mappings().first()
    if row is None:
        return None
    return IssuedCard(**{**row, "issued_at": utc(row["issued_at"])})


@dataclass(frozen=True)
class FeedbackRow:
    fingerprint: str
    card_uuid: str
    service: str
    hook_instance: str | None
    outcome: str
    reason_system: str | None
    reason_code: str | None
    comment: str | None
    accepted_suggestions: tuple[str, ...]
    outcome_timestamp: datetime


def record_feedback(engine: Engine, row: FeedbackRow, received_at: datetime) -> bool:
    """Store one feedback item; False when the identical item was already stored (the endpoint is idempotent)."""
    values = {
        **row.__dict__,
        "accepted_suggestions": json.dumps(list(row.accepted_suggestions)) if row.accepted_suggestions else None,
        "outcome_timestamp": utc(row.outcome_timestamp),
        "received_at": utc(received_at),
    }
    try:
        with engine.begin() as connection:
            connection.execute(insert(feedback), [values])
    except IntegrityError:
        return False
    return True


def save_snooze(engine: Engine, snooze: Snooze, comment: str | None = None) -> None:
    """Create or refresh the snooze for (patient, check, user, reason)."""
    key = {
        "patient_id": snooze.patient_id,
        "check_id": snooze.check_id,
        "user_id": snooze.user_id or "",
        "reason": snooze.reason or "",
    }
    values = {
        "until": utc(snooze.until),
        "indicator": snooze.indicator,
        "set_at": utc(snooze.set_at or datetime.now(UTC)),
        "comment": comment,
        "about": stored_about(snooze.about),
        "level": stored_level(snooze.level),
    }
    where = and_(*(getattr(snoozes.c, name) == value for name, value in key.items()))
    for _ in range(2):  # two workers may race on the same key: insert, else update
        with engine.begin() as connection:
            if connection.execute(update(snoozes).where(where).values(**values)).rowcount:
                return
            try:
                connection.execute(insert(snoozes), [{**key, **values}])
                return
            except IntegrityError:
                connection.rollback()


def load_snoozes(engine: Engine, patient_id: str | None, user_id: str | None, now: datetime) -> list[Snooze]:
    """Unexpired snoozes for this patient: patient-wide ones and those set by this user."""
    with CallStore(engine) as call:
        return call.load_snoozes(patient_id, user_id, now)


def remember_jti(engine: Engine, iss: str, jti: str, expires_at: datetime, now: datetime) -> bool:
    """Record a token id; False if it was already seen and has not expired (a replay). Shared by all workers.

    Every authenticated hook call runs this, so it runs on the driver's cursor like the other hook statements.
    """
    with CallStore(engine) as call:
        return call.remember_jti(iss, jti, expires_at, now)


def prune(engine: Engine, now: datetime, retention: timedelta = RETENTION) -> None:
    """Drop issued cards past the retention period (30 days is the minimum the guideline asks for)."""
    with engine.begin() as connection:
        connection.execute(delete(issued_cards).where(issued_cards.c.issued_at < utc(now - retention)))
        connection.execute(delete(snoozes).where(snoozes.c.until < utc(now - retention)))


@dataclass(frozen=True)
class Tally:
    """Cards issued and the distinct ones overridden and accepted."""

    issued: int = 0
    overridden: int = 0
    accepted: int = 0

    @property
    def override_rate(self) -> float | None:
        """None without cards: no rate, rather than a 0% that reads as "never overridden"."""
        return self.overridden / self.issued if self.issued else None

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.issued + other.issued, self.overridden + other.overridden, self.accepted + other.accepted)


# What a row's `records_incomplete` says of the records its card was issued on (`records_of`).
INCOMPLETE, COMPLETE, NOT_KNOWN = "incomplete", "complete", "not-known"


def records_of(stored: str | None) -> str:
    """Whether a card was issued on incomplete records (kinds named), complete ones ("": everything its finding rests
    on was read) or not known (NULL: stored before 0004 recorded it, by a PainPlan that stored NULL for complete
    records too, or a notice, which rests on no data)."""
    if stored is None:
        return NOT_KNOWN
    return INCOMPLETE if stored else COMPLETE


@dataclass(frozen=True)
class CheckStats:
    """One check's cards, counted apart by the records they were issued on (`records_of`), and its commonest
    override reasons."""

    check_id: str
    top_reasons: tuple[tuple[str, int], ...] = ()
    # An override of a card issued on incomplete records may say the EHR's data is broken, not the card.
    incomplete: Tally = Tally()
    complete: Tally = Tally()
    not_known: Tally = Tally()

    @property
    def every(self) -> Tally:
        return self.incomplete + self.complete + self.not_known


def feedback_stats(engine: Engine) -> list[CheckStats]:
    """Per check: cards issued and the distinct ones overridden and accepted, counted apart by the records they were
    issued on (`records_of`), and the commonest override reasons."""
    # Grouped by the stored value itself, classified below (`records_of`): a CASE in GROUP BY repeats its bound
    # literals, which PostgreSQL does not take for the same expression.
    stored = issued_cards.c.records_incomplete
    with engine.connect() as connection:
        issued_rows = connection.execute(
            select(issued_cards.c.check_id, stored, func.count()).group_by(issued_cards.c.check_id, stored)
        ).all()
        joined = feedback.join(issued_cards, feedback.c.card_uuid == issued_cards.c.uuid)
        outcomes = connection.execute(
            select(issued_cards.c.check_id, stored, feedback.c.outcome, func.count(func.distinct(feedback.c.card_uuid)))
            .select_from(joined)
            .group_by(issued_cards.c.check_id, stored, feedback.c.outcome)
        ).all()
        reasons = connection.execute(
            select(issued_cards.c.check_id, feedback.c.reason_code, func.count())
            .select_from(joined)
            .where(and_(feedback.c.outcome == "overridden", feedback.c.reason_code.is_not(None)))
            .group_by(issued_cards.c.check_id, feedback.c.reason_code)
        ).all()
    tallies: defaultdict[tuple[str, str], Tally] = defaultdict(Tally)
    for check, value, n in issued_rows:
        tallies[check, records_of(value)] += Tally(issued=n)
    for check, value, outcome, n in outcomes:
        if outcome in ("overridden", "accepted"):
            tallies[check, records_of(value)] += Tally(**{outcome: n})
    by_check: dict[str, list[tuple[str, int]]] = {}
    for check, code, n in reasons:
        by_check.setdefault(check, []).append((code, n))
    return [
        CheckStats(
            check_id=check,
            top_reasons=tuple(sorted(by_check.get(check, []), key=lambda item: (-item[1], item[0]))[:3]),
            incomplete=tallies[check, INCOMPLETE],
            complete=tallies[check, COMPLETE],
            not_known=tallies[check, NOT_KNOWN],
        )
        for check in sorted({check for check, _ in tallies})
    ]


def all_rows(engine: Engine, table: Table) -> Iterable[dict]:
    """Every row of a table as dicts (tests and the report)."""
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(select(table)).mappings().all()]
