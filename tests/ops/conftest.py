import pytest
from django.contrib.auth.models import Group
from django.test import Client

from connections.models import MerchantMembership
from fulfillment.ops.roles import MERCHANT_USER, WAREHOUSE_STAFF
from tests.factories import make_store, make_user
from tests.ops.factories import make_merchant


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def merchant_a(db):
    return make_merchant(name="Merchant A")


@pytest.fixture
def merchant_b(db):
    return make_merchant(name="Merchant B")


@pytest.fixture
def store_a(merchant_a):
    return make_store(name="A store", merchant=merchant_a)


@pytest.fixture
def store_b(merchant_b):
    return make_store(name="B store", merchant=merchant_b)


@pytest.fixture
def merchant_user(merchant_a):
    user = make_user(is_staff=True)
    user.groups.add(Group.objects.get(name=MERCHANT_USER))
    MerchantMembership.objects.create(user=user, merchant=merchant_a)
    return user


@pytest.fixture
def merchant_client(merchant_user) -> Client:
    return _client_for(merchant_user)


@pytest.fixture
def staff_user(db):
    user = make_user(is_staff=True)
    user.groups.add(Group.objects.get(name=WAREHOUSE_STAFF))
    return user


@pytest.fixture
def staff_client(staff_user) -> Client:
    return _client_for(staff_user)
