"""Listings and feeds of the emulated Amazon: quantities arrive by feed or by patch.

A listing holds one `fulfillment_availability` entry (channel code, quantity,
handling time, restock date). Patches to it follow JSON Patch and Amazon:
`replace` (and `add`, which RFC 6902 makes a replace on an existing member)
sets the whole attribute to the value sent, so whatever the value does not
carry is gone; `merge` changes only the properties sent, in the entry with the
same `fulfillment_channel_code` (an entry for another channel has nothing to
keep and stands as sent); `delete` removes the offer's availability.

Feeds are processed lazily when getFeed looks at them (no worker needed):
IN_QUEUE for the first half of SANDBOX_FEED_PROCESSING_SECONDS, IN_PROGRESS
for the second, then processed once and DONE.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connections.models import Marketplace

from .amazon_models import schema_errors, schema_validator
from .errors import SpApiError
from .models import SandboxFeed, SandboxFeedDocument, SandboxListing, SandboxSeller

FULFILLMENT_AVAILABILITY_PATH = "/attributes/fulfillment_availability"
SUPPORTED_FEED_TYPES = {"JSON_LISTINGS_FEED"}


def sandbox_listing_upsert(
    *,
    seller: SandboxSeller,
    sku: str,
    marketplace_code: str = "US",
    quantity: int = 0,
    asin: str = "",
    title: str = "",
    lead_time_to_ship_max_days: int | None = None,
    restock_date: dt.date | None = None,
    fulfillment_channel_code: str = "DEFAULT",
) -> SandboxListing:
    listing, _ = SandboxListing.objects.update_or_create(
        seller=seller,
        marketplace=Marketplace.objects.get(code=marketplace_code),
        sku=sku,
        defaults=dict(
            quantity=quantity,
            asin=asin,
            title=title or sku,
            lead_time_to_ship_max_days=lead_time_to_ship_max_days,
            restock_date=restock_date,
            fulfillment_channel_code=fulfillment_channel_code,
        ),
    )
    return listing


def _availability_problems(value) -> list[str]:
    """What is wrong with a `fulfillment_availability` attribute value (empty: fine)."""
    if not isinstance(value, list) or not value:
        return ["'fulfillment_availability' must be a non-empty list."]
    problems = []
    for entry in value:
        if not isinstance(entry, dict) or not entry.get("fulfillment_channel_code"):
            problems.append("'fulfillment_channel_code' is required but not supplied.")
            continue
        quantity = entry.get("quantity")
        if quantity is not None and (
            isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0
        ):
            problems.append(f"The value '{quantity}' for 'quantity' must be a whole number of 0 or more.")
        lead = entry.get("lead_time_to_ship_max_days")
        if lead is not None and (isinstance(lead, bool) or not isinstance(lead, int) or not 0 <= lead <= 30):
            problems.append(f"The value '{lead}' for 'lead_time_to_ship_max_days' must be between 0 and 30.")
        restock = entry.get("restock_date")
        if restock is not None and not _is_date(restock):
            problems.append(f"The value '{restock}' for 'restock_date' must be a date (YYYY-MM-DD).")
    return problems


def _is_date(value) -> bool:
    try:
        return isinstance(value, str) and bool(dt.date.fromisoformat(value))
    except ValueError:
        return False


def _restock_date(value) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else None


def _apply_availability(listings: list[SandboxListing], value: list[dict], *, op: str = "replace") -> None:
    """Apply a fulfillment_availability value by `op` ("replace" or "merge") to each listing."""
    for listing in listings:
        if op == "merge":
            # Merge matches entries by channel code; the listing's own entry
            # keeps every property the value does not send.
            entry = next(
                (e for e in value if e["fulfillment_channel_code"] == listing.fulfillment_channel_code), None
            )
            if entry is not None:
                if "quantity" in entry:
                    listing.quantity = entry["quantity"]
                if "lead_time_to_ship_max_days" in entry:
                    listing.lead_time_to_ship_max_days = entry["lead_time_to_ship_max_days"]
                if "restock_date" in entry:
                    listing.restock_date = _restock_date(entry["restock_date"])
                listing.save(
                    update_fields=["quantity", "lead_time_to_ship_max_days", "restock_date", "updated_at"]
                )
                continue
        # replace (or a merge bringing another channel's entry): exactly what was sent.
        entry = value[0]
        listing.fulfillment_channel_code = entry["fulfillment_channel_code"]
        listing.quantity = entry.get("quantity", 0)
        listing.lead_time_to_ship_max_days = entry.get("lead_time_to_ship_max_days")
        listing.restock_date = _restock_date(entry.get("restock_date"))
        listing.save(
            update_fields=[
                "fulfillment_channel_code",
                "quantity",
                "lead_time_to_ship_max_days",
                "restock_date",
                "updated_at",
            ]
        )


def _availability_from(operation: str, message: dict) -> tuple[list | None, str, list[str]]:
    """The fulfillment_availability a message sets, how ("replace" or "merge"), or problems."""
    if operation in ("UPDATE", "PARTIAL_UPDATE"):
        # Attributes given whole replace what the listing had.
        value = message.get("attributes", {}).get("fulfillment_availability")
        if value is None:
            return None, "replace", []
        return value, "replace", _availability_problems(value)
    # PATCH
    for patch in message.get("patches", []):
        if patch.get("path") != FULFILLMENT_AVAILABILITY_PATH:
            continue
        op = patch.get("op")
        if op == "delete":
            return [{"fulfillment_channel_code": "DEFAULT", "quantity": 0}], "replace", []
        value = patch.get("value")
        return value, "merge" if op == "merge" else "replace", _availability_problems(value)
    return None, "replace", []


def sandbox_listing_patch(
    *, seller: SandboxSeller, sku: str, marketplace_ids: list[str], body
) -> tuple[str, list[dict]]:
    """patchListingsItem: (status, issues). Only fulfillment_availability changes anything here."""
    if not isinstance(body, dict):
        raise SpApiError(status=400, code="InvalidInput", message="The request body is not valid JSON.")
    errors = schema_errors(body, schema="listingsItemPatchRequest.json")
    if errors:
        raise SpApiError(
            status=400, code="InvalidInput", message="The request body is invalid.", details="; ".join(errors)
        )
    listings = list(
        SandboxListing.objects.filter(seller=seller, sku=sku, marketplace__marketplace_id__in=marketplace_ids)
    )
    if not listings:
        return "INVALID", [
            _issue("4000001", f"SKU '{sku}' does not exist for this seller in these marketplaces.")
        ]
    value, op, problems = _availability_from("PATCH", body)
    if problems:
        return "INVALID", [_issue("90244", p, "fulfillment_availability") for p in problems]
    if value is not None:
        _apply_availability(listings, value, op=op)
    return "ACCEPTED", []


def _issue(code: str, message: str, attribute: str | None = None) -> dict:
    """Listings Items `Issue` (categories is required by the model)."""
    category = "INVALID_ATTRIBUTE" if attribute else "MISSING_ATTRIBUTE"
    issue = {"code": code, "message": message, "severity": "ERROR", "categories": [category]}
    if attribute:
        issue["attributeNames"] = [attribute]
    return issue


# --- Feeds -----------------------------------------------------------------------------


def sandbox_feed_document_create(*, seller: SandboxSeller, content_type: str) -> SandboxFeedDocument:
    return SandboxFeedDocument.objects.create(
        document_id=f"amzn1.tortuga.4.na.{secrets.token_hex(16)}", seller=seller, content_type=content_type
    )


def sandbox_feed_document_upload(*, document_id: str, content: bytes, content_type: str) -> bool:
    """The presigned PUT: False when no such document awaits content."""
    return bool(
        SandboxFeedDocument.objects.filter(document_id=document_id).update(
            content=content,
            content_type=content_type or "application/octet-stream",
            uploaded_at=timezone.now(),
        )
    )


def sandbox_feed_create(*, seller: SandboxSeller, body) -> SandboxFeed:
    if not isinstance(body, dict) or not all(
        k in body for k in ("feedType", "marketplaceIds", "inputFeedDocumentId")
    ):
        raise SpApiError(
            status=400,
            code="InvalidInput",
            message="feedType, marketplaceIds and inputFeedDocumentId are required.",
        )
    if body["feedType"] not in SUPPORTED_FEED_TYPES:
        raise SpApiError(status=400, code="InvalidInput", message=f"Invalid feedType: {body['feedType']}.")
    marketplace_ids = body["marketplaceIds"]
    known = set(seller.marketplaces.values_list("marketplace_id", flat=True))
    if not isinstance(marketplace_ids, list) or not marketplace_ids or not set(marketplace_ids) <= known:
        raise SpApiError(status=400, code="InvalidInput", message="Invalid marketplaceIds for this seller.")
    document = SandboxFeedDocument.objects.filter(
        document_id=body["inputFeedDocumentId"], seller=seller
    ).first()
    if document is None or document.uploaded_at is None:
        raise SpApiError(
            status=400,
            code="InvalidInput",
            message="inputFeedDocumentId does not name an uploaded feed document.",
        )
    return SandboxFeed.objects.create(
        feed_id=f"{secrets.randbelow(9 * 10**10) + 10**10}",
        seller=seller,
        feed_type=body["feedType"],
        marketplace_ids=marketplace_ids,
        input_document=document,
        created_time=timezone.now(),
    )


def sandbox_feed_advance(*, feed: SandboxFeed, now: dt.datetime | None = None) -> SandboxFeed:
    """Move a feed along its life as time passes; process it exactly once."""
    if feed.status in (SandboxFeed.Status.DONE, SandboxFeed.Status.FATAL, SandboxFeed.Status.CANCELLED):
        return feed
    now = now or timezone.now()
    duration = dt.timedelta(seconds=float(getattr(settings, "SANDBOX_FEED_PROCESSING_SECONDS", 5.0)))
    elapsed = now - feed.created_time
    if elapsed < duration / 2:
        return feed
    with transaction.atomic():
        feed = SandboxFeed.objects.select_for_update().get(pk=feed.pk)
        if feed.status == SandboxFeed.Status.IN_QUEUE:
            feed.status = SandboxFeed.Status.IN_PROGRESS
            feed.processing_start_time = now
            feed.save(update_fields=["status", "processing_start_time"])
        if feed.status == SandboxFeed.Status.IN_PROGRESS and elapsed >= duration:
            _feed_process(feed=feed, now=now)
    return feed


def _feed_process(*, feed: SandboxFeed, now: dt.datetime) -> None:
    report, fatal = listings_feed_report(feed=feed)
    document = SandboxFeedDocument.objects.create(
        document_id=f"amzn1.tortuga.4.na.{secrets.token_hex(16)}",
        seller=feed.seller,
        content_type="application/json",
        content=json.dumps(report).encode("utf-8"),
        uploaded_at=now,
    )
    feed.result_document = document
    feed.status = SandboxFeed.Status.FATAL if fatal else SandboxFeed.Status.DONE
    feed.processing_end_time = now
    feed.messages_accepted = report["summary"]["messagesAccepted"]
    feed.messages_invalid = report["summary"]["messagesInvalid"]
    feed.save(
        update_fields=[
            "result_document",
            "status",
            "processing_end_time",
            "messages_accepted",
            "messages_invalid",
        ]
    )


def listings_feed_report(*, feed: SandboxFeed) -> tuple[dict, bool]:
    """Apply a JSON_LISTINGS_FEED and build its processing report (and whether it was fatal)."""
    header = {"sellerId": feed.seller.selling_partner_id, "version": "2.0", "feedId": feed.feed_id}
    issues: list[dict] = []
    try:
        document = json.loads(bytes(feed.input_document.content or b"").decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        document = None
    if not isinstance(document, dict) or not isinstance(document.get("messages"), list):
        issues.append(
            {"code": "100001", "severity": "ERROR", "message": "The feed is not a valid JSON listings feed."}
        )
        return _report(header, issues, processed=0, accepted=0, invalid=0), True

    # Schema errors under messages/<i> belong to that message; any other error is the whole feed's.
    invalid_by_index: dict[int, list[str]] = {}
    feed_errors = []
    for error in schema_validator("listings-feed-schema-v2.json").iter_errors(document):
        path = list(error.absolute_path)
        if len(path) >= 2 and path[0] == "messages" and isinstance(path[1], int):
            invalid_by_index.setdefault(path[1], []).append(error.message)
        else:
            feed_errors.append(error.message)
    if feed_errors:
        for message in feed_errors:
            issues.append({"code": "100001", "severity": "ERROR", "message": message})
        return _report(header, issues, processed=0, accepted=0, invalid=0), True

    listings = {
        (listing.sku, listing.marketplace.marketplace_id): listing
        for listing in SandboxListing.objects.filter(
            seller=feed.seller, marketplace__marketplace_id__in=feed.marketplace_ids
        ).select_related("marketplace")
    }
    accepted = invalid = 0
    for index, message in enumerate(document["messages"]):
        message_id = message.get("messageId") if isinstance(message, dict) else None
        sku = message.get("sku") if isinstance(message, dict) else None
        base = {}
        if isinstance(message_id, int) and message_id >= 1:
            base["messageId"] = message_id
        if isinstance(sku, str) and sku:
            base["sku"] = sku
        problems = invalid_by_index.get(index)
        if problems:
            invalid += 1
            issues.extend({**base, "code": "4000003", "severity": "ERROR", "message": p} for p in problems)
            continue
        targets = [listings[(sku, m)] for m in feed.marketplace_ids if (sku, m) in listings]
        if not targets:
            invalid += 1
            issues.append(
                {**base, "code": "4000001", "severity": "ERROR", "message": f"SKU '{sku}' does not exist."}
            )
            continue
        operation = message["operationType"]
        if operation == "DELETE":
            for listing in targets:
                listing.delete()
                listings.pop((sku, listing.marketplace.marketplace_id), None)
            accepted += 1
            continue
        value, op, problems = _availability_from(operation, message)
        if problems:
            invalid += 1
            issues.extend(
                {
                    **base,
                    "code": "90244",
                    "severity": "ERROR",
                    "message": p,
                    "attributeName": "fulfillment_availability",
                }
                for p in problems
            )
            continue
        if value is not None:
            _apply_availability(targets, value, op=op)
        accepted += 1
    return _report(header, issues, processed=accepted + invalid, accepted=accepted, invalid=invalid), False


def _report(header: dict, issues: list[dict], *, processed: int, accepted: int, invalid: int) -> dict:
    return {
        "header": header,
        "issues": issues,
        "summary": {
            "errors": sum(1 for i in issues if i["severity"] == "ERROR"),
            "warnings": sum(1 for i in issues if i["severity"] == "WARNING"),
            "messagesProcessed": processed,
            "messagesAccepted": accepted,
            "messagesInvalid": invalid,
        },
    }
