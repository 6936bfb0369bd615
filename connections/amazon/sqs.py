"""The application's SQS queue (boto3): where Amazon delivers ORDER_CHANGE notifications.

Configured by SQS_QUEUE_URL, AWS_REGION and SQS_ENDPOINT_URL (moto in the demo
and the tests); credentials come from the usual AWS environment. Message
bodies are never logged (they name buyers' postal codes).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings


class QueueError(Exception):
    """SQS did not answer as asked (the consumer retries on its next poll)."""


@dataclass(frozen=True)
class QueueMessage:
    message_id: str
    receipt_handle: str
    body: str
    receive_count: int


def notifications_enabled() -> bool:
    return bool(settings.SQS_QUEUE_URL)


@functools.cache
def _client(region: str, endpoint: str):
    config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30)
    return boto3.client("sqs", region_name=region, endpoint_url=endpoint or None, config=config)


def sqs_client():
    return _client(settings.AWS_REGION, settings.SQS_ENDPOINT_URL)


def queue_arn(queue_url: str | None = None) -> str:
    try:
        answer = sqs_client().get_queue_attributes(
            QueueUrl=queue_url or settings.SQS_QUEUE_URL, AttributeNames=["QueueArn"]
        )
    except (BotoCoreError, ClientError) as exc:
        raise QueueError(f"SQS did not give the queue's ARN ({type(exc).__name__}).") from exc
    return answer["Attributes"]["QueueArn"]


def messages_receive(
    *, max_messages: int = 10, wait_seconds: int = 20, visibility_seconds: int = 300
) -> list[QueueMessage]:
    """One long poll: up to 10 messages, hidden from other consumers for `visibility_seconds`."""
    try:
        answer = sqs_client().receive_message(
            QueueUrl=settings.SQS_QUEUE_URL,
            MaxNumberOfMessages=max(1, min(10, max_messages)),
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=visibility_seconds,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
    except (BotoCoreError, ClientError) as exc:
        raise QueueError(f"SQS receive failed ({type(exc).__name__}).") from exc
    return [
        QueueMessage(
            message_id=m["MessageId"],
            receipt_handle=m["ReceiptHandle"],
            body=m.get("Body", ""),
            receive_count=int((m.get("Attributes") or {}).get("ApproximateReceiveCount", 1)),
        )
        for m in answer.get("Messages", [])
    ]


def message_delete(message: QueueMessage) -> None:
    try:
        sqs_client().delete_message(QueueUrl=settings.SQS_QUEUE_URL, ReceiptHandle=message.receipt_handle)
    except (BotoCoreError, ClientError) as exc:
        # Not fatal: the message comes back and is found handled (NotificationId).
        raise QueueError(f"SQS delete failed ({type(exc).__name__}).") from exc


def queue_depth() -> int:
    """Messages waiting (approximate), for the dashboard and the bench."""
    try:
        answer = sqs_client().get_queue_attributes(
            QueueUrl=settings.SQS_QUEUE_URL,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )
    except (BotoCoreError, ClientError) as exc:
        raise QueueError(f"SQS attributes failed ({type(exc).__name__}).") from exc
    attrs = answer.get("Attributes", {})
    return int(attrs.get("ApproximateNumberOfMessages", 0)) + int(
        attrs.get("ApproximateNumberOfMessagesNotVisible", 0)
    )


def message_retry_later(message: QueueMessage, seconds: int) -> None:
    """Let the message come back in `seconds` (instead of the long receive visibility)."""
    try:
        sqs_client().change_message_visibility(
            QueueUrl=settings.SQS_QUEUE_URL, ReceiptHandle=message.receipt_handle, VisibilityTimeout=seconds
        )
    except (BotoCoreError, ClientError) as exc:
        raise QueueError(f"SQS visibility change failed ({type(exc).__name__}).") from exc
