"""The admin side of every outbound queue: its list columns, the attempt history
on the row's page, and one "Retry now" action (fulfillment.core.outbound).

    class WebhookDeliveryAdmin(OutboundAdminMixin, admin.ModelAdmin):
        list_display = (..., *OutboundAdminMixin.outbound_columns)
        readonly_fields = (..., *OutboundAdminMixin.outbound_fields)
        actions = ("retry",)

        def outbound_retry(self, request, ids) -> str:
            return f"{webhook_deliveries_retry(delivery_ids=ids)} delivery(ies) ..."

Thin: the queue's own service does the retry (each queue knows which of its
states may go again and what else to reset).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html, format_html_join

from fulfillment.core.outbound import OutboundItem, Outcome

# Retrying more rows than this asks first, listing what it would send again
# (the confirmation posts back with post=yes, as Django's own delete confirmation does).
RETRY_CONFIRM_OVER = 1
RETRY_CONFIRM_LISTED = 20
_OUTCOMES = dict(Outcome.choices)


class OutboundAdminMixin:
    outbound_columns = ("attempts", "next_try", "last_error_short")
    outbound_fields = ("attempts", "next_try", "last_attempt_at", "last_error", "attempt_history_table")

    def outbound_retry(self, request, ids: list[int]) -> str:
        """Retry the rows (already scoped to what the user may see); returns the message to show."""
        raise NotImplementedError

    def has_retry_permission(self, request) -> bool:
        # Its own permission, so a queue whose rows are read-only pages still offers the action.
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @admin.action(description="Retry now", permissions=["retry"])
    def retry(self, request, queryset):
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        if len(ids) > RETRY_CONFIRM_OVER and request.POST.get("post") != "yes":
            return TemplateResponse(
                request,
                "admin/outbound_retry_confirm.html",
                {
                    **self.admin_site.each_context(request),
                    "title": f"Retry {len(ids)} {self.opts.verbose_name_plural} now?",
                    "opts": self.opts,
                    "ids": ids,
                    "listed": queryset.order_by("pk")[:RETRY_CONFIRM_LISTED],
                    "more": max(len(ids) - RETRY_CONFIRM_LISTED, 0),
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        self.message_user(request, self.outbound_retry(request, ids), messages.SUCCESS)
        return None

    @admin.display(description="next try", ordering="not_before")
    def next_try(self, obj: OutboundItem):
        # Only a row still waiting has a next try; a finished row's not_before means nothing.
        return obj.not_before if obj.is_waiting else None

    @admin.display(description="last error")
    def last_error_short(self, obj: OutboundItem) -> str:
        text = obj.last_error
        return text if len(text) <= 80 else text[:79] + "…"

    @admin.display(description="attempt history")
    def attempt_history_table(self, obj: OutboundItem) -> str:
        history = list(reversed(obj.attempt_history or []))  # newest first
        if not history:
            return "No attempt recorded yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    entry.get("n", ""),
                    _when(entry.get("at")),
                    _OUTCOMES.get(entry.get("outcome"), entry.get("outcome", "")),
                    entry.get("response_code") or "–",
                    f"{entry['duration_ms']} ms" if entry.get("duration_ms") is not None else "–",
                    entry.get("error") or "",
                )
                for entry in history
            ),
        )
        return format_html(
            '<table class="attempt-history"><thead><tr><th>#</th><th>When</th><th>Outcome</th>'
            "<th>Response</th><th>Duration</th><th>Error</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )


def _when(value) -> str:
    at = parse_datetime(value) if isinstance(value, str) else None
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S %Z") if at else ""
