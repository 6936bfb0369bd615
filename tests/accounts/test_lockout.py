"""Lockout (issue 17): 10 failed logins lock the user name and, separately, the address."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone

from fulfillment.accounts.selectors import client_address
from tests.accounts.conftest import PASSWORD, password_login

pytestmark = pytest.mark.django_db


def _fail(client, username: str, times: int, address: str = "198.51.100.7") -> list[int]:
    return [
        client.post(
            reverse("admin:login"), {"username": username, "password": "wrong-password"}, REMOTE_ADDR=address
        ).status_code
        for _ in range(times)
    ]


def test_ten_failures_lock_the_user_even_with_the_right_password(client, staff):
    # when: 9 failures, then the 10th, then the right password
    first_nine = _fail(client, "ops", 9)
    tenth = _fail(client, "ops", 1)
    right = client.post(
        reverse("admin:login"), {"username": "ops", "password": PASSWORD}, REMOTE_ADDR="198.51.100.7"
    )

    # then: the form answered the first nine; the tenth locked; the right password is refused
    assert first_nine == [200] * 9
    assert tenth == [429]
    assert right.status_code == 429
    assert b"Too many failed logins" in right.content
    assert "_auth_user_id" not in client.session


def test_the_user_is_locked_from_every_address(client, staff):
    # given: 10 failures from one address
    _fail(client, "ops", 10)

    # when: the right password from another address
    response = client.post(
        reverse("admin:login"), {"username": "ops", "password": PASSWORD}, REMOTE_ADDR="203.0.113.9"
    )

    # then
    assert response.status_code == 429


def test_an_address_trying_many_users_is_locked_for_everyone(client, staff):
    # given: 10 failures from one address, each for a different user name
    for n in range(10):
        _fail(client, f"guess{n}", 1, address="192.0.2.66")

    # when: a real user from that address
    locked = client.post(
        reverse("admin:login"), {"username": "ops", "password": PASSWORD}, REMOTE_ADDR="192.0.2.66"
    )
    elsewhere = client.post(
        reverse("admin:login"), {"username": "ops", "password": PASSWORD}, REMOTE_ADDR="192.0.2.67"
    )

    # then
    assert locked.status_code == 429
    assert elsewhere.status_code == 302


def test_nine_failures_then_a_success_start_the_count_again(client, staff):
    _fail(client, "ops", 9)
    assert password_login(client).status_code == 302
    client.post(reverse("admin:logout"))

    assert _fail(client, "ops", 9) == [200] * 9


def test_the_lock_lifts_after_the_configured_time(client, staff, settings):
    # given: 10 failures, AXES_LOCKOUT_MINUTES (30 by default)
    _fail(client, "ops", 10)
    assert dt.timedelta(minutes=30) == settings.AXES_COOLOFF_TIME

    # when: 29 minutes later, then 31
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=29))
    still = password_login(client)
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=31))
    lifted = password_login(client)

    # then
    assert still.status_code == 429
    assert lifted.status_code == 302


def test_an_admin_sees_locked_users_and_unlocks_them(admin_client, client, staff):
    # given
    _fail(client, "ops", 10)
    assert (
        admin_client.get(reverse("admin:auth_user_changelist"))
        .context["cl"]
        .result_list.get(username="ops")
        .is_locked_out
    )

    # when
    response = admin_client.post(
        reverse("admin:auth_user_changelist"), {"action": "unlock_login", "_selected_action": [staff.pk]}
    )

    # then
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="ops").exists()
    assert password_login(client).status_code == 302


def test_locked_addresses_are_listed_and_deleting_one_unlocks(admin_client, client, staff):
    # given
    for n in range(10):
        _fail(client, f"guess{n}", 1, address="192.0.2.66")

    # when
    listing = admin_client.get(reverse("admin:axes_accessattempt_changelist"))
    AccessAttempt.objects.filter(ip_address="192.0.2.66").delete()  # the admin's delete action

    # then
    assert listing.status_code == 200 and b"192.0.2.66" in listing.content
    assert (
        client.post(
            reverse("admin:login"), {"username": "ops", "password": PASSWORD}, REMOTE_ADDR="192.0.2.66"
        ).status_code
        == 302
    )


@pytest.mark.parametrize(
    ("proxies", "forwarded", "remote", "expected"),
    [
        (0, "1.1.1.1", "10.0.0.5", "10.0.0.5"),  # no proxy trusted: the header is the client's word
        (1, "1.1.1.1, 203.0.113.4", "10.0.0.5", "203.0.113.4"),  # one load balancer appended the client
        (2, "1.1.1.1, 203.0.113.4, 10.0.0.9", "10.0.0.5", "203.0.113.4"),
        (1, "", "10.0.0.5", "10.0.0.5"),
    ],
)
def test_the_client_address_trusts_only_the_configured_proxies(
    settings, rf, proxies, forwarded, remote, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=remote)

    assert client_address(request) == expected
