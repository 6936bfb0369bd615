"""Subscriptions: made when a store is connected, removed when it is not, shown on the
store page; the *Test notification* button proves the loop; the download goes hourly
while the subscription is healthy. Every sync runs twice."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_q.models import Schedule

from connections.models import NotificationDestination, NotificationSubscription, Store
from fulfillment.jobs.schedules import order_pull_schedule_name, schedules_sync
from fulfillment.orders.models import NotificationReceipt
from fulfillment.orders.services.notification_setup import notification_subscriptions_sync
from fulfillment.orders.services.notifications import notifications_consume_once
from sandbox.models import SandboxNotificationDestination, SandboxNotificationSubscription


def test_a_connected_store_is_subscribed_once_with_its_marketplace_and_change_types(
    store, sandbox_seller, sqs_queue, moto_endpoint
):
    first, again = notification_subscriptions_sync(), notification_subscriptions_sync()

    assert (first, again) == ({"changed": 1}, {"unchanged": 1})
    row = NotificationSubscription.objects.get(store=store)
    assert row.state == NotificationSubscription.State.ACTIVE and row.error == ""
    at_amazon = SandboxNotificationSubscription.objects.get()
    assert at_amazon.subscription_id == row.subscription_id
    assert at_amazon.marketplace_ids == ["ATVPDKIKX0DER"]
    assert at_amazon.order_change_types == ["OrderStatusChange", "BuyerRequestedChange"]
    destination = SandboxNotificationDestination.objects.get()
    assert destination.sqs_arn.startswith("arn:aws:sqs:us-east-1:") and destination.sqs_arn.endswith(
        sqs_queue.rsplit("/", 1)[1]
    )
    assert NotificationDestination.objects.get().destination_id == destination.destination_id


def test_an_existing_destination_and_subscription_at_amazon_are_adopted(store, sandbox_seller, sqs_queue):
    notification_subscriptions_sync()
    # Our rows are lost (a restored database): Amazon still has both.
    NotificationSubscription.objects.all().delete()
    NotificationDestination.objects.all().delete()

    first, again = notification_subscriptions_sync(), notification_subscriptions_sync()

    assert (first, again) == ({"changed": 1}, {"unchanged": 1})
    assert SandboxNotificationDestination.objects.count() == 1
    assert SandboxNotificationSubscription.objects.count() == 1
    assert NotificationSubscription.objects.get().state == NotificationSubscription.State.ACTIVE


def test_a_disconnected_store_is_unsubscribed(store, sandbox_seller, sqs_queue):
    notification_subscriptions_sync()
    Store.objects.filter(pk=store.pk).update(authorization_status=Store.Authorization.NEEDS_REAUTHORIZATION)

    first, again = notification_subscriptions_sync(), notification_subscriptions_sync()

    assert (first, again) == ({"changed": 1}, {"unchanged": 1})
    row = NotificationSubscription.objects.get(store=store)
    assert row.state == NotificationSubscription.State.REMOVED and row.subscription_id == ""
    assert not SandboxNotificationSubscription.objects.exists()


def test_without_a_queue_nothing_is_subscribed(store, sandbox_seller, settings):
    settings.SQS_QUEUE_URL = ""
    assert notification_subscriptions_sync() == {"unchanged": 1}
    assert not SandboxNotificationSubscription.objects.exists()


def test_a_refused_subscription_is_recorded_and_retried(store, sandbox_seller, sqs_queue, sandbox_faults):
    sandbox_faults(throttle_storm=True)
    store.refresh_from_db()
    from django.test import override_settings

    with override_settings(SP_API_MAX_ATTEMPTS=1):
        notification_subscriptions_sync()
    row = NotificationSubscription.objects.get(store=store)
    assert row.state == NotificationSubscription.State.FAILED and "exceeded your quota" in row.error

    sandbox_faults(throttle_storm=False)
    notification_subscriptions_sync()
    row.refresh_from_db()
    assert row.state == NotificationSubscription.State.ACTIVE and row.error == ""


def test_the_download_runs_hourly_while_the_subscription_is_healthy(store, sandbox_seller, sqs_queue):
    store.order_pull_minutes = 15
    store.save()
    schedules_sync(store=store)
    assert Schedule.objects.get(name=order_pull_schedule_name(store.pk)).minutes == 15

    notification_subscriptions_sync()  # brings the store's schedules in step itself
    assert Schedule.objects.get(name=order_pull_schedule_name(store.pk)).minutes == 60
    assert schedules_sync(store=store) == {"created": 0, "updated": 0, "deleted": 0}

    NotificationSubscription.objects.filter(store=store).update(state=NotificationSubscription.State.FAILED)
    schedules_sync(store=store)
    assert Schedule.objects.get(name=order_pull_schedule_name(store.pk)).minutes == 15


def test_the_store_page_shows_the_subscription_and_the_test_notification_proves_the_loop(
    admin_client, store, sandbox_seller, sqs_queue, django_capture_on_commit_callbacks
):
    change = reverse("admin:connections_store_change", args=[store.pk])
    response = admin_client.post(
        reverse("admin:connections_store_notifications_setup", args=[store.pk]), follow=True
    )
    assert b"Subscribed to ORDER_CHANGE" in response.content
    page = admin_client.get(change)
    assert b"ORDER_CHANGE notifications" in page.content and b"Active" in page.content
    assert b"Test notification" in page.content

    with django_capture_on_commit_callbacks(execute=True):  # the sandbox sends after its commit
        response = admin_client.post(
            reverse("admin:connections_store_notifications_test", args=[store.pk]), follow=True
        )
    assert b"Test notification sent" in response.content
    row = NotificationSubscription.objects.get(store=store)
    assert row.last_test_sent_at is not None and row.last_test_received_at is None

    first, again = notifications_consume_once(wait_seconds=0), notifications_consume_once(wait_seconds=0)

    assert first["test"] == 1 and again["received"] == 0
    row.refresh_from_db()
    assert row.last_test_received_at is not None
    assert NotificationReceipt.objects.get().outcome == NotificationReceipt.Outcome.TEST


def test_test_notification_without_a_subscription_says_so(admin_client, store, sandbox_seller, sqs_queue):
    response = admin_client.post(
        reverse("admin:connections_store_notifications_test", args=[store.pk]), follow=True
    )
    assert b"has no active ORDER_CHANGE subscription" in response.content


def test_the_dead_letter_admin_lists_and_retries(admin_client, store):
    receipt = NotificationReceipt.objects.create(
        notification_id="n-1", received_at="2026-01-01T00:00Z", outcome="dead", reason="not JSON", body="{"
    )
    page = admin_client.get(reverse("admin:fulfillment_notificationreceipt_changelist") + "?outcome=dead")
    assert page.status_code == 200 and b"not JSON" in page.content
    response = admin_client.post(
        reverse("admin:fulfillment_notificationreceipt_changelist"),
        {"action": "retry", "_selected_action": [receipt.pk]},
        follow=True,
    )
    assert b"Still unreadable" in response.content
    receipt.refresh_from_db()
    assert receipt.outcome == "dead" and receipt.attempts == 2


def test_grantless_operations_refuse_a_sellers_token_and_seller_operations_the_applications(
    store, sandbox_seller, sqs_queue
):
    from connections.amazon import AmazonClient, PermanentAmazonError

    client = AmazonClient(store)
    with pytest.raises(PermanentAmazonError) as refused:
        client._notifications("getDestinations", "GET", "/notifications/v1/destinations", grantless=False)
    assert refused.value.status == 403
    assert client.get_destinations() == []


def test_a_store_connecting_is_subscribed_at_once_and_disconnecting_unsubscribed(
    store, sandbox_seller, sqs_queue, monkeypatch, django_capture_on_commit_callbacks
):
    import django_q.tasks

    from fulfillment.orders import tasks

    ran = []

    def run_now(name, *args):
        ran.append(name)
        return getattr(tasks, name.rsplit(".", 1)[1])(*args)

    monkeypatch.setattr(django_q.tasks, "async_task", run_now)
    # What the store admin, the consent callback and connect_store call once the store is connected:
    with django_capture_on_commit_callbacks(execute=True):
        schedules_sync(store=store)
    with django_capture_on_commit_callbacks(execute=True):
        schedules_sync(store=store)  # in step now: nothing queued
    assert len(ran) == 1
    assert NotificationSubscription.objects.get(store=store).state == NotificationSubscription.State.ACTIVE
    assert Schedule.objects.get(name=order_pull_schedule_name(store.pk)).minutes == 60

    Store.objects.filter(pk=store.pk).update(is_active=False)
    store.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        schedules_sync(store=store)
    with django_capture_on_commit_callbacks(execute=True):
        schedules_sync(store=store)
    assert len(ran) == 2
    assert NotificationSubscription.objects.get(store=store).state == NotificationSubscription.State.REMOVED
    assert not SandboxNotificationSubscription.objects.exists()


def test_setup_notifications_command(store, sandbox_seller, sqs_queue, capsys, settings):
    from django.core.management import call_command

    call_command("setup_notifications")
    call_command("setup_notifications")
    assert capsys.readouterr().out.splitlines() == [
        "notification subscriptions: 1 changed, 0 unchanged",
        "notification subscriptions: 0 changed, 1 unchanged",
    ]
    settings.SQS_QUEUE_URL = ""
    with pytest.raises(Exception, match="SQS_QUEUE_URL"):
        call_command("setup_notifications")


def test_deleting_a_store_in_the_admin_unsubscribes_it_at_amazon(
    admin_client, store, sandbox_seller, sqs_queue
):
    notification_subscriptions_sync()
    assert SandboxNotificationSubscription.objects.count() == 1

    response = admin_client.post(
        reverse("admin:connections_store_delete", args=[store.pk]), {"post": "yes"}, follow=True
    )

    assert response.status_code == 200 and not Store.objects.filter(pk=store.pk).exists()
    assert not SandboxNotificationSubscription.objects.exists()
