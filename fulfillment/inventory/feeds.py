"""JSON_LISTINGS_FEED documents for the inventory push, and their processing reports.

Every document is validated against Amazon's official schemas
(`listings-feed-schema-v2.json`, and each message against
`listings-feed-message-schema-v2.json`) before upload. Validation uses
jsonschema-rs: Python's jsonschema needs ~3.4 s for one 25,000-message
document, jsonschema-rs ~15 ms, which is what lets 100,000 SKUs build in
well under the 5 s budget. Both implement the same JSON Schema draft 7.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache

import jsonschema_rs

from connections.amazon_models import load

FEED_TYPE = "JSON_LISTINGS_FEED"
CONTENT_TYPE = "application/json; charset=UTF-8"
# Amazon's limit per JSON_LISTINGS_FEED document (the schema's maxItems).
FEED_MAX_MESSAGES = 25_000
FULFILLMENT_AVAILABILITY_PATH = "/attributes/fulfillment_availability"
PRODUCT_TYPE = "PRODUCT"

FEED_SCHEMA = "listings-feed-schema-v2.json"
MESSAGE_SCHEMA = "listings-feed-message-schema-v2.json"
LISTINGS_ITEMS_MODEL = "listingsItems_2021-08-01.json"
# JSON Patch `replace` sets the whole attribute: a value without the handling
# time (or restock date) makes Amazon drop the one the merchant set in Seller
# Central. `merge` (in the op enum of all three vendored schemas since June
# 2025) changes only the properties sent, in the entry of the same channel.
AVAILABILITY_PATCH_OP = "merge"

# One planned message: (sku, quantity, lead_time or None, channel_code).
Item = tuple[str, int, "int | None", str]


class FeedDocumentInvalid(Exception):
    """The document we built breaks Amazon's schema: nothing is uploaded."""

    def __init__(self, errors: list[str]):
        super().__init__(
            "; ".join(errors[:5]) + (f" (and {len(errors) - 5} more)" if len(errors) > 5 else "")
        )
        self.errors = errors


@cache
def _validator(name: str):
    return jsonschema_rs.validator_for(load(name))


@cache
def _messages_validator():
    # The message schema applied to every element of `messages`.
    schema = {key: value for key, value in load(MESSAGE_SCHEMA).items() if key != "$schema"}
    return jsonschema_rs.Draft7Validator({"type": "array", "items": schema})


@cache
def _patch_request_validator():
    # patchListingsItem's body: the model's ListingsItemPatchRequest with its definitions.
    model = load(LISTINGS_ITEMS_MODEL)
    return jsonschema_rs.Draft4Validator(
        {"$ref": "#/definitions/ListingsItemPatchRequest", "definitions": model["definitions"]}
    )


def _short(text: str) -> str:
    # jsonschema-rs quotes the whole failing instance: keep messages readable in the admin.
    return text if len(text) <= 300 else text[:150] + " … " + text[-120:]


def feed_document_errors(document) -> list[str]:
    """Each way `document` breaks the feed or message schema (empty: valid)."""
    errors = [
        f"{'/'.join(map(str, e.instance_path)) or '(root)'}: {_short(e.message)}"
        for e in _validator(FEED_SCHEMA).iter_errors(document)
    ]
    messages = document.get("messages") if isinstance(document, dict) else None
    if isinstance(messages, list):
        errors += [
            f"messages/{'/'.join(map(str, e.instance_path))}: {_short(e.message)}"
            for e in _messages_validator().iter_errors(messages)
        ]
    return errors


def patch_request_errors(body) -> list[str]:
    """Each way a patchListingsItem body breaks the Listings Items model (empty: valid)."""
    return [
        f"{'/'.join(map(str, e.instance_path)) or '(root)'}: {_short(e.message)}"
        for e in _patch_request_validator().iter_errors(body)
    ]


