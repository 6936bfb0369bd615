"""Job runs in the admin: failed first, read-only."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Case, When

from connections.admin_scoping import StoreScopedAdminMixin
from fulfillment.jobs.models import SyncRun


@admin.register(SyncRun)
class SyncRunAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ("started_at", "store", "kind", "ok", "summary", "api_calls", "throttled", "short_error")
    list_filter = ("kind", "ok", "store")
    list_select_related = ("store",)
    show_full_result_count = False
    readonly_fields = (
        "store",
        "kind",
        "started_at",
        "finished_at",
        "ok",
        "counts",
        "api_calls",
        "throttled",
        "error",
        "notes",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        # Failed runs first, then running ones, then the rest; newest first within each.
        return (
            super()
            .get_queryset(request)
            .annotate(_failed_first=Case(When(ok=False, then=0), When(ok__isnull=True, then=1), default=2))
            .order_by("_failed_first", "-started_at")
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="counts")
    def summary(self, run: SyncRun) -> str:
        return ", ".join(f"{v} {k}" for k, v in run.counts.items() if v)

    @admin.display(description="error")
    def short_error(self, run: SyncRun) -> str:
        return run.error[:120]
