"""MFA for the admin (issue 17): TOTP enrolment at first login, codes at every login,
recovery codes; with ADMIN_MFA_REQUIRED no admin page opens on a password alone."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.checks import run_checks
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from fulfillment.accounts.services import recovery_codes_replace
from tests.accounts.conftest import password_login
from tests.wms.factories import make_released_order

pytestmark = pytest.mark.django_db

# The steps between password and admin; everything else must stay shut.
OPEN = {"login", "logout", "mfa_verify", "mfa_setup", "mfa_setup_qr"}


def totp_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code the user's authenticator app shows (optionally for a later 30 s step)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift + steps_ahead)
    return f"{totp.token():0{device.digits}d}"


def unthrottled(device: TOTPDevice) -> None:
    """Forget earlier wrong codes (django-otp makes the next try wait 1, 2, 4 ... s)."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )


def enrolled(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def _admin_url_names() -> list[tuple[str, dict]]:
    """Every named admin URL with placeholder arguments (an existing object's id where one is needed)."""
    names: list[tuple[str, dict]] = []

    def walk(patterns):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns)
            elif isinstance(entry, URLPattern) and entry.name and entry.name not in OPEN:
                pattern = entry.pattern
                params = getattr(pattern, "converters", None) or {}
                keys = list(params) or list(getattr(pattern, "regex", re.compile("")).groupindex)
                names.append((entry.name, {k: ("fulfillment" if k == "app_label" else "1") for k in keys}))

    walk(admin.site.get_urls())
    return sorted({(n, tuple(sorted(kw.items()))) for n, kw in names})  # type: ignore[arg-type]


ADMIN_URLS = _admin_url_names()


def test_it_knows_hundreds_of_admin_urls():
    # A guard for the test below: the walk found the whole admin, not a corner of it.
    assert len(ADMIN_URLS) > 100
    assert any(name == "fulfillment_order_change" for name, _ in ADMIN_URLS)


def test_a_password_alone_opens_no_admin_page(client, mfa_on, staff, store):
    # given: a superuser who typed the right password but no code; an order exists (id 1 or more)
    enrolled(staff)
    make_released_order(store=store)
    response = password_login(client)
    assert response.status_code == 302 and response.url.startswith(reverse("admin:mfa_verify"))

    # when: every admin URL is requested
    opened = []
    for name, kwargs in ADMIN_URLS:
        url = reverse(f"admin:{name}", kwargs=dict(kwargs))
        for method in (client.get, client.post):
            response = method(url)
            if not (response.status_code == 302 and response.url.startswith(reverse("admin:mfa_verify"))):
                opened.append((method.__name__, url, response.status_code))

    # then
    assert opened == []


def test_the_admin_site_refuses_an_unverified_session_even_without_the_middleware(mfa_on, staff):
    # given: a request as the middlewares leave it for a password-only session
    request = RequestFactory().get("/admin/")
    request.user = staff
    staff.is_verified = lambda: False

    # then
    assert admin.site.has_permission(request) is False
    staff.is_verified = lambda: True
    assert admin.site.has_permission(request) is True


def test_views_outside_the_admin_need_the_second_factor_too(client, mfa_on, staff, store):
    # given
    enrolled(staff)
    password_login(client)

    # when: store authorization (staff_member_required, outside the admin site)
    response = client.get(reverse("connections:store_authorize", args=[store.pk]))

    # then
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:mfa_verify"))


def test_first_login_enrols_an_authenticator_app_and_shows_recovery_codes_once(client, mfa_on, staff):
    # given: no device yet
    response = password_login(client)
    response = client.get(response.url)
    assert response.status_code == 302 and response.url.startswith(reverse("admin:mfa_setup"))

    # when: the enrolment page, its QR code, a wrong code, then the app's code
    page = client.get(response.url)
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    qr = client.get(reverse("admin:mfa_setup_qr"))
    wrong = client.post(reverse("admin:mfa_setup"), {"token": "000000", "next": "/admin/"})
    confirmed_after_wrong = TOTPDevice.objects.get(pk=device.pk).confirmed
    still_shut = client.get(reverse("admin:index"))
    unthrottled(device)
    done = client.post(reverse("admin:mfa_setup"), {"token": totp_code(device), "next": "/admin/"})

    # then
    assert page.status_code == 200
    assert b'src="/admin/mfa/setup/qr.svg"' in page.content
    assert not re.search(rb"<script(?![^>]*\bsrc=)", page.content), "no inline script (CSP)"
    secret = page.context["secret"].replace(" ", "")
    assert len(secret) == 32
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
    assert "no-store" in qr["Cache-Control"]
    assert wrong.status_code == 400 and not confirmed_after_wrong
    assert still_shut.status_code == 302
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert client.get(reverse("admin:index")).status_code == 200
    # shown once: the page for the verified user now only counts them
    again = client.get(reverse("admin:mfa_recovery_codes"))
    assert again.context["left"] == 10 and "codes" not in again.context


