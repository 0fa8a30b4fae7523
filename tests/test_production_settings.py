"""Production settings: what a deployment gets from config/settings.py and config/middleware.py.

Each defect found in the review (issue 8) has its test here: unlimited password guessing,
14-day sessions, patient pages cacheable, no CSP/HSTS, the committed SECRET_KEY used
silently, 403 instead of 401 for anonymous API calls, password reset offered with no mail.
Settings that only exist at start-up (DEBUG, SECRET_KEY, the deploy check) are tested in a
subprocess with the environment a server would have.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import override_settings
from django.urls import clear_url_caches, reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory
PRODUCTION_KEY = "k3Y-for-the-deploy-check-only-" + "x7Q9zR2mN5vB8cL1pW4tY6uJ0hG3fD"


def _server_env(**overrides: str) -> dict[str, str]:
    """The environment of a process started outside pytest: no PYTEST_VERSION, no test key."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTEST_VERSION", "SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(overrides)
    return env


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def _settings_in_subprocess(env: dict[str, str], *names: str) -> dict[str, object]:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}, default=str))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- Start-up: the deploy check, SECRET_KEY -------------------------------------------------


def test_deploy_check_passes_with_debug_off_and_secret_key_and_hosts_set():
    env = _server_env(DEBUG="0", SECRET_KEY=PRODUCTION_KEY, ALLOWED_HOSTS="overturn.example.org")
    done = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_deploy_check_still_catches_a_weakened_setting():
    """The check above can fail: turning HSTS off by environment is reported."""
    env = _server_env(
        DEBUG="0", SECRET_KEY=PRODUCTION_KEY, ALLOWED_HOSTS="overturn.example.org", SECURE_HSTS_SECONDS="0"
    )
    done = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert done.returncode != 0
    assert "security.W004" in done.stderr + done.stdout


def test_production_defaults_are_secure_and_ssl_redirect_can_be_left_to_the_proxy():
    base = _server_env(DEBUG="0", SECRET_KEY=PRODUCTION_KEY, ALLOWED_HOSTS="overturn.example.org")
    names = ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS")
    assert _settings_in_subprocess(base, *names) == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
    }
    behind_proxy = {**base, "SECURE_SSL_REDIRECT": "0", "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto"}
    found = _settings_in_subprocess(behind_proxy, "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER")
    assert found == {"SECURE_SSL_REDIRECT": False, "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"]}
    done = _manage("check", "--deploy", "--fail-level", "WARNING", env=behind_proxy)
    assert done.returncode == 0, done.stdout + done.stderr


def test_debug_off_without_secret_key_refuses_to_start_and_names_the_variable():
    done = _manage("check", env=_server_env(DEBUG="0"))
    assert done.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set" in done.stderr


def test_debug_unset_without_secret_key_refuses_to_start_too():
    done = _manage("check", env=_server_env())
    assert done.returncode != 0
    assert "SECRET_KEY is not set" in done.stderr


def test_debug_on_without_secret_key_uses_the_development_key_and_says_so():
    done = _manage("check", env=_server_env(DEBUG="1"))
    assert done.returncode == 0, done.stderr
    assert "using the development key" in done.stderr


def test_a_given_secret_key_is_used_as_is():
    found = _settings_in_subprocess(_server_env(DEBUG="0", SECRET_KEY=PRODUCTION_KEY), "SECRET_KEY")
    assert found == {"SECRET_KEY": PRODUCTION_KEY}


# --- Sign-in throttling ------------------------------------------------------------------------


