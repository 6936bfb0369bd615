"""The store changelist offers the jobs as actions that only queue tasks."""

import pytest
from django.urls import reverse
from django_q.models import OrmQ

from connections.models import Store
from tests.factories import make_store


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("action", "task"),
    [
        ("pull_orders_now", "order_pull_task"),
        ("push_inventory_now", "inventory_push_task"),
        ("push_inventory_full_now", "inventory_push_task"),
    ],
)
def test_it_queues_one_task_per_connected_store(
    admin_client, django_capture_on_commit_callbacks, action, task
):
    # given
    connected = make_store()
    not_connected = make_store(authorization_status=Store.Authorization.NOT_CONNECTED, selling_partner_id="")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:connections_store_changelist"),
            {"action": action, "_selected_action": [connected.pk, not_connected.pk]},
            follow=True,
        )

    # then
    assert response.status_code == 200
    queued = [q.task for q in OrmQ.objects.all()]
    assert len(queued) == 1
    assert task in queued[0]["func"]
    assert queued[0]["args"][0] == connected.pk
    text = response.content.decode()
    assert "queued for 1 store(s)" in text
    assert "1 store(s) skipped" in text
