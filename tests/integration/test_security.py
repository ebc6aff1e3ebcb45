"""Access control and hardening, over HTTP against the real app and store."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from data_access.reads import views
from data_access.schema import AuditEvent
from data_access.users import ROLES
from tests.conftest import BACKENDS, database_url
from tests.helpers import create_user, signed_in

ORIGIN = "http://localhost"
PASSWORD = "a-long-test-password"


@pytest.fixture(scope="module", params=BACKENDS)
def site(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("security")
    with database_url(request.param, folder) as url, pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        patch.setenv("INSTANCE_DIR", str(folder))
        from app import app, server

        runner = server.test_cli_runner()
        assert runner.invoke(args=["load-demo"]).exit_code == 0
        create_user(runner, "viewer", password=PASSWORD)
        create_user(runner, "ocha-viewer", entities="OCHA", password=PASSWORD)
        create_user(runner, "hr", role="uploader", password=PASSWORD)
        create_user(runner, "boss", role="admin", password=PASSWORD)
        yield app, server, runner


def dependencies(server) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    return [
        d for d in signed_in(server, "viewer").get("/_dash-dependencies").get_json() if not d["clientside_function"]
    ]


def _wildcard(component_id: str) -> bool:
    return '["ALL"]' in component_id


def _concrete(component_id: str) -> str | dict:  # type: ignore[type-arg]
    """A MATCH id as one real component has it (the view a card shows, any card key)."""
    if '["MATCH"]' not in component_id:
        return component_id
    parsed = json.loads(component_id)
    return {k: ("uptake_by_platform" if k == "view" else "card") if v == ["MATCH"] else v for k, v in parsed.items()}


def callback_body(dep: dict, values: dict | None = None) -> dict:  # type: ignore[type-arg]
    """The request the browser would send for ``dep`` (no component matches an ALL wildcard)."""
    values = values or {}

    def entry(item):  # type: ignore[no-untyped-def]
        if _wildcard(item["id"]):
            return []
        return {"id": _concrete(item["id"]), "property": item["property"], "value": values.get(item["property"])}

    output = dep["output"]
    if dep.get("no_output"):  # a callback that only sets props: its "output" is a digest
        outputs = []
    elif output.startswith(".."):
        outputs = [
            dict(zip(("id", "property"), part.rsplit(".", 1), strict=True)) for part in output.strip(".").split("...")
        ]
    else:
        component, prop = output.rsplit(".", 1)
        outputs = [] if _wildcard(component) else {"id": _concrete(component), "property": prop}
    first = dep["inputs"][0]
    changed = (
        first["id"] if not first["id"].startswith("{") else json.dumps(_concrete(first["id"]), separators=(",", ":"))
    )
    return {
        "output": output,
        "outputs": outputs,
        "inputs": [entry(i) for i in dep["inputs"]],
        "state": [entry(s) for s in dep["state"]],
        "changedPropIds": [f"{changed}.{first['property']}"],
    }


def post(client, body):  # type: ignore[no-untyped-def]
    return client.post("/_dash-update-component", json=body, headers={"Origin": ORIGIN})


def test_every_callback_refuses_anonymous_callers(site):
    _, server, _ = site
    anonymous = server.test_client()
    deps = dependencies(server)
    assert len(deps) >= 5
    for dep in deps:
        response = post(anonymous, callback_body(dep))
        assert response.status_code == 401, dep["output"]
        assert b"sign in first" in response.data


def needed_role(dep: dict) -> str:  # type: ignore[type-arg]
    if "admin-" in dep["output"]:
        return "admin"
    return "uploader" if "data-" in dep["output"] else "viewer"


def test_every_callback_answers_within_the_role(site):
    """Each callback answers the roles it is for and refuses (403) the ones below."""
    _, server, _ = site
    values = {
        "pathname": "/",
        "search": "",
        "n_clicks": 1,
        "is_open": False,
        "submit_n_clicks": 1,
        "active_tab": "table",
    }
    clients = {
        "viewer": signed_in(server, "viewer"),
        "uploader": signed_in(server, "hr"),
        "admin": signed_in(server, "boss"),
    }
    needs = {"viewer": 0, "uploader": 0, "admin": 0}
    for dep in dependencies(server):
        role = needed_role(dep)
        needs[role] += 1
        for user_role, client in clients.items():
            allowed = ROLES.index(user_role) >= ROLES.index(role)
            status = post(client, callback_body(dep, values)).status_code
            assert status in ((200, 204) if allowed else (403,)), (dep["output"], user_role, status)
    assert needs["uploader"] >= 4 and needs["admin"] >= 2


def test_an_admin_adds_and_deactivates_users_and_it_takes_effect_at_once(site):
    _, server, _ = site
    admin = signed_in(server, "boss")
    add = next(d for d in dependencies(server) if d["output"].startswith("..admin-message"))
    body = callback_body(add)
    body["state"] = [
        {"id": "admin-username", "property": "value", "value": "new.person"},
        {"id": "admin-role", "property": "value", "value": "viewer"},
        {"id": "admin-entities", "property": "value", "value": ["OCHA"]},
    ]
    answer = post(admin, body).get_data(as_text=True)
    assert "new.person can sign in as viewer" in answer
    password = answer.split('"admin-new-password"')[0].rsplit('"children":"', 1)[1].split('"')[0]
    person = server.test_client()
    signed = person.post("/login", data={"username": "new.person", "password": password}, headers={"Origin": ORIGIN})
    assert signed.status_code == 302 and person.get("/_dash-layout").status_code == 200
    body["state"][2]["value"] = [{"not": "a code"}]
    body["state"][0]["value"] = "another.person"
    assert "entity codes are" in post(admin, body).get_data(as_text=True)
    from data_access.store import default_engine
    from data_access.users import set_active

    set_active(default_engine(), "new.person", False)
    assert person.get("/_dash-layout").status_code == 401  # the open session is refused at its next request
    assert ("boss", "user_created", "ok") in audit_rows(server)


def test_a_scoped_viewer_gets_nothing_beyond_their_entity(site):
    _, server, _ = site
    router = next(d for d in dependencies(server) if "_pages_content" in d["output"])
    scoped = signed_in(server, "ocha-viewer")
    for path, search in (("/uptake", "?entity=DPO"), ("/", ""), ("/entity/DPO", ""), ("/needs", "?entity=UNMISS")):
        response = post(scoped, callback_body(router, {"pathname": path, "search": search}))
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert "Office for the Coordination of Humanitarian Affairs" in text
        for other in ('"DPO"', '"UNMISS"', "Department of Peace Operations"):
            assert other not in text, (path, other)
    table = next(d for d in dependencies(server) if "table-body" in d["output"])
    opened = post(scoped, callback_body(table, {"active_tab": "table", "pathname": "/entity/DPO", "search": ""}))
    assert opened.status_code == 200 and '"DPO"' not in opened.get_data(as_text=True)
    export = scoped.get("/export/uptake_by_entity.csv?entity=DPO").get_data(as_text=True)
    assert "OCHA" in export and "DPO" not in export


def test_a_page_rendered_for_everyone_is_not_reused_for_a_scoped_viewer(site):
    _, server, _ = site
    router = next(d for d in dependencies(server) if "_pages_content" in d["output"])
    everyone, scoped = signed_in(server, "viewer"), signed_in(server, "ocha-viewer")
    for path, search in (("/uptake", "?entity=OCHA"), ("/", "?entity=OCHA"), ("/needs", "?entity=OCHA")):
        body = callback_body(router, {"pathname": path, "search": search})
        seen_by_all = post(everyone, body).get_data(as_text=True)  # the same slice, rendered first for everyone
        assert "Department of Peace Operations" in seen_by_all  # the entity filter offers every entity
        seen_scoped = post(scoped, body).get_data(as_text=True)
        assert "Department of Peace Operations" not in seen_scoped, path


def test_a_commit_brings_the_unfiltered_figures_current(site):
    from data_access.reads.cache import cache_key, data_versions
    from data_access.store import default_cache, default_engine
    from server.uploads import warm_cache

    warm_cache()
    versions = data_versions(default_engine())
    for name, view in views.VIEWS.items():
        key = cache_key(name, "{}", "5", versions.of(view.reads))
        assert default_cache("").get(key) is not None, name


def test_wrong_types_get_400_not_a_traceback(site):
    _, server, _ = site
    viewer = signed_in(server, "viewer")
    router = next(d for d in dependencies(server) if "_pages_content" in d["output"])
    for values in ({"search": 123, "pathname": "/"}, {"pathname": ["x"], "search": ""}, {"pathname": {"a": 1}}):
        response = post(viewer, callback_body(router, values))
        assert response.status_code == 400, values
        assert b"Traceback" not in response.data
    assert (
        post(viewer, {"inputs": [{"id": "x", "property": "dangerouslySetInnerHTML", "value": "<b>"}]}).status_code
        == 400
    )
    assert post(viewer, ["not", "an", "object"]).status_code == 400


def test_unknown_codes_in_a_shared_link_show_an_empty_state(site):
    _, server, _ = site
    router = next(d for d in dependencies(server) if "_pages_content" in d["output"])
    viewer = signed_in(server, "viewer")
    for search in ("?entity=NOPE", "?entity=%27%3B%20DROP%20TABLE%20x", "?from=yesterday&gender=%00"):
        response = post(viewer, callback_body(router, {"pathname": "/uptake", "search": search}))
        assert response.status_code == 200, search


def test_pages_redirect_and_data_endpoints_refuse_when_signed_out(site):
    _, server, _ = site
    anonymous = server.test_client()
    page = anonymous.get("/uptake?gender=female")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=/uptake")
    for path in ("/_dash-layout", "/_dash-dependencies", "/export/uptake_by_entity.csv"):
        assert anonymous.get(path).status_code == 401, path
    assert anonymous.get("/assets/bootstrap.min.css").status_code == 200
    assert anonymous.get("/login").status_code == 200


def test_sign_in_sets_a_hardened_session_cookie_and_is_audited(site):
    _, server, _ = site
    client = server.test_client()
    refused = client.post("/login", data={"username": "viewer", "password": "nope"}, headers={"Origin": ORIGIN})
    assert refused.status_code == 401
    response = client.post(
        "/login",
        data={"username": "viewer", "password": PASSWORD, "next": "//evil.example/x"},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/_dash-layout").status_code == 200
    events = audit_rows(server)
    assert ("viewer", "sign_in", "refused") in events and ("viewer", "sign_in", "ok") in events


def audit_rows(server) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    from data_access.store import default_engine

    with default_engine().connect() as conn:
        return [tuple(r) for r in conn.execute(select(AuditEvent.actor, AuditEvent.action, AuditEvent.outcome))]


def test_state_changing_requests_from_another_site_are_refused(site):
    _, server, _ = site
    viewer = signed_in(server, "viewer")
    viewer.environ_base.pop("HTTP_ORIGIN")
    assert viewer.post("/logout").status_code == 403
    assert viewer.post("/logout", headers={"Origin": "https://evil.example"}).status_code == 403
    assert viewer.post("/logout", headers={"Origin": ORIGIN}).status_code == 302


def test_security_headers(site):
    _, server, _ = site
    response = signed_in(server, "viewer").get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "'unsafe-eval'" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_oversized_requests_get_413_before_the_body_is_read(site, monkeypatch):
    _, server, _ = site
    monkeypatch.setenv("MAX_REQUEST_BYTES", "1000")
    viewer = signed_in(server, "viewer")
    response = viewer.post("/_dash-update-component", data=b"x" * 5000, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    chunked = viewer.post(
        "/_dash-update-component",
        input_stream=io.BytesIO(b"[" + b"1," * 5000 + b"1]"),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},  # as gunicorn says of a chunked body
    )
    # Werkzeug reads a chunked body only up to the limit: past it, it is refused (413) or not read at all (400).
    assert chunked.status_code in (400, 413)


def test_sign_in_attempts_are_rate_limited(site, monkeypatch):
    _, server, _ = site
    monkeypatch.setenv("LOGIN_RATE_LIMIT", "3 per minute")
    client = _client_from_its_own_address(server)
    codes = [
        client.post("/login", data={"username": "limited", "password": "x"}, headers={"Origin": ORIGIN}).status_code
        for _ in range(5)
    ]
    assert codes == [401, 401, 401, 429, 429]
    assert ("limited", "sign_in", "limited") in audit_rows(server)


def test_exports_are_audited_without_staff_identifiers(site):
    _, server, _ = site
    signed_in(server, "viewer").get("/export/uptake_by_platform.csv?gender=female")
    assert ("viewer", "export", "ok") in audit_rows(server)
    from data_access.store import default_engine

    with default_engine().connect() as conn:
        text = json.dumps([list(map(str, r)) for r in conn.execute(select(AuditEvent))])
    assert "S0" not in text and "learner" not in text.lower()


def test_create_user_refuses_weak_or_duplicate_accounts(site):
    _, _, runner = site
    short = runner.invoke(args=["create-user", "shorty", "--password-stdin"], input="short\n")
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    again = runner.invoke(args=["create-user", "VIEWER", "--password-stdin"], input=PASSWORD + "\n")
    assert again.exit_code != 0 and "already exists" in again.output
    bad_role = runner.invoke(args=["create-user", "x", "--role", "root", "--password-stdin"], input=PASSWORD + "\n")
    assert bad_role.exit_code != 0


def test_first_start_prints_a_generated_admin_password_once(tmp_path, monkeypatch, capsys):
    from cli import prepare_database
    from data_access.store import default_engine
    from data_access.users import authenticate

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'first.db'}")
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    prepare_database(with_demo=False)
    first = capsys.readouterr().out
    assert "sign in as 'admin' with the password" in first
    password = first.split("the password ")[1].split(" ")[0]
    assert authenticate(default_engine(), "admin", password).role == "admin"
    prepare_database(with_demo=False)
    assert "password" not in capsys.readouterr().out


def test_production_needs_its_secrets_from_the_environment(monkeypatch, tmp_path):
    import settings

    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(settings.ConfigurationError, match="SECRET_KEY"):
        settings.secret_key()
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert settings.secret_key() == b"from-the-environment"


def test_the_server_never_runs_in_debug_mode(site):
    app, server, _ = site
    assert server.debug is False
    assert app.config.suppress_callback_exceptions is False


def test_single_sign_on_is_off_unless_configured(site):
    from server.sso import username_from_claims

    _, server, _ = site
    assert server.test_client().get("/login/sso").status_code == 302  # no such route: a page, behind sign-in
    assert "sso_start" not in server.view_functions
    assert username_from_claims({"email": " a.person@un.org "}) == "a.person@un.org"
    assert username_from_claims({"email": 42}) == ""


def test_behind_a_proxy_the_forwarded_scheme_and_host_are_trusted_only_when_configured(tmp_path, monkeypatch):
    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    from server import auth

    class FakeApp:
        def __init__(self) -> None:
            self.server = Flask("proxy-test")
            self.callback_map: dict = {}  # type: ignore[type-arg]

        def csp_hashes(self) -> list[str]:
            return []

    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("ALLOWED_HOSTS", "learning.example,localhost")
    monkeypatch.setenv("PROXIES", "1")
    proxied = FakeApp()
    auth.register_auth(proxied)
    assert isinstance(proxied.server.wsgi_app, ProxyFix)
    monkeypatch.setenv("PROXIES", "0")
    direct = FakeApp()
    auth.register_auth(direct)
    forwarded = {
        "Origin": "https://learning.example",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "learning.example",
    }
    # Through the proxy it is same-origin (then needs a session: 401); trusting no proxy, it is cross-site (403).
    assert proxied.server.test_client().post("/logout", headers=forwarded).status_code == 401
    assert direct.server.test_client().post("/logout", headers=forwarded).status_code == 403


@pytest.mark.parametrize(
    "target", ["/\t/evil.example", "/\r\n/x", "/ /evil.example", "/\x00/x", "https://evil.example"]
)
def test_sign_in_never_sends_anyone_off_the_site(site, target):
    _, server, _ = site
    response = _client_from_its_own_address(server).post(
        "/login", data={"username": "viewer", "password": PASSWORD, "next": target}, headers={"Origin": ORIGIN}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/", target


def test_failed_sign_ins_from_one_address_are_limited_whatever_the_usernames(site, monkeypatch):
    _, server, _ = site
    monkeypatch.setenv("LOGIN_ADDRESS_RATE_LIMIT", "5 per minute")
    client = _client_from_its_own_address(server)
    codes = [
        client.post("/login", data={"username": f"spray{n}", "password": "x"}, headers={"Origin": ORIGIN}).status_code
        for n in range(8)
    ]
    assert codes == [401] * 5 + [429] * 3
    elsewhere = _client_from_its_own_address(server)
    assert (
        elsewhere.post(
            "/login", data={"username": "viewer", "password": PASSWORD}, headers={"Origin": ORIGIN}
        ).status_code
        == 302
    )


def test_a_request_for_another_host_is_refused(site):
    _, server, _ = site
    viewer = signed_in(server, "viewer")
    assert viewer.get("/login", headers={"Host": "rebound.example"}).status_code == 400
    assert viewer.get("/login", headers={"Host": "localhost:8050"}).status_code == 200


def _client_from_its_own_address(server):  # type: ignore[no-untyped-def]
    """A test client from an address of its own, so sign-in limits counted for other tests leave it alone."""
    client = server.test_client()
    client.environ_base["HTTP_ORIGIN"] = ORIGIN
    client.environ_base["REMOTE_ADDR"] = (
        f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    )
    return client


def _sign_in_through_the_form(server, username: str):  # type: ignore[no-untyped-def]
    client = _client_from_its_own_address(server)
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return client


def _copy_of(server, client):  # type: ignore[no-untyped-def]
    """Another client holding the same cookie, as someone who saved it would."""
    other = server.test_client()
    other.environ_base["HTTP_ORIGIN"] = ORIGIN
    other.set_cookie("learning_session", client.get_cookie("learning_session").value)
    return other


def test_signing_out_ends_the_session_everywhere(site):
    _, server, runner = site
    create_user(runner, "leaver", password=PASSWORD)
    browser = _sign_in_through_the_form(server, "leaver")
    saved = _copy_of(server, browser)
    assert saved.get("/_dash-layout").status_code == 200
    assert saved.get("/export/uptake_by_platform.csv").status_code == 200
    assert browser.post("/logout").status_code == 302
    assert saved.get("/_dash-layout").status_code == 401
    assert saved.get("/export/uptake_by_platform.csv").status_code == 401
    assert _sign_in_through_the_form(server, "leaver").get("/_dash-layout").status_code == 200  # a new sign-in works


def test_reactivating_a_user_does_not_revive_their_old_sessions(site):
    from data_access.store import default_engine
    from data_access.users import set_active

    _, server, runner = site
    create_user(runner, "returner", password=PASSWORD)
    saved = _copy_of(server, _sign_in_through_the_form(server, "returner"))
    set_active(default_engine(), "returner", False)
    set_active(default_engine(), "returner", True)
    assert saved.get("/_dash-layout").status_code == 401
    assert _sign_in_through_the_form(server, "returner").get("/_dash-layout").status_code == 200


JUNK = [None, 0, -1, 2**63, 1.5, True, "", "abc", "x" * 300, [], [1, "a"], {}, {"batch": "abc"}, [[[]]], "<b>"]


def _junk_entry(item: dict, value, pattern_value, keys_wrong: bool):  # type: ignore[no-untyped-def, type-arg]
    """An entry for dependency ``item`` with ``value``; its pattern id's wildcard keys set to ``pattern_value``."""
    if item["id"].startswith("{"):
        parsed = json.loads(item["id"])
        component = {k: (pattern_value if isinstance(v, list) else v) for k, v in parsed.items()}
        if keys_wrong:
            component = {**component, "extra": 1}
        entry = {"id": component, "property": item["property"], "value": value}
        return [entry] if _wildcard(item["id"]) else entry
    return {"id": item["id"], "property": item["property"], "value": value}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.data(),
    shape=st.sampled_from(["typed", "no inputs", "wrong keys", "one entry for many", "extra input"]),
)
def test_every_malformed_callback_request_gets_400_never_a_traceback(site, data, shape):
    _, server, _ = site
    admin = signed_in(server, "boss")  # every callback is open to an admin: each one is reached
    dep = data.draw(st.sampled_from(dependencies(server)))
    value = lambda: data.draw(st.sampled_from(JUNK))  # noqa: E731
    pattern_value = data.draw(st.sampled_from(["abc", 7, True, None, [], {"a": 1}, 1.5]))
    body = callback_body(dep)
    body["inputs"] = [_junk_entry(i, value(), pattern_value, shape == "wrong keys") for i in dep["inputs"]]
    body["state"] = [_junk_entry(s, value(), pattern_value, shape == "wrong keys") for s in dep["state"]]
    if shape == "no inputs":
        body.pop("inputs")
    elif shape == "one entry for many":
        body["inputs"] = [entry[0] if isinstance(entry, list) and entry else [entry] for entry in body["inputs"]]
    elif shape == "extra input":
        body["inputs"].append({"id": "x", "property": "value", "value": 1})
    response = post(admin, body)
    assert response.status_code in (200, 204, 400), (dep["output"], shape, body, response.status_code)
    assert b"Traceback" not in response.data and len(response.data) < 200_000
