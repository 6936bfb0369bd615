"""Passwords (issue 17): at least 12 characters, Django's validators, no reuse of the last 10."""

from __future__ import annotations

import pytest
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from fulfillment.accounts.models import PasswordHistory

pytestmark = pytest.mark.django_db


def _change(user: User, password: str) -> AdminPasswordChangeForm:
    form = AdminPasswordChangeForm(user, {"password1": password, "password2": password})
    if form.is_valid():
        form.save()
    return form


def test_short_common_and_numeric_passwords_are_refused(db):
    for password in ("Short-pass1", "password1234", "739184650273"):
        with pytest.raises(ValidationError):
            validate_password(password)
    validate_password("Twelve-chars-ok")


def test_a_reused_password_is_refused(db):
    # given: a user who went through three passwords
    user = User.objects.create_user("picker", password="First-long-password-1")
    assert _change(user, "Second-long-password-2").is_valid()
    assert _change(user, "Third-long-password-3").is_valid()

    # when: the first one again, and the current one
    first_again = _change(user, "First-long-password-1")
    current_again = _change(user, "Third-long-password-3")

    # then
    assert "password_reused" in [e.code for e in first_again.errors.as_data()["password2"]]
    assert "password_reused" in [e.code for e in current_again.errors.as_data()["password2"]]
    user.refresh_from_db()
    assert user.check_password("Third-long-password-3")


def test_only_the_last_ten_are_remembered(db):
    # given: eleven passwords in a row
    user = User.objects.create_user("picker", password="Password-number-00")
    for n in range(1, 11):
        assert _change(user, f"Password-number-{n:02d}").is_valid()

    # then: the eleventh-last is allowed again, the tenth-last is not; ten hashes kept
    assert PasswordHistory.objects.filter(user=user).count() == 10
    assert not _change(user, "Password-number-01").is_valid()
    assert _change(user, "Password-number-00").is_valid()


def test_the_history_holds_hashes_never_passwords(db):
    user = User.objects.create_user("picker", password="Plain-text-never-stored")

    stored = PasswordHistory.objects.get(user=user).password

    assert "Plain-text-never-stored" not in stored
    assert stored == user.password


def test_the_admin_password_page_refuses_a_reused_password(admin_client):
    # given
    user = User.objects.create_user("picker", password="Warehouse-door-2026")

    # when
    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": "Warehouse-door-2026", "password2": "Warehouse-door-2026"},
    )

    # then
    assert response.status_code == 200
    assert "used before" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("Warehouse-door-2026")
