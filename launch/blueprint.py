"""`/launch` (EHR and standalone launch), `/launch/callback` (the redirect URI) and `/launch/jwks.json`."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, redirect, request
from flask.blueprints import BlueprintSetupState
from sqlalchemy import Engine

from launch import flow
from launch.cookies import STATE_COOKIE_SECONDS, set_launch_cookie, state_cookie_name
from launch.pages import problem_page, secure_headers
from launch.service import EXTENSION_KEY, build_service, current_service
from launch.session import LaunchError, redirect_to_plan
from launch.settings import LaunchSettings

STATE_COOKIE_PATH = "/launch"


def create_launch_blueprint(settings: LaunchSettings, engine: Engine) -> Blueprint:
    blueprint = Blueprint("launch", __name__)

    @blueprint.record_once
    def _install(state: BlueprintSetupState) -> None:
        # Built at registration so a broken clients file stops the app at start-up, not at the first launch.
        state.app.extensions[EXTENSION_KEY] = build_service(settings, engine, str(state.app.secret_key))

    @blueprint.errorhandler(LaunchError)
    def _launch_error(error: LaunchError) -> Response:
        return problem_page(settings, error.message, error.status)

    @blueprint.after_request
    def _headers(response: Response) -> Response:
        if request.path == "/launch/jwks.json":
            return response
        return secure_headers(response, settings)

    @blueprint.get("/launch")
    def launch() -> Response:
        service = current_service()
        authorization = flow.begin(service, request.args.get("iss"), request.args.get("launch"))
        response = redirect(authorization.url, code=302)
        set_launch_cookie(
            response,
            request,
            settings,
            state_cookie_name(authorization.state),
            authorization.browser_nonce,
            STATE_COOKIE_SECONDS,
            STATE_COOKIE_PATH,
        )
        return response

    @blueprint.get("/launch/jwks.json")
    def jwks() -> Response:
        # The JWKS URL to register with EHRs for private_key_jwt: public halves only, newest config wins per kid.
        keys = {
            client.signing_key.kid: client.signing_key.as_dict(private=False)
            for client in current_service().clients.values()
            if client.signing_key is not None
        }
        response = jsonify(keys=[{**key, "use": "sig"} for key in keys.values()])
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    @blueprint.get("/launch/callback")
    def callback() -> Response:
        service = current_service()
        state = request.args.get("state", "")
        cookie = state_cookie_name(state) if state else None
        try:
            handle, secret = flow.complete(service, request.args, request.cookies.get(cookie) if cookie else None)
        except LaunchError as error:
            response = problem_page(settings, error.message, error.status)
        else:
            response = redirect_to_plan(service, handle, secret)
        if cookie:
            # Same attributes as when it was set, so the browser accepts the removal in every setting.
            set_launch_cookie(response, request, settings, cookie, "", 0, STATE_COOKIE_PATH)
        return response

    return blueprint
