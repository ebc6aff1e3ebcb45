"""Sign-in, roles and hardening, enforced on the server for every request.

Dash callbacks are plain POSTs to ``/_dash-update-component`` that anyone can send, so the
check happens here, before any page, callback or export runs: no session, no data. Pages
and routes that write or export check the role and the entity scope again themselves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any
from urllib.parse import urlparse

from flask import (
    Flask,
    Response,
    abort,
    g,
    has_request_context,
    jsonify,
    redirect,
    render_template_string,
    request,
    session,
    url_for,
)
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import BadRequest
from werkzeug.middleware.proxy_fix import ProxyFix

import settings
from data_access.reads.filters import Filters
from data_access.store import default_engine
from data_access.users import SignedInUser, audit, authenticate, end_sessions, find_user
from server.callback_guard import payload_error

#: Paths anyone may fetch: static code and styles (no data), and the sign-in itself.
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon.ico")
SSO_PATHS = ("/login/sso", "/login/sso/callback")
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
#: Dash's own endpoints and the exports answer 401 (JSON) rather than redirecting to the sign-in page.
API_PREFIXES = ("/_dash-", "/export/", "/upload")

LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Staff learning dashboard</title><link rel="stylesheet" href="/assets/bootstrap.min.css"></head>
<body class="bg-light"><main class="container" style="max-width: 26rem; margin-top: 10vh">
<h1 class="h4 mb-3">Staff learning dashboard</h1>
{% if error %}<div class="alert alert-danger" role="alert">{{ error }}</div>{% endif %}
<form method="post" action="/login" class="card card-body">
<input type="hidden" name="next" value="{{ next }}">
<label class="form-label" for="username">Username</label>
<input class="form-control mb-2" id="username" name="username" autocomplete="username" required value="{{ username }}">
<label class="form-label" for="password">Password</label>
<input class="form-control mb-3" id="password" name="password" type="password" autocomplete="current-password" required>
<button class="btn btn-primary" type="submit" id="sign-in">Sign in</button>
{% if sso %}<a class="btn btn-outline-secondary mt-2" href="/login/sso">Sign in with your organization</a>{% endif %}
</form></main></body></html>"""


def current_user() -> SignedInUser | None:
    """The signed-in user of this request (set by the request check), or None outside a request."""
    return g.get("user") if has_request_context() else None


def require(role: str) -> SignedInUser:
    """The current user if their role allows ``role``; otherwise the request ends with 401 or 403."""
    user = current_user()
    if user is None:
        abort(401)
    if not user.can(role):
        audit(
            default_engine(),
            user.username,
            "refused",
            f"{request.method} {request.path}"[:300],
            "refused",
            f"needs {role}",
        )
        abort(403)
    return user


def scoped(filters: Filters, user: SignedInUser | None) -> Filters:
    """Filters a user may see: a user limited to some entities never sees beyond them."""
    if user is None or user.entities is None:
        return filters
    if filters.entity in user.entities:
        return filters
    return replace(filters, entity=user.entities[0])


def safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (open redirect) or a scheme-relative URL.

    Browsers drop tabs and line breaks from a URL before reading it (``/\t/evil.example`` is
    ``//evil.example`` to them), so any control character or space refuses the target too.
    """
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(character) < 33 or ord(character) == 127 for character in target)
    ):
        return "/"
    return target


def _same_origin() -> bool:
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if not origin:
        return False
    parsed = urlparse(origin)
    return f"{parsed.scheme}://{parsed.netloc}" == request.host_url.rstrip("/")


def _is_public(path: str) -> bool:
    return path == "/login" or path.startswith(PUBLIC_PREFIXES) or (path in SSO_PATHS and _sso_on())


def content_security_policy(script_hashes: list[str]) -> str:
    scripts = " ".join(["'self'", *script_hashes])
    return (
        "default-src 'self'; "
        f"script-src {scripts}; "
        "style-src 'self' 'unsafe-inline'; "  # plotly and dcc set inline styles
        "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


def register_auth(app: Any) -> None:
    """Install the sign-in routes, the per-request checks and the security headers on ``app.server``."""
    server: Flask = app.server
    proxies = settings.get_int("PROXIES")
    if proxies > 0:
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    server.secret_key = settings.secret_key()
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production(),
        SESSION_COOKIE_NAME="learning_session",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=settings.get_int("SESSION_HOURS")),
    )
    server.config["MAX_CONTENT_LENGTH"] = settings.get_int("MAX_UPLOAD_BYTES")  # the ceiling; routes set lower
    # A request naming another host is refused (400) before anything reads it: no DNS rebinding.
    server.config["TRUSTED_HOSTS"] = settings.allowed_hosts()

    def attempt_key() -> str:
        # Only the sign-in form is parsed here: reading any other body now would escape its size limit.
        if request.path != "/login":
            return get_remote_address()
        return f"{get_remote_address()}|{request.form.get('username', '')[:120].lower()}"

    limiter = Limiter(
        key_func=attempt_key,
        app=server,
        storage_uri=settings.get("RATELIMIT_STORAGE_URI"),
        default_limits=[],
    )

    @server.before_request
    def check_request() -> Response | None:
        limit = settings.get_int("MAX_UPLOAD_BYTES" if request.path == "/upload" else "MAX_REQUEST_BYTES")
        request.max_content_length = limit  # also bounds bodies sent without a Content-Length (chunked)
        if request.content_length is not None and request.content_length > limit:
            abort(413)
        if request.method in STATE_CHANGING and not _same_origin():
            return jsonify(error="cross-site request refused"), 403  # type: ignore[return-value]
        if _is_public(request.path):
            return None
        username = session.get("user")
        user = find_user(default_engine(), username) if isinstance(username, str) else None
        if user is not None and session.get("epoch") != user.session_epoch:
            user = None  # the user signed out or was deactivated after this sign-in
        if user is None:
            session.clear()
            if request.path.startswith(API_PREFIXES) or request.method != "GET":
                return jsonify(error="sign in first"), 401  # type: ignore[return-value]
            return redirect(url_for("login", next=request.full_path.rstrip("?")))
        g.user = user
        if request.path == "/_dash-update-component":
            try:
                body = request.get_json(force=True)  # a body over the limit raises 413 here, never read further
            except BadRequest:
                body = None
            problem = payload_error(body, app.callback_map)
            if problem:
                return jsonify(error=f"malformed callback request: {problem}"), 400  # type: ignore[return-value]
        return None

    @server.after_request
    def security_headers(response: Response) -> Response:
        # Built for each page, not once: Dash adds inline scripts while it finishes setting up on a first request.
        if response.mimetype == "text/html":
            response.headers["Content-Security-Policy"] = content_security_policy(app.csp_hashes())
        else:
            response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if settings.is_production():
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if not _is_public(request.path) or request.path.startswith("/login"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @server.route("/login", methods=["GET", "POST"])
    @limiter.limit(lambda: settings.get("LOGIN_RATE_LIMIT"), methods=["POST"])
    @limiter.limit(
        lambda: settings.get("LOGIN_ADDRESS_RATE_LIMIT"),
        key_func=get_remote_address,
        methods=["POST"],
        deduct_when=lambda response: response.status_code == 401,
    )
    def login() -> Any:
        next_path = safe_next(request.values.get("next"))
        if request.method == "GET":
            return render_template_string(LOGIN_PAGE, error=None, next=next_path, username="", sso=_sso_on())
        username = request.form.get("username", "")[:120]
        user = authenticate(default_engine(), username, request.form.get("password", ""))
        if user is None:
            audit(default_engine(), username or "(blank)", "sign_in", "password", "refused")
            page = render_template_string(
                LOGIN_PAGE, error="Wrong username or password.", next=next_path, username=username, sso=_sso_on()
            )
            return page, 401
        sign_in(user, "password")
        return redirect(next_path)

    @server.route("/logout", methods=["POST"])
    def logout() -> Any:
        user = session.get("user")
        session.clear()
        if isinstance(user, str):
            end_sessions(default_engine(), user)  # a copy of the cookie kept elsewhere stops working too
            audit(default_engine(), user, "sign_out", "session", "ok")
        return redirect(url_for("login"))

    @server.errorhandler(429)
    def too_many(_error: Exception) -> Any:
        audit(default_engine(), request.form.get("username", "")[:120] or "(blank)", "sign_in", "password", "limited")
        page = render_template_string(
            LOGIN_PAGE, error="Too many attempts. Wait a minute and try again.", next="/", username="", sso=_sso_on()
        )
        return page, 429

    if _sso_on():
        from server.sso import register_sso

        register_sso(server)


def sign_in(user: SignedInUser, method: str) -> None:
    session.clear()
    session.permanent = True
    session["user"] = user.username
    session["epoch"] = user.session_epoch
    audit(default_engine(), user.username, "sign_in", method, "ok")


def _sso_on() -> bool:
    return bool(settings.get("OIDC_ISSUER"))
