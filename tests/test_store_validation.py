import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from connections.models import Marketplace, Store
from tests.factories import make_store, make_warehouse


def _store(**kw) -> Store:
    return Store(
        name=kw.pop("name", "Validated"),
        marketplace=kw.pop("marketplace", None) or Marketplace.objects.get(code="US"),
        warehouse=kw.pop("warehouse", None) or make_warehouse(),
        **kw,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("latency", [0, 31])
def test_it_refuses_latency_outside_1_to_30(latency):
    with pytest.raises(ValidationError) as exc:
        _store(fulfillment_latency=latency).full_clean()

    assert "fulfillment_latency" in exc.value.message_dict


@pytest.mark.django_db
@pytest.mark.parametrize("latency", [None, 1, 30])
def test_it_accepts_latency_blank_or_within_range(latency):
    _store(fulfillment_latency=latency).full_clean()


@pytest.mark.django_db
def test_it_refuses_a_second_store_for_the_same_seller_and_marketplace():
    existing = make_store(selling_partner_id="A2SAMESELLER")

    with pytest.raises(ValidationError) as exc:
        _store(
            name="Duplicate", selling_partner_id="A2SAMESELLER", marketplace=existing.marketplace
        ).full_clean()

    assert "already connected as another store in this marketplace" in str(exc.value)


@pytest.mark.django_db
def test_it_allows_the_same_seller_in_another_marketplace():
    make_store(selling_partner_id="A2SAMESELLER")

    _store(
        name="Canada", selling_partner_id="A2SAMESELLER", marketplace=Marketplace.objects.get(code="CA")
    ).full_clean()


@pytest.mark.django_db
def test_it_allows_many_stores_not_yet_authorized():
    make_store(selling_partner_id="")

    _store(name="Also new", selling_partner_id="").full_clean()


@pytest.mark.django_db
def test_it_refuses_an_unknown_order_status():
    with pytest.raises(ValidationError) as exc:
        _store(import_order_statuses=["UNSHIPPED", "Shipped-ish"]).full_clean()

    assert "Unknown order status Shipped-ish" in str(exc.value)


@pytest.mark.django_db
def test_it_defaults_to_unshipped_and_partially_shipped_mfn():
    store = _store()

    assert store.import_order_statuses == ["UNSHIPPED", "PARTIALLY_SHIPPED"]
    assert store.fulfillment_channel == "MFN"
    assert store.fulfillment_channel_code == "DEFAULT"
    assert store.order_pull_minutes == 30
    assert len(store.push_times) == 2


@pytest.mark.django_db
def test_the_admin_shows_clear_errors_and_saves_nothing(admin_client):
    warehouse = make_warehouse()
    url = reverse("admin:connections_store_add")
    data = {
        "name": "Bad store",
        "marketplace": Marketplace.objects.get(code="US").pk,
        "warehouse": warehouse.pk,
        "platform": "amazon_seller_central",
        "is_active": "on",
        "selling_partner_id": "",
        "fulfillment_channel": "MFN",
        "import_order_statuses": ["UNSHIPPED", "NOPE"],
        "ship_to_countries": "us, Canada",
        "order_pull_minutes": "30",
        "product_code_field": "SKU",
        "inventory_push_times": "06:00,25:00",
        "fulfillment_latency": "45",
        "fulfillment_channel_code": "DEFAULT",
    }

    response = admin_client.post(url, data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "Select a valid choice. NOPE" in str(errors["import_order_statuses"])
    assert "two-letter country codes" in str(errors["ship_to_countries"])
    assert "25:00 is not a time of day" in str(errors["inventory_push_times"])
    assert "less than or equal to 30" in str(errors["fulfillment_latency"])
    assert not Store.objects.filter(name="Bad store").exists()


@pytest.mark.django_db
def test_the_admin_normalises_countries_and_saves(admin_client):
    warehouse = make_warehouse()
    data = {
        "name": "Good store",
        "marketplace": Marketplace.objects.get(code="US").pk,
        "warehouse": warehouse.pk,
        "platform": "amazon_seller_central",
        "is_active": "on",
        "fulfillment_channel": "MFN",
        "import_order_statuses": ["UNSHIPPED"],
        "ship_to_countries": "us, ca",
        "order_pull_minutes": "30",
        "product_code_field": "SKU",
        "inventory_push_times": "06:00, 18:00",
        "fulfillment_channel_code": "DEFAULT",
    }

    response = admin_client.post(reverse("admin:connections_store_add"), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    store = Store.objects.get(name="Good store")
    assert store.ship_to_country_list == ["US", "CA"]
    assert store.import_order_statuses == ["UNSHIPPED"]
    assert store.inventory_push_times == "06:00,18:00"