def test_enrolment_is_not_a_way_around_an_enrolled_app(client, mfa_on, staff):
    # given: an enrolled user who typed only the password
    enrolled(staff)
    password_login(client)

    # when: they try to enrol a new app instead of entering a code
    response = client.get(reverse("admin:mfa_setup"))

    # then
    assert response.status_code == 302 and response.url.startswith(reverse("admin:mfa_verify"))
    assert TOTPDevice.objects.filter(user=staff).count() == 1


def test_later_logins_ask_for_the_current_code(client, mfa_on, staff):
    # given
    device = enrolled(staff)
    response = password_login(client, next_url="/admin/fulfillment/order/")

    # when
    page = client.get(response.url)
    wrong = client.post(response.url, {"token": "123456"})
    unthrottled(device)
    right = client.post(response.url, {"token": totp_code(device)})

    # then
    assert page.status_code == 200
    assert wrong.status_code == 400
    assert right.status_code == 302 and right.url == "/admin/fulfillment/order/"
    assert client.get("/admin/fulfillment/order/").status_code == 200


def test_a_recovery_code_works_once(client, mfa_on, staff):
    # given
    enrolled(staff)
    code = recovery_codes_replace(user=staff)[0]
    password_login(client)

    # when
    first = client.post(reverse("admin:mfa_verify"), {"token": code})
    client.post(reverse("admin:logout"))
    password_login(client)
    second = client.post(reverse("admin:mfa_verify"), {"token": code})

    # then
    assert first.status_code == 302 and first.url == reverse("admin:index")
    assert second.status_code == 400
    assert StaticToken.objects.filter(device__user=staff).count() == 9


def test_the_next_parameter_never_leaves_the_site(client, mfa_on, staff):
    device = enrolled(staff)
    password_login(client)

    response = client.post(
        reverse("admin:mfa_verify"), {"token": totp_code(device), "next": "https://evil.example/"}
    )

    assert response.status_code == 302 and response.url == reverse("admin:index")


def test_an_admin_resets_a_lost_phone_and_the_user_enrols_again(admin_client, mfa_on, client):
    # given: a verified admin (admin_client's session is marked verified below) and a user with a device
    user = User.objects.create_user("picker", password="Another-long-pass-42", is_staff=True)
    enrolled(user)
    recovery_codes_replace(user=user)
    mfa_on.ADMIN_MFA_REQUIRED = False  # admin_client has no device: act as the warehouse admin

    # when: the action asks first, then resets
    url = reverse("admin:auth_user_changelist")
    asked = admin_client.post(url, {"action": "reset_mfa", "_selected_action": [user.pk]})
    kept = TOTPDevice.objects.filter(user=user).exists()
    response = admin_client.post(
        url, {"action": "reset_mfa", "_selected_action": [user.pk], "confirm": "yes"}
    )

    # then
    assert asked.status_code == 200 and b"picker" in asked.content and kept
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticToken.objects.filter(device__user=user).exists()
    mfa_on.ADMIN_MFA_REQUIRED = True
    login = password_login(client, "picker", "Another-long-pass-42")
    assert client.get(login.url).url.startswith(reverse("admin:mfa_setup"))


def test_the_user_list_shows_who_is_enrolled(admin_client, staff):
    # given
    enrolled(staff)
    User.objects.create_user("no-phone", password="Another-long-pass-42", is_staff=True)

    # when
    enrolled_only = admin_client.get(reverse("admin:auth_user_changelist"), {"mfa": "yes"})
    not_enrolled = admin_client.get(reverse("admin:auth_user_changelist"), {"mfa": "no"})

    # then
    assert [u.username for u in enrolled_only.context["cl"].result_list] == ["ops"]
    assert "no-phone" in [u.username for u in not_enrolled.context["cl"].result_list]


def test_a_system_check_warns_when_mfa_is_off_in_production(settings):
    settings.DEBUG = False
    settings.ADMIN_MFA_REQUIRED = False
    assert "accounts.W001" in [m.id for m in run_checks()]

    settings.ADMIN_MFA_REQUIRED = True
    assert "accounts.W001" not in [m.id for m in run_checks()]

    settings.DEBUG = True
    settings.ADMIN_MFA_REQUIRED = False
    assert "accounts.W001" not in [m.id for m in run_checks()]


def test_demo_setup_enrols_the_demo_admin_and_prints_the_key_once_per_database(settings, capsys):
    from base64 import b32encode

    from django.core.management import call_command

    # given: the demo (DEBUG)
    settings.DEBUG = True

    # when: started twice
    call_command("demo_setup")
    call_command("demo_setup")

    # then: one enrolled app, whose key both runs printed
    device = TOTPDevice.objects.get(user__username="admin", confirmed=True)
    key = b32encode(device.bin_key).decode()
    out = capsys.readouterr().out
    assert out.count(f"authenticator key {key}") == 2
    assert "otpauth://totp/" in out