def availability_value(*, quantity: int, lead_time: int | None, channel_code: str) -> list[dict]:
    """The fulfillment_availability attribute value.

    The handling time goes with every quantity when the store sets one; when
    it does not, the value leaves it out and the merge keeps the listing's own.
    """
    entry: dict = {"fulfillment_channel_code": channel_code, "quantity": quantity}
    if lead_time is not None:
        entry["lead_time_to_ship_max_days"] = lead_time
    return [entry]


def availability_patches(*, quantity: int, lead_time: int | None, channel_code: str) -> list[dict]:
    return [
        {
            "op": AVAILABILITY_PATCH_OP,
            "path": FULFILLMENT_AVAILABILITY_PATH,
            "value": availability_value(quantity=quantity, lead_time=lead_time, channel_code=channel_code),
        }
    ]


def feed_document_build(*, seller_id: str, items: Sequence[Item]) -> dict:
    if len(items) > FEED_MAX_MESSAGES:
        raise ValueError(f"{len(items)} messages; a feed document takes at most {FEED_MAX_MESSAGES}.")
    return {
        "header": {"sellerId": seller_id, "version": "2.0", "issueLocale": "en_US"},
        "messages": [
            {
                "messageId": index,
                "sku": sku,
                "operationType": "PATCH",
                "productType": PRODUCT_TYPE,
                "patches": availability_patches(quantity=quantity, lead_time=lead, channel_code=channel),
            }
            for index, (sku, quantity, lead, channel) in enumerate(items, start=1)
        ],
    }


def patch_request_build(*, quantity: int, lead_time: int | None, channel_code: str) -> dict:
    """A validated patchListingsItem body; FeedDocumentInvalid if it breaks the model."""
    body = {
        "productType": PRODUCT_TYPE,
        "patches": availability_patches(quantity=quantity, lead_time=lead_time, channel_code=channel_code),
    }
    errors = patch_request_errors(body)
    if errors:
        raise FeedDocumentInvalid(errors)
    return body


def feed_document_bytes(*, seller_id: str, items: Sequence[Item]) -> bytes:
    """The validated document as UTF-8 bytes; FeedDocumentInvalid if it breaks the schema."""
    document = feed_document_build(seller_id=seller_id, items=items)
    return feed_document_serialize(document)


def feed_document_serialize(document: dict) -> bytes:
    errors = feed_document_errors(document)
    if errors:
        raise FeedDocumentInvalid(errors)
    # ensure_ascii=False + UTF-8: SKUs keep their characters; compact separators keep it small.
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def feed_chunks(items: Sequence[Item], *, size: int | None = None) -> Iterator[Sequence[Item]]:
    size = size or FEED_MAX_MESSAGES
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class FeedOutcome:
    """A processing report read back: per message, accepted or Amazon's error messages."""

    fatal: bool = False
    errors: dict[int, list[str]] = field(default_factory=dict)  # messageId -> messages
    feed_errors: list[str] = field(default_factory=list)  # issues without a messageId

    def accepted_ids(self, message_count: int) -> list[int]:
        if self.fatal:
            return []
        return [i for i in range(1, message_count + 1) if i not in self.errors]


def processing_report_read(content: bytes, *, fatal: bool = False) -> FeedOutcome:
    """Parse a JSON_LISTINGS_FEED processing report (listings-feed-processing-report-schema-v2)."""
    outcome = FeedOutcome(fatal=fatal)
    try:
        report = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        outcome.fatal = True
        outcome.feed_errors.append("Amazon's processing report did not parse.")
        return outcome
    for issue in report.get("issues") or []:
        if not isinstance(issue, dict) or issue.get("severity") != "ERROR":
            continue  # warnings do not stop a message being accepted
        text = str(issue.get("message") or issue.get("code") or "error")
        if issue.get("code"):
            text = f"{text} ({issue['code']})"
        message_id = issue.get("messageId")
        if isinstance(message_id, int):
            outcome.errors.setdefault(message_id, []).append(text)
        else:
            outcome.feed_errors.append(text)
    return outcome
