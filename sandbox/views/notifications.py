"""Notifications API v1: destinations (grantless), ORDER_CHANGE subscriptions, the test notification."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from ..api import error_response, json_body, sp_api_operation
from ..errors import SpApiError
from ..models import SandboxAccessToken, SandboxNotificationSubscription
from ..notifications import (
    destination_as_wire,
    destination_create,
    sandbox_test_notification_send,
    subscription_as_wire,
    subscription_create,
)


def _refusal(exc: SpApiError) -> JsonResponse:
    return error_response(exc.status, exc.code, exc.message, exc.details)


@sp_api_operation("getDestinations", grantless=True)
def _destinations_list(request: HttpRequest, access: SandboxAccessToken) -> JsonResponse:
    from ..models import SandboxNotificationDestination

    rows = SandboxNotificationDestination.objects.filter(application=access.application)
    return JsonResponse({"payload": [destination_as_wire(d) for d in rows]})


@sp_api_operation("createDestination", grantless=True)
def _destination_create(request: HttpRequest, access: SandboxAccessToken) -> JsonResponse:
    try:
        destination = destination_create(application=access.application, body=json_body(request))
    except SpApiError as exc:
        return _refusal(exc)
    return JsonResponse({"payload": destination_as_wire(destination)})


@csrf_exempt
def destinations(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _destination_create(request)
    if request.method == "GET":
        return _destinations_list(request)
    return error_response(405, "MethodNotAllowed", "GET or POST.")


def _subscription(access: SandboxAccessToken, notification_type: str):
    return (
        SandboxNotificationSubscription.objects.select_related("destination")
        .filter(application=access.application, seller=access.seller, notification_type=notification_type)
        .first()
    )


@sp_api_operation("getSubscription")
def _subscription_get(
    request: HttpRequest, access: SandboxAccessToken, notification_type: str
) -> JsonResponse:
    found = _subscription(access, notification_type)
    if found is None:
        return error_response(404, "NotFound", "The subscription does not exist.")
    return JsonResponse({"payload": subscription_as_wire(found)})


@sp_api_operation("createSubscription")
def _subscription_create(
    request: HttpRequest, access: SandboxAccessToken, notification_type: str
) -> JsonResponse:
    try:
        created = subscription_create(
            application=access.application,
            seller=access.seller,
            notification_type=notification_type,
            body=json_body(request),
        )
    except SpApiError as exc:
        return _refusal(exc)
    return JsonResponse({"payload": subscription_as_wire(created)})


@csrf_exempt
def subscriptions(request: HttpRequest, notification_type: str) -> HttpResponse:
    if request.method == "POST":
        return _subscription_create(request, notification_type=notification_type)
    if request.method == "GET":
        return _subscription_get(request, notification_type=notification_type)
    return error_response(405, "MethodNotAllowed", "GET or POST.")


@sp_api_operation("deleteSubscriptionById", grantless=True)
def _subscription_delete(
    request: HttpRequest, access: SandboxAccessToken, notification_type: str, subscription_id: str
) -> JsonResponse:
    deleted, _ = SandboxNotificationSubscription.objects.filter(
        application=access.application, notification_type=notification_type, subscription_id=subscription_id
    ).delete()
    if not deleted:
        return error_response(404, "NotFound", "The subscription does not exist.")
    return JsonResponse({})


@csrf_exempt
def subscription_by_id(request: HttpRequest, notification_type: str, subscription_id: str) -> HttpResponse:
    if request.method == "DELETE":
        return _subscription_delete(
            request, notification_type=notification_type, subscription_id=subscription_id
        )
    return error_response(405, "MethodNotAllowed", "DELETE.")


@sp_api_operation("sendTestNotification", grantless=True)
def _test_notification(
    request: HttpRequest, access: SandboxAccessToken, notification_type: str
) -> JsonResponse:
    try:
        sandbox_test_notification_send(application=access.application, body=json_body(request))
    except SpApiError as exc:
        return _refusal(exc)
    return JsonResponse({})


@csrf_exempt
def test_notification(request: HttpRequest, notification_type: str) -> HttpResponse:
    if request.method != "POST":
        return error_response(405, "MethodNotAllowed", "POST.")
    return _test_notification(request, notification_type=notification_type)
