"""Feeds API 2021-06-30 and the presigned document URLs it hands out."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ..api import error_response, json_body, sp_api_operation
from ..errors import SpApiError
from ..listings import (
    sandbox_feed_advance,
    sandbox_feed_create,
    sandbox_feed_document_create,
    sandbox_feed_document_upload,
)
from ..models import SandboxAccessToken, SandboxFeed, SandboxFeedDocument
from ..selectors import iso


@require_POST
@sp_api_operation("createFeedDocument")
def create_feed_document(request: HttpRequest, access: SandboxAccessToken) -> JsonResponse:
    body = json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("contentType"), str) or not body["contentType"]:
        return error_response(400, "InvalidInput", "contentType is required.")
    document = sandbox_feed_document_create(seller=access.seller, content_type=body["contentType"])
    url = request.build_absolute_uri(reverse("sandbox:feed-upload", args=[document.document_id]))
    return JsonResponse({"feedDocumentId": document.document_id, "url": url}, status=201)


@csrf_exempt
@require_http_methods(["PUT"])
def upload(request: HttpRequest, document_id: str) -> HttpResponse:
    """Stands in for S3's presigned PUT URL (no SP-API token, like S3)."""
    if not sandbox_feed_document_upload(
        document_id=document_id, content=request.body, content_type=request.headers.get("Content-Type", "")
    ):
        return HttpResponse(b"NoSuchKey", status=404, content_type="text/plain")
    return HttpResponse(status=200)


@require_GET
def download(request: HttpRequest, document_id: str) -> HttpResponse:
    """Stands in for S3's presigned GET URL of a processing report."""
    document = SandboxFeedDocument.objects.filter(document_id=document_id).exclude(content=None).first()
    if document is None:
        return HttpResponse(b"NoSuchKey", status=404, content_type="text/plain")
    return HttpResponse(bytes(document.content), content_type=document.content_type)


@require_POST
@sp_api_operation("createFeed")
def create_feed(request: HttpRequest, access: SandboxAccessToken) -> JsonResponse:
    try:
        feed = sandbox_feed_create(seller=access.seller, body=json_body(request))
    except SpApiError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.details)
    return JsonResponse({"feedId": feed.feed_id}, status=202)


def feed_as_wire(feed: SandboxFeed) -> dict:
    wire = {
        "feedId": feed.feed_id,
        "feedType": feed.feed_type,
        "marketplaceIds": feed.marketplace_ids,
        "createdTime": iso(feed.created_time),
        "processingStatus": feed.status,
    }
    if feed.processing_start_time:
        wire["processingStartTime"] = iso(feed.processing_start_time)
    if feed.processing_end_time:
        wire["processingEndTime"] = iso(feed.processing_end_time)
    if feed.result_document_id:
        wire["resultFeedDocumentId"] = feed.result_document.document_id
    return wire


@require_GET
@sp_api_operation("getFeed")
def get_feed(request: HttpRequest, access: SandboxAccessToken, feed_id: str) -> JsonResponse:
    feed = SandboxFeed.objects.filter(seller=access.seller, feed_id=feed_id).first()
    if feed is None:
        return error_response(404, "NotFound", f"Feed {feed_id} was not found.")
    feed = sandbox_feed_advance(feed=feed)
    return JsonResponse(feed_as_wire(feed))


@require_GET
@sp_api_operation("getFeedDocument")
def get_feed_document(request: HttpRequest, access: SandboxAccessToken, document_id: str) -> JsonResponse:
    document = SandboxFeedDocument.objects.filter(seller=access.seller, document_id=document_id).first()
    if document is None:
        return error_response(404, "NotFound", f"Feed document {document_id} was not found.")
    url = request.build_absolute_uri(reverse("sandbox:feed-download", args=[document.document_id]))
    return JsonResponse({"feedDocumentId": document.document_id, "url": url})
