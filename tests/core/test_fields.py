import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.test import override_settings

from connections.models import Store
from fulfillment.core.fields import _fernet_for
from tests.factories import make_store


def _raw_refresh_token(store: Store) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT refresh_token FROM connections_store WHERE id = %s", [store.pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_it_round_trips_an_encrypted_value():
    store = make_store(refresh_token="Atzr|IwEBIsecret-token")

    assert Store.objects.get(pk=store.pk).refresh_token == "Atzr|IwEBIsecret-token"


@pytest.mark.django_db
def test_it_never_stores_the_plain_value():
    store = make_store(refresh_token="Atzr|IwEBIsecret-token")

    raw = _raw_refresh_token(store)

    assert "secret-token" not in raw
    assert raw.startswith("gAAAAA")  # a Fernet token


@pytest.mark.django_db
def test_it_keeps_blank_blank():
    store = make_store(refresh_token="")

    assert _raw_refresh_token(store) == ""
    assert Store.objects.get(pk=store.pk).refresh_token == ""


@pytest.mark.django_db
def test_it_reads_old_values_after_a_key_rotation(settings):
    old_key = settings.FIELD_ENCRYPTION_KEY
    store = make_store(refresh_token="Atzr|before-rotation")
    new_key = Fernet.generate_key().decode()

    with override_settings(FIELD_ENCRYPTION_KEY=f"{new_key},{old_key}"):
        from django.core.management import call_command

        assert Store.objects.get(pk=store.pk).refresh_token == "Atzr|before-rotation"
        call_command("rotate_field_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115

    # After rotation the new key alone reads it.
    with override_settings(FIELD_ENCRYPTION_KEY=new_key):
        assert Store.objects.get(pk=store.pk).refresh_token == "Atzr|before-rotation"
    _fernet_for.cache_clear()
