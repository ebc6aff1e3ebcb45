"""Single sign-on through OpenID Connect (authlib), on when OIDC_ISSUER is set.

The identity provider proves who someone is; the role and entity scope still come from the
users table, so a person must first be created with ``flask create-user --sso``.
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Flask, redirect, url_for

import settings
from data_access.store import default_engine
from data_access.users import audit, find_user
from server.auth import sign_in


def username_from_claims(claims: dict[str, Any]) -> str:
    """The username an ID token names, from the configured claim (empty when absent)."""
    value = claims.get(settings.get("OIDC_USERNAME_CLAIM"))
    return value.strip()[:120] if isinstance(value, str) else ""


def register_sso(server: Flask) -> None:
    oauth = OAuth(server)
    oauth.register(
        "idp",
        server_metadata_url=settings.get("OIDC_ISSUER").rstrip("/") + "/.well-known/openid-configuration",
        client_id=settings.get("OIDC_CLIENT_ID"),
        client_secret=settings.get("OIDC_CLIENT_SECRET"),
        client_kwargs={"scope": "openid email profile"},
    )

    @server.route("/login/sso")
    def sso_start() -> Any:
        return oauth.idp.authorize_redirect(url_for("sso_callback", _external=True))

    @server.route("/login/sso/callback")
    def sso_callback() -> Any:
        try:
            token = oauth.idp.authorize_access_token()
        except Exception as exc:  # a forged, replayed or expired answer, or the provider out of reach
            audit(default_engine(), "(unknown)", "sign_in", "sso", "refused", type(exc).__name__)
            return "Single sign-on did not complete. Start again from the sign-in page.", 400
        username = username_from_claims(token.get("userinfo") or {})
        user = find_user(default_engine(), username) if username else None
        if user is None:
            audit(default_engine(), username or "(no claim)", "sign_in", "sso", "refused", "no such user")
            return "This account has no access to the dashboard. Ask an administrator.", 403
        sign_in(user, "sso")
        return redirect("/")
