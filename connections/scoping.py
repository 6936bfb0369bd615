"""Who may see which stores: row scoping by merchant.

Who is scoped: a user in "Merchant user" or with a merchant membership, unless
a superuser or in "Warehouse admin"/"Warehouse staff". A scoped user with no
membership sees nothing. Users in no role keep plain Django permissions.
The groups themselves and their permissions are fulfillment/ops/roles.py's.
"""

from __future__ import annotations

from django.db.models import QuerySet

WAREHOUSE_ADMIN = "Warehouse admin"
WAREHOUSE_STAFF = "Warehouse staff"
MERCHANT_USER = "Merchant user"
ROLE_NAMES = (WAREHOUSE_ADMIN, WAREHOUSE_STAFF, MERCHANT_USER)


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
