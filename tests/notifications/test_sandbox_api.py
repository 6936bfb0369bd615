"""The sandbox's Notifications API refuses what Amazon's model does not allow."""

from __future__ import annotations

import pytest

from connections.amazon import AmazonClient, PermanentAmazonError
from sandbox.models import SandboxNotificationSubscription


def test_a_subscription_to_an_unknown_destination_is_refused(store, sandbox_seller, sqs_queue):
    with pytest.raises(PermanentAmazonError) as refused:
        AmazonClient(store).create_order_change_subscription(destination_id="no-such-destination")
    assert refused.value.status == 400
    assert not SandboxNotificationSubscription.objects.exists()


def test_a_second_subscription_of_the_same_type_conflicts_and_a_destination_too(
    store, sandbox_seller, sqs_queue
):
    client = AmazonClient(store)
    arn = "arn:aws:sqs:us-east-1:123456789012:q"
    destination = client.create_destination(name="d", sqs_arn=arn)
    with pytest.raises(PermanentAmazonError) as conflict:
        client.create_destination(name="d", sqs_arn=arn)
    assert conflict.value.status == 409
    client.create_order_change_subscription(destination_id=destination["destinationId"])
    with pytest.raises(PermanentAmazonError) as conflict:
        client.create_order_change_subscription(destination_id=destination["destinationId"])
    assert conflict.value.status == 409


def test_a_destination_that_is_not_an_sqs_arn_is_refused(store, sandbox_seller, sqs_queue):
    with pytest.raises(PermanentAmazonError) as refused:
        AmazonClient(store).create_destination(name="d", sqs_arn="https://example.com/queue")
    assert refused.value.status == 400


def test_deleting_an_unknown_subscription_counts_as_deleted(store, sandbox_seller, sqs_queue):
    AmazonClient(store).delete_subscription("no-such-subscription")  # 404: already gone


def test_get_subscription_without_one_is_none(store, sandbox_seller, sqs_queue):
    assert AmazonClient(store).get_order_change_subscription() is None
