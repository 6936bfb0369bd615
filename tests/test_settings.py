"""Production settings refuse to start without their secrets."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "prod-" + "k" * 60,
    "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "bridge.example.com",
    "DATABASE_URL": "sqlite:////tmp/never-opened.sqlite3",
}


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    # A clean environment: nothing from the test run's own settings leaks in,
    # and the developer's .env is ignored.
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    base.update({"DJANGO_SETTINGS_MODULE": "fulfillment.settings", "DJANGO_READ_DOT_ENV": "0"})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "FIELD_ENCRYPTION_KEY"])
def test_it_refuses_to_start_without_a_production_secret(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}

    result = _run(env, "check")

    assert result.returncode != 0
    assert f"{missing} is not set" in result.stderr


def test_it_refuses_the_published_development_secret_in_production():
    from fulfillment import settings as s

    result = _run({**PRODUCTION_ENV, "SECRET_KEY": s._DEV_SECRET_KEY}, "check")

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_it_passes_the_deployment_checklist_with_production_values():
    result = _run(PRODUCTION_ENV, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr


def test_it_starts_in_debug_without_secrets():
    result = _run({"DEBUG": "1", "DATABASE_URL": PRODUCTION_ENV["DATABASE_URL"]}, "check")

    assert result.returncode == 0, result.stderr


def test_it_uses_redis_as_broker_when_given_a_redis_url():
    code = "from django.conf import settings; print(settings.Q_CLUSTER.get('redis'), settings.Q_CLUSTER.get('orm'))"
    env = {**PRODUCTION_ENV, "Q_BROKER": "redis://127.0.0.1:6379/3"}
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={**base, **env, "DJANGO_SETTINGS_MODULE": "fulfillment.settings", "DJANGO_READ_DOT_ENV": "0"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.split() == ["redis://127.0.0.1:6379/3", "None"], result.stderr


def test_it_keeps_the_task_queue_baseline():
    from django.conf import settings

    q = settings.Q_CLUSTER
    assert q["timeout"] < q["retry"]
    assert q["max_attempts"] >= 1
    assert q["ack_failures"] is True
    assert q["catch_up"] is False
    assert q["orm"] == "default"


def test_it_refuses_to_mount_the_sandbox_in_production():
    result = _run({**PRODUCTION_ENV, "SANDBOX_ENABLED": "1"}, "check")

    assert result.returncode != 0
    assert "SANDBOX_ENABLED=1 with DEBUG off" in result.stderr
    assert "SANDBOX_IN_PRODUCTION=1" in result.stderr


def test_it_mounts_the_sandbox_in_production_only_when_told_to():
    told = _run({**PRODUCTION_ENV, "SANDBOX_ENABLED": "1", "SANDBOX_IN_PRODUCTION": "1"}, "check")
    debug = _run(
        {"DEBUG": "1", "SANDBOX_ENABLED": "1", "DATABASE_URL": PRODUCTION_ENV["DATABASE_URL"]}, "check"
    )

    assert told.returncode == 0, told.stderr
    assert debug.returncode == 0, debug.stderr
