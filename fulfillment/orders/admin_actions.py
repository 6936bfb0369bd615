"""Admin actions that queue a job per store (used on StoreAdmin).

Nothing in the request waits on Amazon: each action queues a django-q2 task
with the store id only, once the request's transaction commits.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django_q.tasks import async_task

from connections.models import Store
from fulfillment.jobs.schedules import ORDER_PULL_TASK


def queue_per_store(
    modeladmin,
    request,
    queryset,
    *,
    task: str,
    args: tuple = (),
    eligible: Callable[[Store], bool],
    queued_message: str,
    skipped_message: str,
) -> None:
    queued = skipped = 0
    # The changelist's queryset joins marketplace and warehouse; drop that:
    # only the flags and the id are read.
    for store in queryset.select_related(None).only(
        "pk", "is_active", "authorization_status", "inventory_sync_enabled"
    ):
        if not eligible(store):
            skipped += 1
            continue
        transaction.on_commit(lambda pk=store.pk: async_task(task, pk, *args))
        queued += 1
    if queued:
        modeladmin.message_user(request, queued_message.format(count=queued), messages.SUCCESS)
    if skipped:
        modeladmin.message_user(request, skipped_message.format(count=skipped), messages.WARNING)


def _connected(store: Store) -> bool:
    return store.is_active and store.is_connected


@admin.action(description="Pull orders now")
def pull_orders_now(modeladmin, request, queryset) -> None:
    queue_per_store(
        modeladmin,
        request,
        queryset,
        task=ORDER_PULL_TASK,
        eligible=_connected,
        queued_message="Order download queued for {count} store(s); see Sync runs.",
        skipped_message="{count} store(s) skipped: inactive or not connected.",
    )


# --- Resync a date range ---------------------------------------------------------

# One run reads every order created in the range: a month keeps it to minutes.
RESYNC_MAX_DAYS = 31


class ResyncForm(forms.Form):
    first_day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    last_day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self):
        data = super().clean()
        first, last = data.get("first_day"), data.get("last_day")
        if first and last:
            if first > last:
                raise forms.ValidationError("The first day comes after the last day.")
            if last > self.today:
                raise forms.ValidationError("The last day is in the future.")
            if (last - first).days + 1 > RESYNC_MAX_DAYS:
                raise forms.ValidationError(f"At most {RESYNC_MAX_DAYS} days at a time.")
        return data


def resync_view(modeladmin, request, store: Store):
    """The page behind *Resync a date range*: queue the reconciliation of those days."""
    from fulfillment.orders.tasks import RESYNC_TASK

    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(store.warehouse.time_zone))
    form = ResyncForm(
        request.POST or None,
        today=today,
        initial={"first_day": today - dt.timedelta(days=7), "last_day": today},
    )
    runs_url = (
        reverse("admin:jobs_syncrun_changelist") + f"?store__id__exact={store.pk}&kind__exact=reconcile"
    )
    back_url = reverse("admin:connections_store_change", args=[store.pk])
    if request.method == "POST" and form.is_valid():
        if not _connected(store):
            modeladmin.message_user(
                request, "The store is inactive or not connected to Amazon: nothing queued.", messages.ERROR
            )
            return HttpResponseRedirect(back_url)
        first, last = form.cleaned_data["first_day"], form.cleaned_data["last_day"]
        transaction.on_commit(lambda: async_task(RESYNC_TASK, store.pk, first.isoformat(), last.isoformat()))
        modeladmin.message_user(
            request,
            format_html(
                "Resync of {} for orders created {} to {} queued; the result shows on its "
                '<a href="{}">Order reconciliation run</a>.',
                store,
                first,
                last,
                runs_url,
            ),
            messages.SUCCESS,
        )
        return HttpResponseRedirect(back_url)
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"Resync a date range: {store}",
        "store": store,
        "form": form,
        "opts": modeladmin.opts,
        "runs_url": runs_url,
        "back_url": back_url,
    }
    return TemplateResponse(request, "orders/resync.html", context)


@admin.action(description="Resync a date range…")
def resync_date_range(modeladmin, request, queryset):
    """Opens the store's resync page (one store at a time: a range is per store)."""
    stores = list(queryset.values_list("pk", flat=True)[:2])
    if len(stores) != 1:
        modeladmin.message_user(request, "Choose one store to resync a date range.", messages.WARNING)
        return None
    return HttpResponseRedirect(reverse("admin:connections_store_resync", args=[stores[0]]))
