"""Single sign-on end to end: the dashboard (its own process) against a small OpenID Connect provider."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from flask import Flask, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def identity_provider(port: int, client_id: str, person: dict[str, str]) -> Flask:
    """Discovery, authorize (signs ``person`` straight in), token and keys: what the dashboard's client uses."""
    issuer = f"http://127.0.0.1:{port}"
    key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
    codes: dict[str, str] = {}
    idp = Flask("idp")

    @idp.get("/.well-known/openid-configuration")
    def discovery():  # type: ignore[no-untyped-def]
        return jsonify(
            issuer=issuer,
            authorization_endpoint=f"{issuer}/authorize",
            token_endpoint=f"{issuer}/token",
            jwks_uri=f"{issuer}/jwks",
            response_types_supported=["code"],
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["RS256"],
        )

    @idp.get("/authorize")
    def authorize():  # type: ignore[no-untyped-def]
        code = secrets.token_hex(8)
        codes[code] = request.args["nonce"]
        return redirect(f"{request.args['redirect_uri']}?{urlencode({'code': code, 'state': request.args['state']})}")

    @idp.post("/token")
    def token():  # type: ignore[no-untyped-def]
        nonce = codes.pop(request.form["code"])
        now = int(time.time())
        claims = {"iss": issuer, "sub": "person-1", "aud": client_id, "iat": now, "exp": now + 300,
                  "nonce": nonce, "email": person["email"]}  # fmt: skip
        id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, key)
        return jsonify(access_token="at", token_type="Bearer", expires_in=300, id_token=id_token)

    @idp.get("/jwks")
    def jwks():  # type: ignore[no-untyped-def]
        return jsonify(keys=[key.as_dict(private=False)])

    return idp


@pytest.fixture
def dashboard_with_sso(tmp_path):  # type: ignore[no-untyped-def]
    idp_port, app_port = free_port(), free_port()
    person = {"email": "a.person@un.org"}
    server = make_server("127.0.0.1", idp_port, identity_provider(idp_port, "dashboard", person))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {**os.environ, "INSTANCE_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'server.sso.db'}",
           "PORT": str(app_port), "OIDC_ISSUER": f"http://127.0.0.1:{idp_port}", "OIDC_CLIENT_ID": "dashboard",
           "OIDC_CLIENT_SECRET": "secret"}  # fmt: skip
    flask = [sys.executable, "-m", "flask", "--app", "app:server"]
    subprocess.run([*flask, "init-db"], cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603
    subprocess.run(
        [*flask, "create-user", "a.person@un.org", "--sso"], cwd=ROOT, env=env, check=True, capture_output=True
    )  # noqa: S603
    app = subprocess.Popen(
        [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )  # noqa: S603
    base = f"http://127.0.0.1:{app_port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/login", timeout=30)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield base, person
    finally:
        app.terminate()
        app.wait(10)
        server.shutdown()


def test_a_known_person_signs_in_through_the_identity_provider(dashboard_with_sso):
    base, _ = dashboard_with_sso
    browser = requests.Session()
    assert "Sign in with your organization" in browser.get(f"{base}/login").text
    assert browser.get(f"{base}/_dash-layout").status_code == 401
    landed = browser.get(f"{base}/login/sso", timeout=10)  # to the provider, back to the callback, then home
    assert landed.status_code == 200 and landed.url == f"{base}/"
    assert browser.get(f"{base}/_dash-layout").status_code == 200


def test_an_unknown_person_and_a_forged_callback_are_refused(dashboard_with_sso):
    base, person = dashboard_with_sso
    person["email"] = "stranger@un.org"
    browser = requests.Session()
    refused = browser.get(f"{base}/login/sso", timeout=10)
    assert refused.status_code == 403 and "no access" in refused.text
    assert browser.get(f"{base}/_dash-layout").status_code == 401
    forged = browser.get(f"{base}/login/sso/callback?code=forged&state=forged", timeout=10)
    assert forged.status_code == 400 and "Traceback" not in forged.text
    assert browser.get(f"{base}/_dash-layout").status_code == 401
