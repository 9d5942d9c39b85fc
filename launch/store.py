"""Launch tables (pending authorizations and launch sessions) and the few queries the launch flow needs."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

metadata = MetaData()

# One row per authorization request in flight; deleted when its callback arrives (state is single use).
pending = Table(
    "launch_pending",
    metadata,
    Column("state_hash", String(64), primary_key=True),
    Column("browser_hash", String(64), nullable=False),
    Column("iss", Text, nullable=False),
    Column("launch", Text),
    Column("code_verifier", Text, nullable=False),  # encrypted at rest
    Column("nonce", Text),
    Column("scope", Text, nullable=False),
    Column("server", Text, nullable=False),  # JSON: the discovered endpoints, so the callback needs no discovery
    Column("expires_at", BigInteger, nullable=False),
)

# One row per completed launch; the browser only knows `handle` (public) and a secret whose hash is kept here.
sessions = Table(
    "launch_session",
    metadata,
    Column("handle", String(64), primary_key=True),
    Column("secret_hash", String(64), nullable=False),
    Column("iss", Text, nullable=False),
    Column("client_iss", Text),  # key into the client allowlist; NULL for trusted (demo) launches
    Column("token_endpoint", Text),
    Column("access_token", Text),  # encrypted at rest
    Column("refresh_token", Text),  # encrypted at rest
    Column("token_expires_at", BigInteger),
    Column("patient_id", Text, nullable=False),
    Column("encounter_id", Text),
    Column("fhir_user", Text),
    Column("scope", Text, nullable=False, default=""),
    Column("app_context", Text),  # JSON
    Column("need_patient_banner", Boolean, nullable=False, default=True),
    Column("tenant", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("refresh_lock_until", BigInteger),
)


# One row per write-back form sent to the EHR (a hash of launch, form and page token): a form arriving again (a
# double click, a reload of the answer page) is never sent a second time. Swept once older than any launch can be.
writes_sent = Table(
    "launch_write_sent",
    metadata,
    Column("send_key", String(64), primary_key=True),
    Column("sent_at", BigInteger, nullable=False),
)
WRITES_SENT_KEPT_SECONDS = 2 * 24 * 3600


def create_tables(engine: Engine) -> None:
    metadata.create_all(engine)


def now() -> int:
    return int(time.time())


def save_pending(engine: Engine, row: Mapping[str, Any]) -> None:
    with engine.begin() as connection:
        # Abandoned authorizations are swept here so the table never grows without bound.
        connection.execute(delete(pending).where(pending.c.expires_at < now()))
        connection.execute(insert(pending).values(**row))


def take_pending(engine: Engine, state_hash: str) -> dict[str, Any] | None:
    """Return and delete the pending row; None if unknown, expired or taken by a concurrent callback."""
    with engine.begin() as connection:
        row = connection.execute(select(pending).where(pending.c.state_hash == state_hash)).mappings().first()
        if row is None:
            return None
        removed = connection.execute(delete(pending).where(pending.c.state_hash == state_hash)).rowcount
        if removed != 1 or row["expires_at"] < now():
            return None
        return dict(row)


def save_session(engine: Engine, row: Mapping[str, Any]) -> None:
    with engine.begin() as connection:
        connection.execute(delete(sessions).where(sessions.c.expires_at < now()))
        connection.execute(insert(sessions).values(**row))


def load_session(engine: Engine, handle: str) -> dict[str, Any] | None:
    with engine.connect() as connection:
        row = connection.execute(select(sessions).where(sessions.c.handle == handle)).mappings().first()
    return dict(row) if row is not None else None


def live_session_ages(engine: Engine, handles: list[str]) -> dict[str, int]:
    """created_at of those handles whose session still exists and has not ended."""
    if not handles:
        return {}
    query = select(sessions.c.handle, sessions.c.created_at).where(
        sessions.c.handle.in_(handles), sessions.c.expires_at >= now()
    )
    with engine.connect() as connection:
        return {row.handle: row.created_at for row in connection.execute(query)}


def claim_refresh(engine: Engine, handle: str, seconds: int) -> bool:
    """Take the per-session refresh lock, so two requests never spend the same (rotating) refresh token."""
    moment = now()
    with engine.begin() as connection:
        claimed = connection.execute(
            update(sessions)
            .where(sessions.c.handle == handle)
            .where(or_(sessions.c.refresh_lock_until.is_(None), sessions.c.refresh_lock_until < moment))
            .values(refresh_lock_until=moment + seconds)
        ).rowcount
    return claimed == 1


def store_refreshed(engine: Engine, handle: str, values: Mapping[str, Any]) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(sessions).where(sessions.c.handle == handle).values(**values, refresh_lock_until=None)
        )


def expire_token(engine: Engine, handle: str, sealed_token: str | None) -> None:
    """Mark the launch's access token expired, so it is refreshed as an expired one is; a token another request
    has stored meanwhile (`sealed_token` no longer stored) is left alone."""
    with engine.begin() as connection:
        connection.execute(
            update(sessions)
            .where(sessions.c.handle == handle)
            .where(sessions.c.access_token == sealed_token)
            .values(token_expires_at=0)
        )


def release_refresh(engine: Engine, handle: str) -> None:
    with engine.begin() as connection:
        connection.execute(update(sessions).where(sessions.c.handle == handle).values(refresh_lock_until=None))


def claim_send(engine: Engine, send_key: str) -> bool:
    """Record that a form is being sent; False when it was sent before (the insert is the check, so two requests
    racing with the same form cannot both win)."""
    moment = now()
    try:
        with engine.begin() as connection:
            connection.execute(delete(writes_sent).where(writes_sent.c.sent_at < moment - WRITES_SENT_KEPT_SECONDS))
            connection.execute(insert(writes_sent).values(send_key=send_key, sent_at=moment))
    except IntegrityError:
        return False
    return True


def send_claimed(engine: Engine, send_key: str) -> bool:
    """Whether `send_key` was recorded (and not yet swept); a look, never a claim."""
    with engine.connect() as connection:
        found = connection.execute(select(writes_sent.c.send_key).where(writes_sent.c.send_key == send_key))
        return found.first() is not None


def end_session(engine: Engine, handle: str) -> None:
    with engine.begin() as connection:
        connection.execute(delete(sessions).where(sessions.c.handle == handle))
