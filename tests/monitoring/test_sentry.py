"""Sentry (optional): what leaves carries no OAuth code, token, cookie, body,
header or local variable; checked on a real event from a failing request."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fulfillment.monitoring.sentry import breadcrumb_scrub, event_scrub

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json
import django
django.setup()
import sentry_sdk
from sentry_sdk.transport import Transport
import io
from django.core.wsgi import get_wsgi_application
from django.test.utils import override_settings
from fulfillment.monitoring.sentry import sentry_init

events = []

class Capture(Transport):
    def capture_envelope(self, envelope):
        events.extend(item.payload.json for item in envelope.items if item.type == "event")

sentry_init(dsn="http://public@127.0.0.1:9/1", environment="test", release=None,
            traces_sample_rate=0.0, transport=Capture)
# Through the WSGI application as gunicorn calls it (Sentry reads the URL there).
body = b"gift_message=GIFT-SECRET"
environ = {
    "REQUEST_METHOD": "POST", "PATH_INFO": "/boom/", "SCRIPT_NAME": "",
    "QUERY_STRING": "spapi_oauth_code=CODE-SECRET&state=STATE-SECRET",
    "SERVER_NAME": "testserver", "SERVER_PORT": "80", "HTTP_HOST": "testserver",
    "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
    "wsgi.errors": io.StringIO(), "CONTENT_TYPE": "application/x-www-form-urlencoded",
    "CONTENT_LENGTH": str(len(body)), "HTTP_COOKIE": "sessionid=SESSION-SECRET",
    "HTTP_AUTHORIZATION": "Bearer KEY-SECRET", "HTTP_X_FORWARDED_FOR": "203.0.113.9",
    "REMOTE_ADDR": "203.0.113.9", "HTTP_USER_AGENT": "probe",
}
statuses = []
with override_settings(ROOT_URLCONF="tests.monitoring.boom_urls"):
    b"".join(get_wsgi_application()(environ, lambda status, headers, exc_info=None: statuses.append(status)))
response_status = int(statuses[0].split()[0])
sentry_sdk.flush()
print(json.dumps({"status": response_status, "events": events}))
"""


def test_a_failing_request_reaches_sentry_without_secrets_or_buyer_data():
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "DATABASE_URL")}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "tests.settings", "DJANGO_READ_DOT_ENV": "0"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])

    assert out["status"] == 500
    assert out["events"], "the failure reached the transport"
    sent = json.dumps(out["events"])
    event = out["events"][0]
    assert event["exception"]["values"][-1]["type"] == "ValueError"
    assert event["request"]["url"] == "http://testserver/boom/"
    assert {k.lower() for k in event["request"]["headers"]} <= {
        "host",
        "user-agent",
        "content-type",
        "content-length",
    }
    for secret in (
        "CODE-SECRET",
        "STATE-SECRET",
        "GIFT-SECRET",
        "SESSION-SECRET",
        "KEY-SECRET",
        "ADDRESS-SECRET",
        "203.0.113.9",
    ):
        assert secret not in sent, secret
    frames = event["exception"]["values"][-1]["stacktrace"]["frames"]
    assert frames and not any("vars" in frame for frame in frames)


def test_the_scrubber_keeps_the_url_path_and_harmless_headers_only():
    event = {
        "request": {
            "url": "https://bridge.example.com/connections/oauth/callback/?spapi_oauth_code=X",
            "query_string": "spapi_oauth_code=X&state=Y",
            "data": {"gift_message": "Happy birthday"},
            "cookies": {"sessionid": "s"},
            "headers": {"User-Agent": "Mozilla", "Authorization": "Bearer k", "Referer": "https://x/?code=1"},
            "env": {"REMOTE_ADDR": "203.0.113.9"},
        },
        "user": {"ip_address": "203.0.113.9", "email": "jane@example.com"},
        "breadcrumbs": {
            "values": [
                {
                    "category": "httplib",
                    "data": {"url": "https://api.amazon.com/auth/o2/token?x=1", "http.query": "x=1"},
                }
            ]
        },
    }

    scrubbed = event_scrub(event, {})

    assert scrubbed["request"] == {
        "url": "https://bridge.example.com/connections/oauth/callback/",
        "headers": {"User-Agent": "Mozilla"},
    }
    assert "user" not in scrubbed
    assert scrubbed["breadcrumbs"]["values"][0]["data"] == {"url": "https://api.amazon.com/auth/o2/token"}
    assert breadcrumb_scrub({"message": "no data"}) == {"message": "no data"}
