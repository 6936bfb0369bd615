"""Held inventory snapshots in the admin: look, then Apply or Discard on a confirmation page.

Warehouse-level data: merchant-scoped users get nothing here.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from connections.scoping import user_is_scoped
from fulfillment.inventory.levels import snapshot_apply
from fulfillment.inventory.models import HeldInventorySnapshot
from fulfillment.inventory.snapshots import (
    snapshot_changes_since,
    snapshot_discard,
    snapshot_zeroing_skus,
)

_DECISIONS = {
    "apply": ("Apply", "Apply this snapshot"),
    "discard": ("Discard", "Discard this snapshot"),
}


@admin.register(HeldInventorySnapshot)
class HeldInventorySnapshotAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "warehouse",
        "state",
        "source",
        "item_count",
        "stocked",
        "zeroing",
        "sent_by",
    )
    list_filter = ("state", "warehouse", "source")
    list_select_related = ("warehouse",)
    show_full_result_count = False
    fields = (
        "warehouse",
        "state",
        "reason",
        "source",
        "sent_by",
        "item_count",
        "stocked",
        "zeroing",
        "created_at",
        "decided_by",
        "decided_at",
        "decision_note",
    )
    readonly_fields = fields
    change_form_template = "inventory/held_snapshot_change_form.html"

    def get_queryset(self, request):
        # The snapshot itself (up to 100,000 items) is not needed to list or show one.
        return super().get_queryset(request).defer("items")

    def has_module_permission(self, request) -> bool:
        return not user_is_scoped(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return not user_is_scoped(request.user) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return not user_is_scoped(request.user) and super().has_change_permission(request, obj)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        return [
            path(
                f"<int:pk>/{decision}/",
                self.admin_site.admin_view(self.decide_view),
                {"decision": decision},
                name=f"inventory_heldinventorysnapshot_{decision}",
            )
            for decision in _DECISIONS
        ] + super().get_urls()

    def decide_view(self, request: HttpRequest, pk: int, decision: str):
        if decision not in _DECISIONS or not self.has_change_permission(request):
            raise PermissionDenied
        snapshot = get_object_or_404(HeldInventorySnapshot, pk=pk)
        back = reverse("admin:inventory_heldinventorysnapshot_change", args=[snapshot.pk])
        if snapshot.state != HeldInventorySnapshot.State.HELD:
            messages.warning(request, f"This snapshot is already {snapshot.get_state_display().lower()}.")
            return HttpResponseRedirect(back)
        if request.method == "POST":
            act = snapshot_apply if decision == "apply" else snapshot_discard
            if act(snapshot=snapshot, user=request.user):
                snapshot.refresh_from_db()
                messages.success(request, f"Snapshot {snapshot.pk}: {snapshot.decision_note}")
            else:
                messages.warning(request, "Someone decided on this snapshot first: nothing changed.")
            return HttpResponseRedirect(back)
        zeroing_skus, zeroing_total = snapshot_zeroing_skus(snapshot=snapshot)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _DECISIONS[decision][1],
            "snapshot": snapshot,
            "decision": decision,
            "button": _DECISIONS[decision][0],
            "zeroing_skus": zeroing_skus,
            "zeroing_total": zeroing_total,
            "changes_since": snapshot_changes_since(snapshot=snapshot),
        }
        return TemplateResponse(request, "inventory/held_snapshot_confirm.html", context)
