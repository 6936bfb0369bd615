"""Production settings as shipped (fulfillment.settings, DEBUG off): the headers and
cookies of a real response, read in a clean process (tests/settings.py turns the
HTTPS redirect off, so it cannot be the judge). `check --deploy` itself is
tests/test_settings.py::test_it_passes_the_deployment_checklist_with_production_values."""

from __future__ import annotations

import json
import re

import pytest

from tests.test_settings import PRODUCTION_ENV, _run

PROBE = """
import json
from django.conf import settings
from django.test import Client
c = Client()
secure = c.get("/admin/login/", secure=True, HTTP_HOST="bridge.example.com")
plain = c.get("/admin/login/", HTTP_HOST="bridge.example.com")
csrf = secure.cookies.get(settings.CSRF_COOKIE_NAME)
print(json.dumps({
    "status": secure.status_code,
    "headers": {k.lower(): v for k, v in secure.headers.items()},
    "csrf_cookie": {"secure": bool(csrf["secure"]), "httponly": bool(csrf["httponly"]),
                    "samesite": csrf["samesite"]} if csrf else None,
    "body": secure.content.decode(),
    "plain_status": plain.status_code,
    "plain_location": plain.headers.get("Location", ""),
    "session_cookie": [settings.SESSION_COOKIE_SECURE, settings.SESSION_COOKIE_HTTPONLY,
                       settings.SESSION_COOKIE_SAMESITE],
}))
"""


STATIC_PROBE = """
import json
from django.test import Client
c = Client()
url = %r
hashed = c.get(url, secure=True, HTTP_HOST="bridge.example.com", HTTP_ACCEPT_ENCODING="gzip")
plain = c.get(url.rsplit(".", 2)[0] + ".css", secure=True, HTTP_HOST="bridge.example.com")
print(json.dumps({
    "status": hashed.status_code,
    "headers": {k.lower(): v for k, v in hashed.headers.items()},
    "plain_cache_control": plain.headers.get("Cache-Control", ""),
}))
"""


@pytest.fixture(scope="module")
def production_env(tmp_path_factory) -> dict:
    # As bin/web does before gunicorn: hashed, compressed files in STATIC_ROOT.
    env = {**PRODUCTION_ENV, "STATIC_ROOT": str(tmp_path_factory.mktemp("static"))}
    result = _run(env, "collectstatic", "--noinput", "--verbosity", "0")
    assert result.returncode == 0, result.stderr
    return env


@pytest.fixture(scope="module")
def production_response(production_env) -> dict:
    result = _run(production_env, "shell", "-c", PROBE)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_https_responses_carry_the_security_headers(production_response):
    headers = production_response["headers"]

    assert production_response["status"] == 200
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cross-origin-opener-policy"] == "same-origin"


def test_cookies_are_secure_and_http_only(production_response):
    assert production_response["csrf_cookie"]["secure"] is True
    assert production_response["session_cookie"] == [True, True, "Lax"]


def test_plain_http_is_redirected_to_https(production_response):
    assert production_response["plain_status"] == 301
    assert production_response["plain_location"] == "https://bridge.example.com/admin/login/"


def test_pages_carry_a_content_security_policy_with_a_fresh_nonce(production_response):
    policy = dict(
        ([*directive.split(" ", 1), ""])[:2]
        for directive in production_response["headers"]["content-security-policy"].split("; ")
    )

    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'self'"
    assert "unsafe" not in policy["script-src"] + policy["style-src"] + policy["default-src"]
    # The page's one inline <style> block carries the header's nonce.
    nonce = policy["style-src"].split("'nonce-")[1].rstrip("'")
    assert f'<style nonce="{nonce}">' in production_response["body"]


def test_static_files_are_served_hashed_compressed_and_cached_for_a_year(production_env, production_response):
    # The login page links the admin's stylesheet by its content-hashed name.
    url = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', production_response["body"]).group(
        1
    )

    result = _run(production_env, "shell", "-c", STATIC_PROBE % url)
    assert result.returncode == 0, result.stderr
    static = json.loads(result.stdout.strip().splitlines()[-1])

    assert static["status"] == 200
    assert static["headers"]["cache-control"] == "max-age=315360000, public, immutable"
    assert static["headers"]["content-encoding"] == "gzip"
    # The unhashed name may change content at the next deployment: a short cache only.
    assert static["plain_cache_control"] == "max-age=60, public"
