"""Admin URLs of another merchant: every admin action, POSTed with another merchant's
row ids, changes nothing and queues nothing.

tests/ops/test_roles.py (issue 10) walks every changelist, change, delete and
history URL and the custom views; this adds the actions ("Pull orders now",
"Retry", "Revoke", "Confirm and push", ...), whose ids come from the request
body rather than the URL. The merchant roles and fixtures are issue 10's.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.forms.models import model_to_dict
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse
from django_q.models import OrmQ

from connections.models import AcceptedCarrier, Marketplace, Store
from fulfillment.jobs.models import JobLock, SyncRun
from tests.factories import ROW_MAKERS
from tests.ops.conftest import merchant_a, merchant_b, merchant_client, merchant_user, store_a  # noqa: F401

SHARED_REFERENCE = {Marketplace, AcceptedCarrier}


@pytest.fixture
def foreign_rows(merchant_user, store_a, merchant_b):  # noqa: F811
    """Two rows of every admin model with actions, none of them merchant A's."""
    models = [m for m in admin.site._registry if m not in SHARED_REFERENCE]
    for model in models:
        if model in ROW_MAKERS:
            ROW_MAKERS[model](2)
    Store.objects.exclude(pk=store_a.pk).update(merchant=merchant_b)
    rows = {}
    for model in models:
        queryset = model._default_manager.all()
        if model is Store:
            queryset = queryset.exclude(pk=store_a.pk)
        if model._meta.label == "auth.User":
            queryset = queryset.exclude(pk=merchant_user.pk)
        rows[model] = list(queryset.order_by("pk"))
    return rows


def _snapshot(objs) -> list[dict]:
    return [model_to_dict(type(o)._default_manager.get(pk=o.pk)) for o in objs if o.pk is not None]


def test_every_admin_action_on_another_merchants_rows_does_nothing(
    merchant_client,  # noqa: F811
    merchant_user,  # noqa: F811
    foreign_rows,
    django_capture_on_commit_callbacks,
    tally,
):
    request = RequestFactory().get("/admin/")
    request.user = merchant_user
    runs, locks = SyncRun.objects.count(), JobLock.objects.count()
    tried = 0
    for model, objs in foreign_rows.items():
        if not objs:
            continue
        model_admin = admin.site._registry[model]
        try:
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        except NoReverseMatch:
            continue
        # The actions as a warehouse admin would have them: the merchant tries them all.
        request.user.is_superuser = True
        actions = list(model_admin.get_actions(request))
        request.user.is_superuser = False
        for action in actions:
            before = _snapshot(objs)
            queued = OrmQ.objects.count()

            with django_capture_on_commit_callbacks(execute=True):
                response = merchant_client.post(
                    url,
                    {
                        "action": action,
                        "_selected_action": [str(o.pk) for o in objs],
                        "post": "yes",
                        "email": "attacker@example.com",
                        "index": "0",
                    },
                )

            assert response.status_code in (200, 302, 403), (model, action, response.status_code)
            assert _snapshot(objs) == before, (model._meta.label, action)
            assert OrmQ.objects.count() == queued, (model._meta.label, action, "queued a task")
            tried += 1
    assert tried >= 5
    assert (SyncRun.objects.count(), JobLock.objects.count()) == (runs, locks)
    tally("admin actions POSTed with another merchant's ids", tried)
