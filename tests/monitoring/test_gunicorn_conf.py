"""gunicorn.conf.py: what bin/web starts (the running server is .ci/run's production step)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def _conf(monkeypatch, **env) -> dict:
    for name in ("HOST", "PORT", "WEB_CONCURRENCY", "GUNICORN_TIMEOUT", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_the_access_log_has_no_query_string_and_no_referer(monkeypatch):
    fmt = _conf(monkeypatch)["access_log_format"]

    assert "%(U)s" in fmt
    # %(r)s is the request line with its query, %(q)s the query, %(f)s the referer.
    for leaky in ("%(r)s", "%(q)s", "%(f)s", "%({referer}i)s"):
        assert leaky not in fmt


def test_it_sizes_from_the_cpus_with_a_timeout_below_the_proxy(monkeypatch):
    import multiprocessing

    conf = _conf(monkeypatch)

    assert conf["workers"] == multiprocessing.cpu_count() * 2 + 1
    assert conf["timeout"] < 30
    assert conf["bind"] == "127.0.0.1:8000"


@pytest.mark.parametrize(
    ("env", "key", "value"),
    [
        ({"WEB_CONCURRENCY": "3"}, "workers", 3),
        ({"HOST": "10.0.0.5", "PORT": "9000"}, "bind", "10.0.0.5:9000"),
        ({"GUNICORN_TIMEOUT": "20"}, "timeout", 20),
    ],
)
def test_the_environment_overrides_it(monkeypatch, env, key, value):
    assert _conf(monkeypatch, **env)[key] == value


def test_the_logger_redacts_codes_states_and_link_tokens_from_every_url_atom(monkeypatch):
    import datetime as dt
    from types import SimpleNamespace

    from gunicorn.config import Config

    from fulfillment.monitoring.gunicorn_logging import RedactingLogger

    assert _conf(monkeypatch)["logger_class"] == "fulfillment.monitoring.gunicorn_logging.RedactingLogger"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/connections/oauth/callback/?spapi_oauth_code=CODE-1&state=STATE-1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/connections/authorize/LINK-TOKEN-1/",
        "QUERY_STRING": "spapi_oauth_code=CODE-1&state=STATE-1",
        "HTTP_REFERER": "https://bridge.example.com/connections/authorize/?token=LINK-TOKEN-2",
    }
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])

    atoms = RedactingLogger(Config()).atoms(response, request, environ, dt.timedelta(seconds=1))

    logged = " ".join(str(atoms[key]) for key in ("r", "U", "q", "f", "{referer}i"))
    for secret in ("CODE-1", "STATE-1", "LINK-TOKEN-1", "LINK-TOKEN-2"):
        assert secret not in logged
    assert atoms["U"] == "/connections/authorize/[redacted]/"
