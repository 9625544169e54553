"""Security headers on every response; pages with personal data are never cached."""

from __future__ import annotations

from flask import Flask, Response, request

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # no framing: clickjacking of the acknowledge buttons
    "Referrer-Policy": "same-origin",  # signed links must not leak in a Referer
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    @app.after_request
    def _secure(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.path.startswith("/console/static"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
