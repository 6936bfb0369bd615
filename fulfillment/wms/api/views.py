"""WMS API views: authenticate, scope to the key's warehouse, call services."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfillment.inventory.levels import InventoryRejected, inventory_update
from fulfillment.orders.models import WMS_SHIP_BY_KEY, Order, OrderLine
from fulfillment.privacy.services import buyer_data_fields, buyer_data_listed_to_wms, buyer_data_sent_to_wms
from fulfillment.shipments.models import Shipment, ShipmentLine
from fulfillment.shipments.services.recording import (
    PackageLocked,
    PackageNotFound,
    ShipmentConflict,
    shipment_correct,
    shipment_record,
)
from fulfillment.wms.api.authentication import HasWmsKey, WmsKeyAuthentication
from fulfillment.wms.api.pagination import OrderCursorPagination
from fulfillment.wms.api.serializers import (
    CancellationSerializer,
    ErrorSerializer,
    InventoryHeldSerializer,
    InventoryInSerializer,
    InventoryOutSerializer,
    OrderSerializer,
    ShipmentConflictSerializer,
    ShipmentInSerializer,
    ShipmentOutSerializer,
)
from fulfillment.wms.selectors import wms_cancellations, wms_order_rows, wms_order_rows_payload, wms_orders
from fulfillment.wms.services import (
    OrderConflict,
    ShipmentRejected,
    cancellation_acknowledge,
    order_acknowledge,
)

_ERRORS = {
    401: OpenApiResponse(ErrorSerializer, description="No key, an unknown key or a revoked key."),
}
_FIELD_ERRORS = OpenApiResponse(
    inline_serializer(
        "FieldErrors",
        {"field": serializers.ListField(child=serializers.CharField())},
    ),
    description="Field errors (field name → messages; `lines.<i>`/`items.<i>` for the i-th entry). "
    "Nothing was written.",
)


class WmsView:
    authentication_classes = (WmsKeyAuthentication,)
    permission_classes = (HasWmsKey,)

    @property
    def warehouse(self):
        return self.request.auth.warehouse


def _with_lines(queryset):
    # A fixed number of queries whatever the page size: store joined, lines in one query.
    lines = OrderLine.objects.order_by("order_item_id")
    return queryset.select_related("store").prefetch_related(Prefetch("lines", queryset=lines))


@extend_schema(tags=["orders"])
class OrderListView(WmsView, generics.ListAPIView):
    serializer_class = OrderSerializer
    pagination_class = OrderCursorPagination

    @extend_schema(
        summary="Orders of this warehouse (released and after)",
        description="By ship-by (orders without one last), then id, 100 a page. Follow `next` until it "
        "is null: it carries an opaque `cursor`, and a page costs the same at any depth (no count). "
        "The `page` parameter of earlier versions still answers with `count` and `previous` but is "
        "deprecated.",
        parameters=[
            OpenApiParameter(
                "status",
                str,
                enum=[s for s in Order.Status.values if s != Order.Status.HELD],
                description="Only orders in this status, e.g. released: the new work.",
            )
        ],
        responses={200: OrderSerializer(many=True), 400: _FIELD_ERRORS, **_ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        # Rows in, plain dicts out (OrderSerializer's shape, built by wms.selectors as for
        # one order): a page of 100 orders through model instances and serializer fields
        # spent most of its time in Python.
        rows = self.paginate_queryset(self.get_queryset())
        orders, line_gifts = wms_order_rows_payload(rows=rows)
        response = self.get_paginated_response(orders)
        # Amazon's DPP: each order's ship_to (and gift message) sent is audited.
        shown = {
            row["id"]: buyer_data_fields(
                address=bool(row["recipient"]),
                gift_message=bool(row["gift_message"]) or row["id"] in line_gifts,
            )
            for row in rows
        }
        buyer_data_listed_to_wms(request=request, shown=shown, via="api_orders")
        return response

    def get_queryset(self):
        orders = wms_orders(warehouse=self.warehouse)
        wanted = self.request.query_params.get("status")
        if wanted is not None:
            if wanted not in Order.Status.values or wanted == Order.Status.HELD:
                raise ValidationError({"status": [f"unknown status {wanted!r}"]})
            orders = orders.filter(status=wanted)
        # Ship-by with orders without one last, then id: the cursor's order and its index's.
        return wms_order_rows(orders.alias(ship_by_key=WMS_SHIP_BY_KEY).order_by("ship_by_key", "pk"))


@extend_schema(tags=["orders"])
class OrderDetailView(WmsView, generics.RetrieveAPIView):
    serializer_class = OrderSerializer

    @extend_schema(summary="One order", responses={200: OrderSerializer, 404: ErrorSerializer, **_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        order = self.get_object()
        response = Response(self.get_serializer(order).data)
        buyer_data_sent_to_wms(request=request, orders=[order], via="api_order")
        return response

    def get_queryset(self):
        return _with_lines(wms_orders(warehouse=self.warehouse))


def _acknowledge(request, func, pk: int, serializer_class):
    try:
        order = func(warehouse=request.auth.warehouse, order_id=pk)
    except Order.DoesNotExist as e:
        raise Http404 from e
    except OrderConflict as e:
        return Response({"detail": str(e)}, status=status.HTTP_409_CONFLICT)
    order = _with_lines(Order.objects.filter(pk=order.pk)).get()
    return Response(serializer_class(order).data)


@extend_schema(tags=["orders"])
class OrderAcknowledgeView(WmsView, APIView):
    @extend_schema(
        summary="The WMS has taken the order (released → acknowledged; idempotent)",
        request=None,
        responses={
            200: OrderSerializer,
            404: ErrorSerializer,
            409: OpenApiResponse(ErrorSerializer, description="The order is cancelled."),
            **_ERRORS,
        },
    )
    def post(self, request, pk: int):
        return _acknowledge(request, order_acknowledge, pk, OrderSerializer)


@extend_schema(tags=["cancellations"])
class CancellationListView(WmsView, generics.ListAPIView):
    serializer_class = CancellationSerializer

    @extend_schema(
        summary="Released orders the WMS must stop and has not acknowledged stopping",
        responses={200: CancellationSerializer(many=True), **_ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return (
            wms_cancellations(warehouse=self.warehouse)
            .select_related("store")
            .order_by("wms_stop_requested_at", "pk")
        )


@extend_schema(tags=["cancellations"])
class CancellationAcknowledgeView(WmsView, APIView):
    @extend_schema(
        summary="The WMS has stopped the order (idempotent)",
        request=None,
        responses={
            200: CancellationSerializer,
            404: ErrorSerializer,
            409: OpenApiResponse(ErrorSerializer, description="Nothing to acknowledge on this order."),
            **_ERRORS,
        },
    )
    def post(self, request, pk: int):
        try:
            order = cancellation_acknowledge(warehouse=request.auth.warehouse, order_id=pk)
        except Order.DoesNotExist as e:
            raise Http404 from e
        except OrderConflict as e:
            return Response({"detail": str(e)}, status=status.HTTP_409_CONFLICT)
        order = Order.objects.select_related("store").get(pk=order.pk)
        return Response(CancellationSerializer(order).data)


def _shipment_body(shipment: Shipment) -> dict:
    # A package just recorded carries its order and lines (recording.shipment_record): no reads.
    if "lines" not in getattr(shipment, "_prefetched_objects_cache", {}):
        shipment = (
            Shipment.objects.select_related("order")
            .prefetch_related(Prefetch("lines", queryset=ShipmentLine.objects.select_related("order_line")))
            .get(pk=shipment.pk)
        )
    return ShipmentOutSerializer(shipment).data


@extend_schema(tags=["shipments"])
class ShipmentCreateView(WmsView, APIView):
    @extend_schema(
        summary="Record one package (idempotent by order and package_id)",
        description="The same package sent again answers 200 with the same body if its data are the same, "
        "409 with each difference if not (correct a package with PUT).",
        request=ShipmentInSerializer,
        responses={
            201: OpenApiResponse(ShipmentOutSerializer, description="Recorded."),
            200: OpenApiResponse(ShipmentOutSerializer, description="This package was recorded before."),
            400: _FIELD_ERRORS,
            409: OpenApiResponse(
                ShipmentConflictSerializer,
                description="This package id was recorded before with other data: nothing changed.",
            ),
            **_ERRORS,
        },
    )
    def post(self, request):
        incoming = ShipmentInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            # The answer is built inside the transaction: a failure after the
            # write rolls it back, so a 500 never hides a recorded package.
            with transaction.atomic():
                # This transaction is the package's alone (an error rolls it all back): no
                # savepoint inside it.
                shipment, created = shipment_record(
                    warehouse=self.warehouse,
                    data=incoming.to_input(),
                    source=Shipment.Source.API,
                    savepoint=False,
                )
                body = _shipment_body(shipment)
        except ShipmentRejected as e:
            return Response(e.errors, status=status.HTTP_400_BAD_REQUEST)
        except ShipmentConflict as e:
            return Response({"detail": str(e), "differences": e.differences}, status=status.HTTP_409_CONFLICT)
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        summary="Correct a package Amazon has not accepted yet (same order and package_id, new data)",
        description="Replaces the package's carrier, service, tracking number, ship date and lines; its "
        "confirmation to Amazon starts over. Sending the stored data again changes nothing. A package "
        "Amazon accepted (or a person settled in Seller Central), or one being sent right now, answers 409.",
        request=ShipmentInSerializer,
        responses={
            200: OpenApiResponse(ShipmentOutSerializer, description="Corrected (or already so)."),
            400: _FIELD_ERRORS,
            404: OpenApiResponse(ErrorSerializer, description="No such package on this order: POST it."),
            409: OpenApiResponse(ErrorSerializer, description="Amazon has it (or may have it) already."),
            **_ERRORS,
        },
    )
    def put(self, request):
        incoming = ShipmentInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                shipment, _ = shipment_correct(
                    warehouse=self.warehouse, data=incoming.to_input(), source=Shipment.Source.API
                )
                body = _shipment_body(shipment)
        except ShipmentRejected as e:
            return Response(e.errors, status=status.HTTP_400_BAD_REQUEST)
        except PackageNotFound as e:
            return Response({"detail": str(e)}, status=status.HTTP_404_NOT_FOUND)
        except PackageLocked as e:
            return Response({"detail": str(e)}, status=status.HTTP_409_CONFLICT)
        return Response(body)


@extend_schema(tags=["inventory"])
class InventoryView(WmsView, APIView):
    @extend_schema(
        summary="Available quantity per warehouse SKU (complete: true zeroes every SKU not listed)",
        description="A complete snapshot that would set more than INVENTORY_SNAPSHOT_ZERO_GUARD_PERCENT "
        "(default 50) of the warehouse's SKUs in stock to 0, or all of them, is held for a person "
        "(202, nothing written) who applies or discards it in the admin.",
        request=InventoryInSerializer,
        responses={
            200: InventoryOutSerializer,
            202: OpenApiResponse(InventoryHeldSerializer, description="Held for a person; nothing written."),
            400: _FIELD_ERRORS,
            **_ERRORS,
        },
    )
    def put(self, request):
        incoming = InventoryInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            result = inventory_update(
                warehouse=self.warehouse,
                items=data["items"],
                complete=data["complete"],
                sent_by=f"API key {self.request.auth.name}",
            )
        except InventoryRejected as e:
            return Response(e.errors, status=status.HTTP_400_BAD_REQUEST)
        if result.held is not None:
            held = result.held
            body = {
                "held": True,
                "snapshot_id": held.pk,
                "stocked": held.stocked,
                "zeroing": held.zeroing,
                "detail": f"{held.reason} Nothing was written: a person applies or discards it in the "
                "admin (Held inventory snapshots).",
            }
            return Response(InventoryHeldSerializer(body).data, status=status.HTTP_202_ACCEPTED)
        return Response(InventoryOutSerializer(result).data)
