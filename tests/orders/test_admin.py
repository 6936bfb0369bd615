"""The order admin: filters, search, the address only for permitted users."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from fulfillment.orders.admin_actions import pull_orders_now
from fulfillment.orders.models import Order
from tests.factories import make_store, make_user
from tests.orders.factories import make_order


@pytest.fixture
def staff_client(db, client):
    user = make_user(is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_order", "change_order"]))
    client.force_login(user)
    client.user = user
    return client


def _change_page(client, order) -> str:
    response = client.get(reverse("admin:fulfillment_order_change", args=[order.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_ship_to_address_needs_its_own_permission(staff_client):
    order = make_order()

    assert "1 Main St" not in _change_page(staff_client, order)

    staff_client.user.user_permissions.add(Permission.objects.get(codename="view_order_address"))
    assert "1 Main St" in _change_page(staff_client, order)


def test_the_order_page_shows_lines_and_hold_reasons(admin_client):
    order = make_order(hold_reasons=["SKU ABC-1 not mapped", "address missing"])

    page = _change_page(admin_client, order)

    assert "SKU ABC-1 not mapped" in page and "address missing" in page
    assert "SKU-0" in page and "SKU-1" in page


def test_orders_are_found_by_amazon_order_id_and_by_line_sku(admin_client):
    store = make_store()
    wanted, other = make_order(store=store), make_order(store=store)
    url = reverse("admin:fulfillment_order_changelist")

    by_id = admin_client.get(url, {"q": wanted.amazon_order_id}).context["cl"].result_list
    by_sku = admin_client.get(url, {"q": "SKU-1"}).context["cl"].result_list

    assert list(by_id) == [wanted]
    assert {o.pk for o in by_sku} == {wanted.pk, other.pk}  # each once, though two lines match


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status__exact": "held"}, {"held"}),
        ({"hold": "sku"}, {"held"}),
        ({"hold": "address"}, set()),
        ({"is_prime__exact": "1"}, {"released"}),
        ({"ship_by": "overdue"}, {"released"}),
    ],
)
def test_the_changelist_filters(admin_client, params, expected):
    import datetime as dt

    from django.utils import timezone

    make_order()
    make_order(
        status=Order.Status.RELEASED,
        is_prime=True,
        hold_reasons=[],
        ship_by_latest=timezone.now() - dt.timedelta(hours=1),
    )

    response = admin_client.get(reverse("admin:fulfillment_order_changelist"), params)

    assert {o.status for o in response.context["cl"].result_list} == expected


def test_pull_orders_now_queues_one_task_per_connected_store(
    db, rf, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    from connections.models import Store

    queued = []
    monkeypatch.setattr(
        "fulfillment.orders.admin_actions.async_task", lambda func, *args: queued.append((func, args))
    )
    connected = make_store()
    make_store(is_active=False)
    request = rf.post("/")
    request.user = admin_user
    messages = []

    class ModelAdmin:
        def message_user(self, request, message, level):
            messages.append(message)

    with django_capture_on_commit_callbacks(execute=True):
        pull_orders_now(ModelAdmin(), request, Store.objects.all())

    assert queued == [("fulfillment.orders.tasks.order_pull_task", (connected.pk,))]
    assert len(messages) == 2


# --- At a million orders (issue 22) ------------------------------------------------------------


def test_the_search_normalises_the_order_id_and_matches_a_sku_exactly(admin_client):
    store = make_store()
    wanted, other = make_order(store=store), make_order(store=store)
    url = reverse("admin:fulfillment_order_changelist")
    pasted = "  " + wanted.amazon_order_id.replace("-", " - ") + " "

    def found(q):
        return [o.pk for o in admin_client.get(url, {"q": q}).context["cl"].result_list]

    assert found(pasted) == [wanted.pk]
    assert found(wanted.amazon_order_id[:7]) == []  # an id is matched whole
    assert found("SKU-") == []  # a SKU too: its index answers, not a scan of every line
    assert sorted(found("SKU-0")) == sorted([wanted.pk, other.pk])


@pytest.mark.parametrize(
    "params",
    [{}, {"status__exact": "released"}, {"q": "SKU-1"}, {"o": "8"}, {"ship_by": "today"}],
    ids=["default", "status", "sku-search", "ship-by-sort", "ship-by-filter"],
)
def test_the_order_list_costs_the_same_queries_with_few_or_many_orders(
    admin_client, django_assert_num_queries, params
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    store = make_store()
    for _ in range(2):
        make_order(store=store, status=Order.Status.RELEASED, hold_reasons=[])
    url = reverse("admin:fulfillment_order_changelist")
    admin_client.get(url, params)  # the session's first use
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url, params).status_code == 200
    for _ in range(10):
        make_order(store=store, status=Order.Status.RELEASED, hold_reasons=[])

    with django_assert_num_queries(len(few)):
        response = admin_client.get(url, params)
    assert len(response.context["cl"].result_list) == 12
    assert not any("DISTINCT" in q["sql"] or "UPPER(" in q["sql"] for q in few.captured_queries)


@pytest.mark.postgres(reason="the planner's row estimate is PostgreSQL's")
def test_the_whole_order_list_shows_the_planners_estimate_and_a_filtered_one_counts(
    admin_client, monkeypatch
):
    from django.db import connection

    from fulfillment.core import paginators

    store = make_store()
    for _ in range(3):
        make_order(store=store, status=Order.Status.RELEASED, hold_reasons=[])
    make_order(store=store)
    url = reverse("admin:fulfillment_order_changelist")
    assert admin_client.get(url).context["cl"].result_count == 4  # small: exact

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE fulfillment_order")
    monkeypatch.setattr(paginators, "ESTIMATE_FROM_ROWS", 1)
    whole = admin_client.get(url).context["cl"]
    held = admin_client.get(url, {"status__exact": "held"}).context["cl"]

    assert whole.result_count == 4 and len(whole.result_list) == 4  # the estimate, right after ANALYZE
    assert held.result_count == 1


def test_a_deep_page_is_found_by_its_ids_and_shows_the_same_orders(admin_client, monkeypatch):
    from fulfillment.core import paginators
    from fulfillment.orders.admin import OrderAdmin

    store = make_store()
    for _ in range(7):
        make_order(store=store)
    monkeypatch.setattr(OrderAdmin, "list_per_page", 2)
    url = reverse("admin:fulfillment_order_changelist")

    def page(p):
        cl = admin_client.get(url, {"p": p}).context["cl"]
        return [(o.pk, o.amazon_refusal) for o in cl.result_list]

    shallow = [page(p) for p in (2, 3, 4)]
    monkeypatch.setattr(paginators, "DEEP_FROM_ROW", 1)
    deep = [page(p) for p in (2, 3, 4)]

    assert deep == shallow and [len(p) for p in deep] == [2, 2, 1]
