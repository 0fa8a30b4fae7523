"""The production server for real: gunicorn with DEBUG off, against the test PostgreSQL database.

Started the way `make serve` starts it (config/gunicorn.py, WhiteNoise for static files after
collectstatic), on a free port, with SECRET_KEY and ALLOWED_HOSTS set and no PYTEST_VERSION in
its environment, so it reads its settings like a deployment. It sits behind an imagined TLS
proxy: SECURE_SSL_REDIRECT=0 and SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto, and every request
says `X-Forwarded-Proto: https`, so the secure cookies and HTTPS-only CSRF checks are the real ones.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from django.conf import settings
from django.db import connection

from tests.factories import UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
HOST = "overturn.example.org"
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """Just enough of a browser over http.client: cookies, redirects, the proxy's header."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.secure_cookies: set[str] = set()

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, *, referer: str = ""
    ) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Host": HOST, "X-Forwarded-Proto": "https"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = referer or f"https://{HOST}{path}"
            headers["Origin"] = f"https://{HOST}"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for value in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(value)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
                if morsel["secure"]:
                    self.secure_cookies.add(name)
        headers_out = {k.lower(): v for k, v in response.getheaders()}
        conn.close()
        return response.status, headers_out, text

    def follow(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str, str]:
        status, headers, text = self.request(method, path, form)
        for _ in range(5):
            if status not in (301, 302, 303):
                break
            location = urlsplit(urljoin(f"https://{HOST}{path}", headers["location"]))
            path = location.path + (f"?{location.query}" if location.query else "")
            status, headers, text = self.request("GET", path)
        return status, headers, text, path


@pytest.fixture(scope="module")
def production_server(django_db_setup, tmp_path_factory):
    """One server for the module (collectstatic and start-up take a while)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL (PostgreSQL): run via `make test`")
    tmp_path = tmp_path_factory.mktemp("production")
    db = connection.settings_dict
    static_root = tmp_path / "static"
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(
        {
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "DEBUG": "0",
            "SECRET_KEY": "integration-test-key-" + "Zr4mP8qW2xN6vB0cT3yH7uJ1kL5dF9gS",
            "ALLOWED_HOSTS": HOST,
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
            "STATIC_ROOT": str(static_root),
            "OVERTURN_VAR_DIR": str(tmp_path / "var"),
        }
    )
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collected.returncode == 0, collected.stderr
    port = _free_port()
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--config",
                "config/gunicorn.py",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{log_path.read_text()[-3000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError(f"gunicorn did not listen within 60 s:\n{log_path.read_text()[-3000:]}")
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def user(settings):
    """A user whose password the server can check: it uses the real hasher, not the tests' fast MD5."""
    from django.contrib.auth.models import Group

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    coder = UserFactory()
    coder.groups.add(Group.objects.get(name="coder"))  # created by migrate; no role would see nothing
    return coder


def test_healthz_answers_with_database_and_broker_state(production_server):
    status, headers, text = Browser(production_server).request("GET", "/healthz")
    assert status == 200, text
    assert headers["content-type"] == "application/json"
    body = json.loads(text)
    assert body == {
        "status": "ok",
        "database": {"ok": True, "vendor": "postgresql"},
        "broker": {"ok": True, "mode": "broker" if settings.CELERY_BROKER_URL else "in-process"},
    }


def test_a_coder_signs_in_through_the_login_form(production_server, user):
    browser = Browser(production_server)

    status, headers, page = browser.request("GET", "/accounts/login/?next=/claims/")
    assert status == 200
    assert "Strict-Transport-Security" in {k.title() for k in headers}  # HTTPS as the proxy says
    assert "script-src 'self'" in headers["content-security-policy"]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, page[:500]
    assert "csrftoken" in browser.secure_cookies

    status, headers, page, path = browser.follow(
        "POST",
        "/accounts/login/",
        {"csrfmiddlewaretoken": token.group(1), "username": user.username, "password": PASSWORD, "next": "/claims/"},
    )
    assert status == 200, page[:1000]
    assert path == "/claims/"
    assert user.username in page and "Sign out" in page
    assert "sessionid" in browser.secure_cookies
    assert "no-store" in headers["cache-control"]

    # Static files come from WhiteNoise (collectstatic's output), cacheable, with no cookie.
    status, headers, _ = browser.request("GET", "/static/vendor/htmx/htmx.min.js")
    assert status == 200
    assert "no-store" not in headers.get("cache-control", "")
    assert "set-cookie" not in headers


def test_a_wrong_password_is_refused_and_anonymous_api_calls_get_401(production_server, user):
    browser = Browser(production_server)
    _, _, page = browser.request("GET", "/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    status, _, page, path = browser.follow(
        "POST", "/accounts/login/", {"csrfmiddlewaretoken": token, "username": user.username, "password": "nope"}
    )
    assert status == 200 and path == "/accounts/login/"
    assert "sessionid" not in browser.cookies

    status, headers, _ = Browser(production_server).request("GET", "/api/claims/")
    assert status == 401
    assert headers["www-authenticate"] == "Token"
