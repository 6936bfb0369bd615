"""Roles: warehouse admin, warehouse staff, merchant user.

Model permissions come from three groups, created by migration 0002 and kept in
step with new models after every migrate (`roles_sync`). Row scoping (who sees
which merchant's rows) lives with the stores: connections/scoping.py and
connections/admin_scoping.py.
"""

from __future__ import annotations

from django.apps import apps as django_apps

from connections.scoping import MERCHANT_USER, ROLE_NAMES, WAREHOUSE_ADMIN, WAREHOUSE_STAFF

__all__ = ["MERCHANT_USER", "ROLE_NAMES", "WAREHOUSE_ADMIN", "WAREHOUSE_STAFF", "roles_sync"]

_VIEW = ("view",)
_EDIT = ("view", "change")
_ALL = ("view", "add", "change", "delete")

# Held by the Warehouse admin group alone (it holds every permission), never by
# staff or merchant users whatever their lists say: finalizing a merchant's
# authorization is what connects a store to Amazon (connections/admin.py).
WAREHOUSE_ADMIN_ONLY: frozenset[tuple[str, str, str]] = frozenset(
    {("connections", "store", "finalize_store_authorization")}
)

# Warehouse staff: orders, shipments, mappings, imports, sync runs. No
# credentials: no WMS keys, webhooks, sandbox, users, and no store editing
# (the store page holds the authorization flow and its secrets).
STAFF_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "fulfillment.order": ("view", "change", "view_order_address"),
    "jobs.syncrun": _VIEW,
    "fulfillment.unreadableorder": _EDIT,
    "fulfillment.warehouse": _VIEW,
    "confirmations.shipment": ("view", "add"),
    "inventory.inventorylevel": ("view", "add", "change"),
    "inventory.inventorychange": _VIEW,
    "inventory.heldinventorysnapshot": _EDIT,
    "confirmations.shipmentconfirmation": _EDIT,
    "inventory.inventorypush": _EDIT,
    "inventory.inventoryfeed": _VIEW,
    "inventory.listingstate": _VIEW,
    "inventory.storeinventorysettings": _VIEW,
    "mappings.skumapping": _ALL,
    "mappings.shippingmethodmapping": _ALL,
    "mappings.carriermapping": _ALL,
    "mappings.importjob": ("view", "add"),
    "connections.store": _VIEW,
    "connections.merchantlink": _VIEW,
    "connections.merchant": _VIEW,
    "connections.marketplace": _VIEW,
    "connections.acceptedcarrier": _VIEW,
    "ops.alertsent": _VIEW,
}

# Merchant user: what staff may do with store-owned rows, only for its own
# stores (the scoping mixin), plus its own stores' settings and authorization.
MERCHANT_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "fulfillment.order": ("view", "change", "view_order_address"),
    "jobs.syncrun": _VIEW,
    "fulfillment.unreadableorder": _EDIT,
    "confirmations.shipment": ("view", "add"),
    "confirmations.shipmentconfirmation": _EDIT,
    "inventory.inventorypush": _EDIT,
    "inventory.inventoryfeed": _VIEW,
    "inventory.listingstate": _VIEW,
    "inventory.storeinventorysettings": _VIEW,
    "mappings.skumapping": _ALL,
    "mappings.shippingmethodmapping": _ALL,
    "mappings.carriermapping": _ALL,
    "mappings.importjob": ("view", "add"),
    "connections.store": _EDIT,
    "connections.merchantlink": _VIEW,
    "connections.marketplace": _VIEW,
    "connections.acceptedcarrier": _VIEW,
}


def _codenames(spec: dict[str, tuple[str, ...]]) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for label, actions in spec.items():
        app_label, model = label.split(".")
        out[(app_label, model)] = {a if "_" in a else f"{a}_{model}" for a in actions}
    return out


def roles_sync(*, apps=django_apps, verbosity: int = 0) -> None:
    """Create the three groups and give each exactly its permissions (idempotent).

    Works with a migration's historical `apps` too: permissions normally appear
    only after migrate, so they are created here first.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # Historical app configs have no models_module, and the helper skips those.
        had = getattr(app_config, "models_module", None)
        app_config.models_module = had or True
        try:
            create_permissions(app_config, verbosity=verbosity, apps=apps)
        finally:
            app_config.models_module = had

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    every = list(
        Permission.objects.values_list("pk", "content_type__app_label", "content_type__model", "codename")
    )

    def pick(spec: dict[str, tuple[str, ...]]) -> list[int]:
        wanted = _codenames(spec)
        return [
            pk
            for pk, app, model, code in every
            if code in wanted.get((app, model), ()) and (app, model, code) not in WAREHOUSE_ADMIN_ONLY
        ]

    wanted_by_role = {
        WAREHOUSE_ADMIN: [pk for pk, *_ in every],
        WAREHOUSE_STAFF: pick(STAFF_PERMISSIONS),
        MERCHANT_USER: pick(MERCHANT_PERMISSIONS),
    }
    for name, permission_ids in wanted_by_role.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permission_ids)


def roles_sync_after_migrate(sender, *, apps=django_apps, verbosity: int = 0, **kwargs) -> None:
    # post_migrate is sent once per app: sync once, on ours. It also follows a
    # test database flush, which empties the groups. (Schedules are not made
    # here: fulfillment/jobs/schedules.py owns them.)
    if getattr(sender, "label", None) == "ops":
        roles_sync(apps=apps, verbosity=verbosity)


# --- Who sees what --------------------------------------------------------------------
