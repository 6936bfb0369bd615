from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

PASSWORD = "Correct-horse-battery-9"


@pytest.fixture
def mfa_on(settings):
    settings.ADMIN_MFA_REQUIRED = True
    return settings


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_superuser("ops", "ops@warehouse.example", PASSWORD)


def password_login(client, username: str = "ops", password: str = PASSWORD, next_url: str = "/admin/"):
    return client.post(reverse("admin:login"), {"username": username, "password": password, "next": next_url})
