"""Row scoping in the admin: every admin of a store-owned model uses `StoreScopedAdminMixin`.

A user scoped to a merchant sees, changes and deletes only rows whose store
belongs to that merchant, in querysets (changelist, change, delete, history,
export, autocomplete) and in object permissions (custom views that load a row
by id and then ask `has_change_permission(request, obj)`), not only in menus.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q

from connections.scoping import scope_queryset, stores_visible, user_is_scoped


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

        user, related = request.user, db_field.related_model
        if user_is_scoped(user):
            if related is Store:
                kwargs["queryset"] = stores_visible(user=user)
            elif related is Merchant:
                kwargs["queryset"] = Merchant.objects.filter(memberships__user_id=user.pk)
            elif any(f.name == "store" and f.related_model is Store for f in related._meta.fields):
                # A store-owned row (an order, a shipment's order, ...): its store's visibility.
                kwargs["queryset"] = scope_queryset(
                    related._default_manager.all(), user=user, store_path="store"
                )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class OwnedByUserAdminMixin(StoreScopedAdminMixin):
    """For rows with no store but a creator (import jobs): a scoped user sees its own."""

    owner_path = "created_by"

    def scope_filter(self, request) -> Q | None:
        if not user_is_scoped(request.user):
            return None
        return Q(**{self.owner_path: request.user.pk})
