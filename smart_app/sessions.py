"""Flask's cookie session switched off: PainPlan keeps state server-side (launch store, database), never in cookies."""

from __future__ import annotations

from flask import Flask, Request, Response
from flask.sessions import NullSession, SessionInterface


class NoCookieSession(SessionInterface):
    """Every request gets a read-only empty session; writing to it raises, so tokens can never leak into a cookie."""

    def open_session(self, app: Flask, request: Request) -> NullSession:
        return self.make_null_session(app)

    def save_session(self, app: Flask, session: NullSession, response: Response) -> None:
        return None
