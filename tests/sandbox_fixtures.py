"""Sandbox fixtures for every test package (a pytest plugin; see tests/conftest.py).

`sandbox_seller` matches the `store` fixture of tests/conftest.py: a product
Store holding "Atzr|acme-refresh-token" can call the sandbox as that seller.
"""

from __future__ import annotations

import pytest

from sandbox.models import SandboxApplication, SandboxFaults, SandboxSeller
from sandbox.sellers import sandbox_application_ensure, sandbox_seller_ensure


@pytest.fixture(autouse=True)
def _sandbox_rate_limits_off(settings):
    # Amazon's real usage plans would throttle most tests; a test that is about
    # throttling turns them back on with `settings.SANDBOX_RATE_LIMITS = True`.
    settings.SANDBOX_RATE_LIMITS = False
    settings.SANDBOX_TIME_SCALE = 1.0
    settings.SANDBOX_FEED_PROCESSING_SECONDS = 0.0


@pytest.fixture
def sandbox_app(db) -> SandboxApplication:
    return sandbox_application_ensure()


@pytest.fixture
def sandbox_seller(sandbox_app) -> SandboxSeller:
    return sandbox_seller_ensure(
        selling_partner_id="A1ACMESELLER",
        name="Acme",
        marketplace_codes=("US",),
        refresh_token="Atzr|acme-refresh-token",
    )


@pytest.fixture
def sandbox_faults(db):
    """Switch faults on for one test: `sandbox_faults(throttle_storm=True)`.

    Fields: error_rate, slow_ms, drop_rate (0-1 shares), throttle_storm,
    change_order_between_pages. Returns the SandboxFaults row; the test's
    transaction rollback switches everything off again.
    """

    def switch(**changes) -> SandboxFaults:
        faults = SandboxFaults.current()
        for field, value in changes.items():
            setattr(faults, field, value)
        faults.save()
        return faults

    return switch
