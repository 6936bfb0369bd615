"""Production settings as shipped (fulfillment.settings, DEBUG off): the headers and
cookies of a real response, read in a clean process (tests/settings.py turns the
HTTPS redirect off, so it cannot be the judge). `check --deploy` itself is
tests/test_settings.py::test_it_passes_the_deployment_checklist_with_production_values."""

from __future__ import annotations

import json

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
    "plain_status": plain.status_code,
    "plain_location": plain.headers.get("Location", ""),
    "session_cookie": [settings.SESSION_COOKIE_SECURE, settings.SESSION_COOKIE_HTTPONLY,
                       settings.SESSION_COOKIE_SAMESITE],
}))
"""


@pytest.fixture(scope="module")
def production_response() -> dict:
    result = _run(PRODUCTION_ENV, "shell", "-c", PROBE)
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
