"""Roles: warehouse admin, warehouse staff, merchant user.

Model permissions come from three groups, created by migration 0002 and kept in
step with new models after every migrate (`roles_sync`). Row scoping comes from
`StoreScopedAdminMixin`, applied to every admin of a store-owned model: a user
scoped to a merchant sees, changes and deletes only rows whose store belongs to
that merchant, in querysets (changelist, change, delete, history, export,
autocomplete) and in object permissions (custom views that load a row by id
and then ask `has_change_permission(request, obj)`), not only in menus.

Who is scoped: a user in "Merchant user" or with a merchant membership, unless
a superuser or in "Warehouse admin"/"Warehouse staff". A scoped user with no
membership sees nothing. Users in no role keep plain Django permissions.
"""

from __future__ import annotations

from django.apps import apps as django_apps
from django.contrib import admin
from django.db.models import Q, QuerySet

WAREHOUSE_ADMIN = "Warehouse admin"
WAREHOUSE_STAFF = "Warehouse staff"
MERCHANT_USER = "Merchant user"
ROLE_NAMES = (WAREHOUSE_ADMIN, WAREHOUSE_STAFF, MERCHANT_USER)

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
    # test database flush, which empties the groups and the alerts schedule.
    if getattr(sender, "label", None) == "ops":
        from fulfillment.ops.schedules import alerts_schedule_ensure

        roles_sync(apps=apps, verbosity=verbosity)
        alerts_schedule_ensure(apps=apps)


# --- Who sees what --------------------------------------------------------------------


def _role_names(user) -> frozenset[str]:
    cached = getattr(user, "_ops_role_names", None)
    if cached is None:
        cached = (
            frozenset(user.groups.values_list("name", flat=True)) if user.is_authenticated else frozenset()
        )
        user._ops_role_names = cached
    return cached


def user_is_scoped(user) -> bool:
    """True when the user may see only its merchants' stores."""
    if not user.is_authenticated:
        return True
    if user.is_superuser:
        return False
    roles = _role_names(user)
    if WAREHOUSE_ADMIN in roles or WAREHOUSE_STAFF in roles:
        return False
    if MERCHANT_USER in roles:
        return True
    cached = getattr(user, "_ops_has_membership", None)
    if cached is None:
        cached = user.merchant_memberships.exists()
        user._ops_has_membership = cached
    return cached


def stores_visible(*, user) -> QuerySet:
    """The stores a user may see: every store, or its merchants' stores (lazy, no query)."""
    from connections.models import Store

    if not user_is_scoped(user):
        return Store.objects.all()
    if not user.is_authenticated:
        return Store.objects.none()
    return Store.objects.filter(merchant__memberships__user_id=user.pk)


def scope_queryset(queryset: QuerySet, *, user, store_path: str) -> QuerySet:
    """`queryset` limited to rows of stores the user may see ("" = the stores themselves)."""
    if not user_is_scoped(user):
        return queryset
    lookup = f"{store_path}__in" if store_path else "pk__in"
    return queryset.filter(**{lookup: stores_visible(user=user).values("pk")})


# --- The admin side ---------------------------------------------------------------------


class ScopedStoreListFilter(admin.RelatedFieldListFilter):
    """The "store" sidebar filter listing only the stores the user may see."""

    def field_choices(self, field, request, model_admin):
        stores = stores_visible(user=request.user).order_by("name").only("pk", "name")
        return [(s.pk, str(s)) for s in stores]


class StoreScopedAdminMixin:
    """Limit an admin of a store-owned model to the stores the user may see.

    `store_path` is the lookup from the model to its store ("store",
    "order__store"; "" for Store itself). Put the mixin first in the bases.
    """

    store_path: str = "store"
    # Fields a scoped user may not change (e.g. a store's merchant or warehouse).
    scoped_readonly_fields: tuple[str, ...] = ()

    def scope_filter(self, request) -> Q | None:
        if not user_is_scoped(request.user):
            return None
        lookup = f"{self.store_path}__in" if self.store_path else "pk__in"
        return Q(**{lookup: stores_visible(user=request.user).values("pk")})

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        q = self.scope_filter(request)
        return queryset if q is None else queryset.filter(q)

    def in_scope(self, request, obj) -> bool:
        if obj is None:
            return True
        q = self.scope_filter(request)
        if q is None:
            return True
        # Asked several times per page (view, change, delete, each inline): once per row.
        cache = request.__dict__.setdefault("_ops_in_scope", {})
        key = (obj._meta.label, obj.pk)
        if key not in cache:
            cache[key] = type(obj)._default_manager.filter(q, pk=obj.pk).exists()
        return cache[key]

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self.in_scope(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self.in_scope(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self.in_scope(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if self.scoped_readonly_fields and user_is_scoped(request.user):
            fields += tuple(f for f in self.scoped_readonly_fields if f not in fields)
        return fields

    def get_list_filter(self, request):
        return [
            ("store", ScopedStoreListFilter) if item == "store" else item
            for item in super().get_list_filter(request)
        ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        from connections.models import Merchant, Store
        from fulfillment.orders.models import Order

        user = request.user
        if user_is_scoped(user):
            if db_field.related_model is Store:
                kwargs["queryset"] = stores_visible(user=user)
            elif db_field.related_model is Order:
                kwargs["queryset"] = scope_queryset(Order.objects.all(), user=user, store_path="store")
            elif db_field.related_model is Merchant:
                kwargs["queryset"] = Merchant.objects.filter(memberships__user_id=user.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class OwnedByUserAdminMixin(StoreScopedAdminMixin):
    """For rows with no store but a creator (import jobs): a scoped user sees its own."""

    owner_path = "created_by"

    def scope_filter(self, request) -> Q | None:
        if not user_is_scoped(request.user):
            return None
        return Q(**{self.owner_path: request.user.pk})
