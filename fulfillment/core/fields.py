"""Encryption at rest for secrets (refresh tokens) and buyer personal data.

`FIELD_ENCRYPTION_KEY` holds one or more comma-separated Fernet keys. The first
key encrypts; every key decrypts, so a key is rotated by putting the new key
first, running `manage.py rotate_field_keys`, then dropping the old one.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=4)
def _fernet_for(keys: str) -> MultiFernet:
    parts = [k.strip() for k in keys.split(",") if k.strip()]
    if not parts:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is empty.")
    try:
        return MultiFernet([Fernet(k.encode()) for k in parts])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be comma-separated Fernet keys "
            "(32 url-safe base64-encoded bytes each)."
        ) from exc


def fernet() -> MultiFernet:
    return _fernet_for(settings.FIELD_ENCRYPTION_KEY)


def encrypt_str(value: str) -> str:
    return fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt_str(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        # Never include the token itself: it may be logged.
        raise ImproperlyConfigured(
            "An encrypted value could not be decrypted with FIELD_ENCRYPTION_KEY (wrong or rotated-out key)."
        ) from exc


class EncryptedTextField(models.TextField):
    """A text column whose database value is a Fernet token, never the plain text.

    Blank stays blank (so "no token yet" needs no decryption). The field cannot
    be searched or filtered by value; that is the point.
    """

    description = "Text encrypted at rest (Fernet)"

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_str(value)

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt_str(value)


def rotate_encrypted_value(token: str) -> str:
    """Re-encrypt a stored token with the first (newest) key."""
    return fernet().rotate(token.encode("ascii")).decode("ascii")
