"""Small self-contained HTML pages for launch problems: plain words, no stack traces, no tokens, no PHI."""

from __future__ import annotations

from flask import Response
from markupsafe import escape

from launch.cookies import frame_ancestors_header
from launch.settings import LaunchSettings

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>PainPlan: {title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #1d2733; max-width: 40rem; line-height: 1.5; }}
h1 {{ font-size: 1.25rem; }}
p.note {{ color: #5a6472; font-size: 0.9rem; }}
</style>
</head>
<body>
<main>
<h1>{title}</h1>
<p>{message}</p>
<p class="note">No patient information was shown or stored.</p>
</main>
</body>
</html>
"""


def secure_headers(response: Response, settings: LaunchSettings) -> Response:
    """Headers every launch page carries: framable by the EHR only, never cached, no Referer leaks."""
    response.headers["Content-Security-Policy"] = frame_ancestors_header(settings)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def problem_page(
    settings: LaunchSettings, message: str, status: int, title: str = "The plan could not open"
) -> Response:
    body = _PAGE.format(title=escape(title), message=escape(message))
    response = Response(body, status=status, mimetype="text/html")
    return secure_headers(response, settings)
