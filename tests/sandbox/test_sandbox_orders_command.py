from io import StringIO

from django.core.management import call_command

from sandbox.models import SandboxOrder, SandboxSeller, ServiceLevel


def _run(*args) -> str:
    out = StringIO()
    call_command("sandbox_orders", *args, stdout=out)
    return out.getvalue()


def _contents(seller):
    return [
        (
            o.order_id,
            o.service_level,
            tuple(o.programs),
            o.status,
            tuple((i.sku, i.quantity_ordered) for i in o.items.all()),
        )
        for o in SandboxOrder.objects.filter(seller__selling_partner_id=seller)
        .prefetch_related("items")
        .order_by("order_id")
    ]


def test_it_creates_realistic_orders_and_prints_one_line(db):
    # when: spread over 3 days, so some were cancelled or partly shipped since
    output = _run("--seller", "ACMD", "--count", "200", "--seed", "7", "--days", "3")

    # then
    assert output.count("\n") == 1
    assert output.startswith("ACMD: 200 orders created")
    orders = SandboxOrder.objects.filter(seller__selling_partner_id="ACMD")
    assert orders.count() == 200
    assert set(orders.values_list("service_level", flat=True)) == set(ServiceLevel.values)
    assert {"UNSHIPPED", "CANCELLED", "PARTIALLY_SHIPPED"} <= set(orders.values_list("status", flat=True))
    programs = [p for o in orders for p in o.programs]
    assert "PRIME" in programs
    assert "AMAZON_BUSINESS" in programs
    item_counts = {o.items.count() for o in orders}
    assert 1 in item_counts
    assert max(item_counts) > 1
    assert orders.filter(items__gift_message__gt="").exists()
    assert orders.filter(items__buyer_cancel_requested=True).exists()


def test_the_same_seed_makes_the_same_orders(db):
    _run("--seller", "ASEED1", "--count", "30", "--seed", "42")
    first = _contents("ASEED1")
    SandboxSeller.objects.filter(selling_partner_id="ASEED1").delete()

    _run("--seller", "ASEED1", "--count", "30", "--seed", "42")

    assert _contents("ASEED1") == first