def _post_login(client, username: str, password: str, address: str = "10.0.0.7"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.django_db
def test_after_the_failure_limit_even_the_right_password_is_refused(client, coder, settings):
    assert settings.AXES_ENABLED
    limit = settings.AXES_FAILURE_LIMIT
    assert limit >= 2
    for attempt in range(limit):
        response = _post_login(client, coder.username, f"wrong-{attempt}")
        assert "_auth_user_id" not in client.session
    assert response.status_code == 429  # the last wrong one already answers with the locked-out page

    response = _post_login(client, coder.username, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    page = response.content.decode()
    assert "Sign-in locked" in page and f"({limit} in a row)" in page
    assert "Try again in" in page


@pytest.mark.django_db
def test_fewer_wrong_passwords_than_the_limit_do_not_lock(client, coder, settings):
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _post_login(client, coder.username, f"wrong-{attempt}").status_code == 200
    response = _post_login(client, coder.username, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(coder.pk)


@pytest.mark.django_db
def test_a_lockout_holds_for_that_username_and_address_only(client, coder, teammate, settings):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        _post_login(client, coder.username, f"wrong-{attempt}")
    assert _post_login(client, teammate.username, PASSWORD).status_code == 302  # another user, same address
    client.logout()
    assert _post_login(client, coder.username, PASSWORD, address="10.0.0.8").status_code == 302


def test_client_address_behind_trusted_proxies_is_counted_from_the_right(rf, settings):
    from config.middleware import client_ip

    request = rf.get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.1.1.1"  # no proxy trusted: the header is the client's to forge
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.9"  # the forged left-most entry is ignored
    settings.TRUSTED_PROXY_COUNT = 3
    assert client_ip(request) == "10.1.1.1"  # fewer entries than proxies: fall back to the peer


# --- Sessions: idle timeout ---------------------------------------------------------------


def test_idle_timeout_defaults_to_30_minutes_and_is_configurable(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert "config.middleware.IdleSessionMiddleware" in settings.MIDDLEWARE
    found = _settings_in_subprocess(_server_env(DEBUG="1", SESSION_IDLE_MINUTES="10"), "SESSION_COOKIE_AGE")
    assert found == {"SESSION_COOKIE_AGE": 600}


@pytest.mark.django_db
def test_each_request_moves_the_session_expiry_forward(coder_client):
    session = Session.objects.get()
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() + dt.timedelta(minutes=1))
    assert coder_client.get(reverse("denials:claim_list")).status_code == 200
    expiry = Session.objects.get(pk=session.pk).expire_date
    assert expiry > timezone.now() + dt.timedelta(minutes=29)


@pytest.mark.django_db
def test_the_expiry_is_written_at_most_once_a_minute(coder_client):
    """Sliding the expiry costs one session write a minute, not one per page."""
    assert coder_client.get(reverse("denials:claim_list")).status_code == 200  # refreshes
    session = Session.objects.get()
    soon = timezone.now() + dt.timedelta(minutes=5)
    Session.objects.filter(pk=session.pk).update(expire_date=soon)
    assert coder_client.get(reverse("denials:claim_list")).status_code == 200  # within the minute
    assert Session.objects.get(pk=session.pk).expire_date == soon
    data = session.get_decoded()
    data["_overturn_refreshed_at"] -= 61  # a minute has passed since the last refresh
    Session.objects.filter(pk=session.pk).update(session_data=Session.objects.encode(data))
    assert coder_client.get(reverse("denials:claim_list")).status_code == 200
    assert Session.objects.get(pk=session.pk).expire_date > timezone.now() + dt.timedelta(minutes=29)


@pytest.mark.django_db
def test_an_idle_session_has_ended(coder_client):
    Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    response = coder_client.get(reverse("denials:claim_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- Caching of patient data ---------------------------------------------------------------


@pytest.mark.django_db
def test_pages_for_a_signed_in_user_are_never_stored(coder_client):
    response = coder_client.get(reverse("denials:claim_list"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


@pytest.mark.django_db
def test_api_responses_to_a_token_are_never_stored(client, coder):
    token = Token.objects.create(user=coder)
    response = client.get("/api/claims/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


# --- Content-Security-Policy and HSTS --------------------------------------------------------


def _directives(header: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            found[words[0]] = words[1:]
    return found


@pytest.mark.django_db
def test_every_page_has_a_csp_without_inline_script(coder_client):
    response = coder_client.get(reverse("denials:claim_list"))
    directives = _directives(response["Content-Security-Policy"])
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in directives["style-src"]
    assert directives["style-src-attr"] == ["'unsafe-inline'"]  # the progress bars' --pct only


def test_no_template_has_an_inline_script_or_event_handler():
    templates = sorted((ROOT / "templates").rglob("*.html"))
    assert len(templates) > 20
    offenders = []
    for path in templates:
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag:
                offenders.append(f"{path.relative_to(ROOT)}: {tag}")
        offenders += [f"{path.relative_to(ROOT)}: {m}" for m in re.findall(r"\son[a-z]+=[\"']", text)]
        offenders += [f"{path.relative_to(ROOT)}: <style>" for _ in re.findall(r"<style\b", text)]
    assert offenders == []


@pytest.mark.django_db
def test_error_pages_have_the_policy_except_django_debug_pages(coder_client, settings):
    assert "Content-Security-Policy" in coder_client.get("/claims/999999999/")
    settings.DEBUG = True  # Django's technical 404 page is inline style and script
    assert coder_client.get("/claims/999999999/").status_code == 404
    assert "Content-Security-Policy" not in coder_client.get("/claims/999999999/")
    assert "Content-Security-Policy" in coder_client.get(reverse("denials:claim_list"))


@pytest.mark.django_db
def test_hsts_is_sent_over_https(client, settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    response = client.get(reverse("login"), secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


# --- API authentication -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/claims/", "/api/denials/", "/api/remittance-files/", "/api/schema/"])
def test_anonymous_api_calls_answer_401_with_a_challenge(client, url):
    response = client.get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
def test_a_signed_in_browser_still_uses_the_api_with_its_session(coder_client):
    assert coder_client.get("/api/claims/").status_code == 200


# --- Password reset and change ------------------------------------------------------------


@pytest.fixture
def reload_urls():
    """Account URLs are decided at start-up from EMAIL_HOST: reload them after a change."""
    import config.urls

    def reload() -> None:
        importlib.reload(config.urls)
        clear_url_caches()

    yield reload
    reload()  # back to the URLs of the settings in force once the override is gone
    clear_url_caches()


@pytest.mark.django_db
def test_without_email_there_is_no_password_reset(client, settings, reload_urls):
    settings.EMAIL_HOST = ""
    reload_urls()
    assert client.get("/accounts/password_reset/").status_code == 404
    assert client.get("/accounts/reset/done/").status_code == 404
    page = client.get(reverse("login")).content.decode()
    assert "password_reset" not in page and "Forgot your password" not in page


@pytest.mark.django_db
def test_with_email_configured_password_reset_sends_a_link(client, coder, reload_urls):
    with override_settings(EMAIL_HOST="smtp.example.org"):
        reload_urls()
        page = client.get(reverse("login")).content.decode()
        assert "Forgot your password" in page
        assert client.get("/accounts/password_reset/").status_code == 200
        response = client.post("/accounts/password_reset/", {"email": coder.email})
        assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/reset/" in mail.outbox[0].body


@pytest.mark.django_db
def test_a_signed_in_user_can_change_the_password(coder_client, coder):
    assert coder_client.get(reverse("password_change")).status_code == 200
    response = coder_client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-long-passphrase-42",
            "new_password2": "a-new-long-passphrase-42",
        },
    )
    assert response.status_code == 302
    coder.refresh_from_db()
    assert coder.check_password("a-new-long-passphrase-42")


# --- /healthz -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_answers_json_without_sign_in(client, settings):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    expected_mode = "broker" if settings.CELERY_BROKER_URL else "in-process"
    assert body["broker"]["mode"] == expected_mode
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_answers_503_when_the_broker_does_not(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == {"ok": False, "mode": "broker"}
    assert response.json()["status"] == "unavailable"


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_does_not(client, monkeypatch):
    from django.db import OperationalError, connection

    def broken(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"]["ok"] is False


# --- API schema ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_schema_generates_and_validates(tmp_path):
    out = tmp_path / "schema.yml"
    done = _manage("spectacular", "--validate", "--fail-on-warn", "--file", str(out), env={**os.environ})
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert text.startswith("openapi: 3.")
    for path in ("/api/claims/", "/api/denials/", "/api/remittance-files/", "/api/ncci/ptp/"):
        assert f"  {path}:" in text


@pytest.mark.django_db
def test_the_schema_and_its_docs_page_are_for_signed_in_users(client, coder_client):
    anonymous = client.__class__()
    response = anonymous.get("/api/schema/docs/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))

    schema = coder_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "Overturn API"
    page = coder_client.get("/api/schema/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert re.findall(r"<script>", html) == [] and "<style>" not in html
    script = coder_client.get("/api/schema/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")


def test_postgresql_binds_parameters_on_the_server_and_prepares_repeated_statements():
    """The page's queries are planned once per connection (bench/request_cost.py: PostgreSQL's
    CPU per request about halved); DATABASE_PREPARE_THRESHOLD=0 turns it off, for a pooler in
    transaction mode; SQLite has no such options."""
    pg = "postgres://postgres@127.0.0.1:5432/overturn"
    found = _settings_in_subprocess(_server_env(DEBUG="1", DATABASE_URL=pg), "DATABASES")["DATABASES"]
    assert found["default"]["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": 5}
    off = _server_env(DEBUG="1", DATABASE_URL=pg, DATABASE_PREPARE_THRESHOLD="0")
    assert _settings_in_subprocess(off, "DATABASES")["DATABASES"]["default"]["OPTIONS"] == {
        "server_side_binding": False,
        "prepare_threshold": None,
    }
    # Options in the URL itself (TLS to the database) are kept beside them.
    tls = _server_env(DEBUG="1", DATABASE_URL=pg + "?sslmode=require")
    assert _settings_in_subprocess(tls, "DATABASES")["DATABASES"]["default"]["OPTIONS"] == {
        "sslmode": "require",
        "server_side_binding": True,
        "prepare_threshold": 5,
    }
    sqlite = _server_env(DEBUG="1", DATABASE_URL="")
    assert "server_side_binding" not in _settings_in_subprocess(sqlite, "DATABASES")["DATABASES"]["default"]["OPTIONS"]


@pytest.mark.django_db
def test_on_postgresql_a_query_run_again_is_prepared_on_the_server(coder):
    from django.contrib.auth import get_user_model
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    for _ in range(6):
        get_user_model().objects.filter(pk=coder.pk).first()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any('FROM "auth_user"' in statement and "$1" in statement for statement in prepared), prepared
