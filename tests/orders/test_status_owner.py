"""Only fulfillment/orders/transitions.py writes `Order.status` (issue 18).

A scan of the product's source (fulfillment/, connections/, mappings/; the
sandbox keeps its own orders, tests make rows as they please, migrations are
history written with historical models) for every way Django code writes a
column:

- `x.status = ...` (also in tuples, `+=`, `setattr(x, "status", ...)`);
- `status=` given to a call (`.update()`, `.create()`, `Order(...)`,
  `defaults={"status": ...}`, `**{"status": ...}`);
- "status" among the fields of `save(update_fields=...)`, `bulk_update()`,
  `bulk_create(update_fields=...)` (a list literal, or a name bound to one);
- SQL that updates or inserts into fulfillment_order naming status.

Other models have a status too (webhook deliveries, import jobs, feeds): a
write counts as the order's when the written object or queryset is named
like an order (`order`, `orders`, `Order.objects...`) or the value written
is an `Order.Status`. The scanner is checked on snippets below, so it cannot
quietly stop finding anything.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("fulfillment", "connections", "mappings")
OWNER = Path("fulfillment/orders/transitions.py")

_ORDERISH = re.compile(r"order", re.IGNORECASE)
# Names that contain "order" without being one.
_NOT_ORDERS = {"order_by", "ordering"}
_WRITE_CALLS = {"update", "create", "get_or_create", "update_or_create", "bulk_create", "bulk_update"}
_SQL_WRITE = re.compile(r"(?is)\b(update|insert\s+into)\s+\"?fulfillment_order\"?\s.*\bstatus\b")


def _names(node: ast.AST) -> list[str]:
    """The identifiers along an expression's chain: `Order.objects.filter(...).update` ->
    [update, filter, objects, Order]."""
    found = []
    while True:
        if isinstance(node, ast.Attribute):
            found.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Name):
            found.append(node.id)
            return found
        else:
            return found


def _orderish(node: ast.AST) -> bool:
    return any(_ORDERISH.search(n) and n not in _NOT_ORDERS for n in _names(node))


def _order_status_value(node: ast.AST | None) -> bool:
    """The value mentions Order.Status (e.g. Order.Status.SHIPPED)."""
    if node is None:
        return False
    return any(
        isinstance(n, ast.Attribute) and n.attr == "Status" and _orderish(n.value) for n in ast.walk(node)
    )


def _string_lists(tree: ast.AST) -> dict[str, set[str]]:
    """Names bound anywhere in the module to a list/tuple of string literals (or grown
    with .append/.extend), and the module's functions with the strings in their bodies
    (a helper that returns fields)."""
    lists: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("append", "extend")
            and isinstance(node.func.value, ast.Name)
        ):
            lists.setdefault(node.func.value.id, set()).update(
                n.value for a in node.args for n in ast.walk(a) if isinstance(n, ast.Constant)
            )
        if isinstance(node, ast.FunctionDef):
            lists[node.name] = {
                n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            }
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.List | ast.Tuple):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            strings = {e.value for e in node.value.elts if isinstance(e, ast.Constant)}
            for t in targets:
                if isinstance(t, ast.Name):
                    lists.setdefault(t.id, set()).update(strings)
    return lists


def _field_names(node: ast.AST | None, lists: dict[str, set[str]]) -> set[str]:
    if node is None:
        return set()
    names = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Constant) and isinstance(n.value, str):
            names.add(n.value)
        elif isinstance(n, ast.Name):
            names |= lists.get(n.id, set())
    return names


def _targets(node: ast.AST):
    if isinstance(node, ast.Tuple | ast.List):
        for e in node.elts:
            yield from _targets(e)
    elif isinstance(node, ast.Starred):
        yield from _targets(node.value)
    else:
        yield node


def status_writes(source: str, name: str = "<snippet>") -> list[str]:
    """Every write of Order.status in `source`, as "name:line: what"."""
    tree = ast.parse(source)
    lists = _string_lists(tree)
    found: list[str] = []

    def hit(node: ast.AST, what: str) -> None:
        found.append(f"{name}:{node.lineno}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in (t for ts in targets for t in _targets(ts)):
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr == "status"
                    and (_orderish(target.value) or _order_status_value(node.value))
                ):
                    hit(node, f"assigns {ast.unparse(target)}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL_WRITE.search(node.value):
            hit(node, "SQL writes fulfillment_order.status")
        elif isinstance(node, ast.Call):
            func = node.func
            callee = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if callee == "setattr" and len(node.args) == 3:
                obj, attr, value = node.args
                if (
                    isinstance(attr, ast.Constant)
                    and attr.value == "status"
                    and (_orderish(obj) or _order_status_value(value))
                ):
                    hit(node, "setattr(..., 'status', ...)")
                continue
            given: dict[str, ast.AST] = {}
            for kw in node.keywords:
                if kw.arg is not None:
                    given[kw.arg] = kw.value
                if (kw.arg is None or kw.arg in ("defaults", "create_defaults")) and isinstance(
                    kw.value, ast.Dict
                ):
                    for k, v in zip(kw.value.keys, kw.value.values, strict=True):
                        if isinstance(k, ast.Constant) and k.value == "status":
                            given["status"] = v
            if (
                "status" in given
                and (callee in _WRITE_CALLS or callee == "Order")
                and (_orderish(func) or _order_status_value(given["status"]))
            ):
                hit(node, f"{callee}(status=...)")
            fields = given.get("update_fields")
            if callee == "bulk_update":
                fields = node.args[1] if len(node.args) > 1 else given.get("fields")
            if (
                callee in ("save", "bulk_update", "bulk_create")
                and "status" in _field_names(fields, lists)
                and _orderish(func)
            ):
                hit(node, f"{callee}() of fields with status")
    return found


def _product_modules():
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if "migrations" in rel.parts:
                continue
            yield rel, path.read_text()


def test_only_the_transitions_module_writes_order_status():
    # when
    writes = [
        w for rel, source in _product_modules() if rel != OWNER for w in status_writes(source, str(rel))
    ]

    # then
    assert writes == [], "Order.status is written outside fulfillment/orders/transitions.py:\n" + "\n".join(
        writes
    )


def test_the_scan_finds_the_transitions_modules_own_writes():
    # given: the owner is scanned like any other module
    source = (ROOT / OWNER).read_text()

    # when
    writes = status_writes(source, str(OWNER))

    # then: its assignment, its saves and its bulk writes are all seen
    assert any("assigns order.status" in w for w in writes)
    assert any("save() of fields with status" in w for w in writes)
    assert any("bulk_update() of fields with status" in w for w in writes)
    assert any("Order(status=...)" in w for w in writes)


@pytest.mark.parametrize(
    "snippet",
    [
        "order.status = Order.Status.SHIPPED",
        "w.order.status = target",
        "o.status = Order.Status.HELD",
        "order.status, order.carrier = 'held', ''",
        "setattr(order, 'status', 'held')",
        "Order.objects.filter(pk=1).update(status='cancelled')",
        "qs.update(status=Order.Status.CANCELLED)",
        "Order.objects.create(store=s, status='held')",
        "Order(store=s, status=Order.Status.HELD)",
        "Order.objects.update_or_create(pk=1, defaults={'status': 'held'})",
        "Order.objects.filter(pk=1).update(**{'status': 'held'})",
        "order.save(update_fields=['status', 'updated_at'])",
        "Order.objects.bulk_update(held, ['status', 'hold_reasons'])",
        "FIELDS = ['amazon_status', 'status']\nOrder.objects.bulk_update(orders, FIELDS)",
        "Order.objects.bulk_create(orders, update_conflicts=True, update_fields=['status'])",
        "changed = []\nchanged.append('status')\norder.save(update_fields=[*changed, 'updated_at'])",
        "def fields(f):\n    return [*f, 'status']\nOrder.objects.bulk_update(orders, fields(f))",
        "cursor.execute('UPDATE fulfillment_order SET status = %s WHERE id = %s', [s, pk])",
    ],
)
def test_the_scan_finds_a_status_write(snippet):
    assert status_writes(snippet), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "delivery.status = WebhookDelivery.Status.SKIPPED",
        "delivery.status, delivery.last_error = WebhookDelivery.Status.FAILED, error",
        "delivery.save(update_fields=['status'])",
        "ImportJob.objects.filter(pk=1).update(status=ImportJob.Status.QUEUED)",
        "WebhookDelivery.objects.order_by('pk').update(status='pending')",
        "self.status = status",
        "order.amazon_status = a.status",
        "Order.objects.filter(status__in=Order.CLOSED_STATUSES).update(recipient='')",
        "Order.objects.bulk_update(orders, ['amazon_status', 'updated_at'])",
        "ok = order.status == Order.Status.HELD",
    ],
)
def test_the_scan_leaves_other_writes_alone(snippet):
    assert status_writes(snippet) == [], snippet
