"""Security headers on every console page and export: no inline script, no framing, no referrer, and
nothing cached (pages show conversations and numbers)."""
import base64
import hashlib
import html
import json
import re

from flask import request

POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
          "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S)


def secure(response):
    if not request.path.startswith("/staff"):
        return response
    dashboard = request.path.startswith("/staff/rq")
    if dashboard and response.mimetype == "application/json":
        _escape_json(response)
    if dashboard and response.mimetype == "text/html" and not response.direct_passthrough:
        _back_link(response)
    response.headers["Content-Security-Policy"] = _dashboard_policy(response) if dashboard else POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


def _dashboard_policy(response) -> str:
    """rq-dashboard's pages carry their own inline scripts: each is allowed by its hash, nothing else is
    (markup that reaches the page through its data can't run script)."""
    if response.direct_passthrough or response.mimetype != "text/html":
        return POLICY
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(body).digest()).decode()}'"
                      for body in INLINE_SCRIPT.findall(response.get_data()))
    return POLICY.replace("script-src 'self'", f"script-src 'self' {hashes}").replace(
        "style-src 'self'", "style-src 'self' 'unsafe-inline'")


BODY = re.compile(rb"<body[^>]*>")
BACK = (b'<p style="margin:0;padding:.5rem 1rem;background:#1f4e5f"><a href="/staff/ops" style="color:#fff">'
        b'Back to the console (Ops)</a></p>')


def _back_link(response) -> None:
    """rq-dashboard's pages have no way back to the console: one is added at the top."""
    data = response.get_data()
    found = BODY.search(data)
    if found:
        response.set_data(data[:found.end()] + BACK + data[found.end():])


def _escape_json(response) -> None:
    """The dashboard renders job fields with unescaped templates: every string it is sent is escaped."""
    def escape(value):
        if isinstance(value, str):
            return html.escape(value)
        if isinstance(value, list):
            return [escape(v) for v in value]
        if isinstance(value, dict):
            return {k: escape(v) for k, v in value.items()}
        return value
    response.set_data(json.dumps(escape(json.loads(response.get_data()))))
