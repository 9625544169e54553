"""Security headers on every response; pages with personal data are never cached.

HTML gets a Content-Security-Policy: scripts and styles come from this site's own files, and an
inline <script> or <style> runs only if it carries this response's nonce (`csp_nonce()` in a
template). Everything else (JSON, downloads) may load nothing at all. HSTS is sent when the
console is served over https (AUDITCAGE_PUBLIC_URL, or the request itself).
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, request

from api import db

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # no framing: clickjacking of the acknowledge buttons
    "Referrer-Policy": "same-origin",  # signed links must not leak in a Referer
    "Cross-Origin-Opener-Policy": "same-origin",
}

# No 'unsafe-inline' and no 'unsafe-eval': an injected <script> or onclick= does not run. ECharts
# (vendored) needs neither: it styles through the CSSOM, which style-src does not restrict.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
OTHER_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
# One year, the minimum the browsers' preload lists accept; no includeSubDomains, because the
# other hosts of a bureau's domain are not ours to force onto https.
HSTS = "max-age=31536000"


def csp_nonce() -> str:
    """This response's nonce, made on first use (base64url: valid inside a CSP source)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return str(g.csp_nonce)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def _secure(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "text/html":
            policy = PAGE_POLICY.format(nonce=csp_nonce())
        else:
            policy = OTHER_POLICY
        response.headers.setdefault("Content-Security-Policy", policy)
        if request.is_secure or db.settings().public_url.startswith("https://"):
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if not request.path.startswith("/console/static"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
