"""Access review every 90 days, and access removed at once when someone leaves (issue 17)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from connections.models import Merchant, MerchantMembership
from fulfillment.accounts.selectors import access_review
from fulfillment.ops.roles import MERCHANT_USER, WAREHOUSE_ADMIN, WAREHOUSE_STAFF
from fulfillment.wms.models import WmsApiKey
from fulfillment.wms.services import wms_key_create

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture
def people(warehouse):
    boss = User.objects.create_user("boss", password="x" * 12, is_staff=True, last_login=NOW)
    boss.groups.add(Group.objects.get(name=WAREHOUSE_ADMIN))
    TOTPDevice.objects.create(user=boss, name="phone", confirmed=True)
    picker = User.objects.create_user("picker", password="x" * 12, is_staff=True, last_login=NOW)
    picker.groups.add(Group.objects.get(name=WAREHOUSE_STAFF))
    seller = User.objects.create_user(
        "seller", password="x" * 12, is_staff=True, last_login=NOW - dt.timedelta(days=120)
    )
    seller.groups.add(Group.objects.get(name=MERCHANT_USER))
    MerchantMembership.objects.create(
        user=seller, merchant=Merchant.objects.create(name="Acme", email="a@x.example")
    )
    User.objects.create_user("gone", password="x" * 12, is_active=False)
    key, _ = wms_key_create(warehouse=warehouse, name="WMS prod", created_by=picker)
    return {"boss": boss, "picker": picker, "seller": seller, "key": key}


def test_the_review_lists_users_roles_last_login_mfa_and_keys(people):
    # when
    review = access_review(now=NOW)

    # then
    by_name = {u.username: u for u in review.users}
    assert set(by_name) == {"boss", "picker", "seller", "gone"}
    assert by_name["boss"].roles == [WAREHOUSE_ADMIN] and by_name["boss"].mfa_enrolled
    assert by_name["picker"].roles == [WAREHOUSE_STAFF] and not by_name["picker"].mfa_enrolled
    assert by_name["seller"].merchants == ["Acme"]
    assert by_name["seller"].last_login == NOW - dt.timedelta(days=120)
    assert by_name["boss"].password_set_at is not None
    assert not by_name["gone"].active
    assert [(k.name, k.created_by) for k in review.keys] == [("WMS prod", "picker")]
    assert "picker: staff without a second factor (enrols at next login)" in review.findings
    assert any(f.startswith("seller: no login for 90+ days") for f in review.findings)
    assert any(f.startswith("WMS key WMS prod (NJ1): unused for 90+ days") for f in review.findings)
    assert not any(f.startswith("gone") for f in review.findings)


def test_the_review_takes_a_fixed_number_of_queries(people, django_assert_num_queries):
    # users (with 2FA, lockout, password date), their groups, their merchants, keys
    with django_assert_num_queries(4):
        access_review(now=NOW)
    User.objects.create_user("another", password="x" * 12, is_staff=True)
    with django_assert_num_queries(4):
        access_review(now=NOW)


def test_the_command_prints_the_review(people, capsys):
    # when
    call_command("access_review")

    # then
    out = capsys.readouterr().out
    assert out.startswith("Access review ")
    assert "Users (4)" in out and "Active WMS API keys (1)" in out
    boss = next(line for line in out.splitlines() if line.strip().startswith("boss "))
    assert "Warehouse admin" in boss and "enrolled" in boss
    picker = next(line for line in out.splitlines() if line.strip().startswith("picker "))
    assert "NOT ENROLLED" in picker
    assert "To act on (" in out and "staff without a second factor" in out


def test_deactivating_a_user_ends_their_sessions_and_unlinks_their_keys_at_once(people, store):
    # given: the picker signed in on two browsers, another user on a third
    picker = people["picker"]
    browsers = [Client(), Client()]
    for browser in browsers:
        browser.force_login(picker)
    other = Client()
    other.force_login(people["boss"])
    assert browsers[0].get(reverse("admin:index")).status_code == 200

    # when: a warehouse admin unticks "active" (any save does it)
    picker.is_active = False
    picker.save()

    # then: both sessions are gone from the store, not only refused
    assert Session.objects.count() == 1
    for browser in browsers:
        assert browser.get(reverse("admin:index")).status_code == 302
    assert other.get(reverse("admin:index")).status_code == 200
    # the key keeps working for the warehouse, flagged for rotation
    key = WmsApiKey.objects.get(pk=people["key"].pk)
    assert key.created_by is None and key.creator_left_at is not None and key.revoked_at is None
    assert any("its creator left" in f for f in access_review(now=timezone.now()).findings)


def test_deactivating_through_the_admin_user_page_ends_access(admin_client, people):
    picker = people["picker"]
    browser = Client()
    browser.force_login(picker)
    page = admin_client.get(reverse("admin:auth_user_change", args=[picker.pk]))
    data = {k: v for k, v in page.context["adminform"].form.initial.items() if v is not None}
    data.update(
        username="picker",
        is_active="",
        is_staff="on",
        groups=[g.pk for g in picker.groups.all()],
        date_joined_0=picker.date_joined.strftime("%Y-%m-%d"),
        date_joined_1=picker.date_joined.strftime("%H:%M:%S"),
        last_login_0="",
        last_login_1="",
    )
    data.pop("user_permissions", None)
    data.pop("password", None)
    data.pop("date_joined", None)
    data.pop("last_login", None)

    response = admin_client.post(reverse("admin:auth_user_change", args=[picker.pk]), data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert not User.objects.get(pk=picker.pk).is_active
    assert browser.get(reverse("admin:index")).status_code == 302
    assert WmsApiKey.objects.get(pk=people["key"].pk).creator_left_at is not None


def test_a_key_created_in_the_admin_records_its_creator(admin_client, admin_user, warehouse):
    admin_client.post(reverse("admin:wms_wmsapikey_add"), {"warehouse": warehouse.pk, "name": "WMS test"})

    assert WmsApiKey.objects.get(name="WMS test").created_by == admin_user
