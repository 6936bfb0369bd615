"""The WMS order list's pages: a cursor on (ship-by, id), no COUNT, any depth.

A page number means OFFSET (the database reads and drops every row before the
page) and a COUNT(*) of the whole list on every page; with tens of thousands
of released orders polled by several WMS workers that is most of the work.
The cursor is the last order's place in the list's order (ship-by with orders
without one last, then id): the next page is one index range
(`order_wms_queue_idx`) however deep. A WMS follows `next` until it is null;
the cursor is opaque (base64 of JSON) and stays valid while orders change:
each order is listed once, in order, and a new one appears where it sorts.

`?page=N` (the previous page-number pagination, with `count`) still answers
the same way for clients written against it; it is deprecated.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json

from django.db.models import Q
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from fulfillment.orders.models import SHIP_BY_NONE, WMS_SHIP_BY_KEY

PAGE_SIZE = 100


def cursor_encode(*, ship_by_key: dt.datetime, pk: int) -> str:
    raw = json.dumps([ship_by_key.isoformat(), pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[dt.datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, pk = json.loads(raw)
        key = dt.datetime.fromisoformat(at)
        if key.tzinfo is None or isinstance(pk, bool) or not isinstance(pk, int):
            raise ValueError(cursor)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as e:
        raise ValidationError({"cursor": ["not a cursor of this list: follow `next` as given"]}) from e
    return key, pk


class OrderCursorPagination(BasePagination):
    """Orders in (ship-by, id) order, PAGE_SIZE a page, `next` carrying the cursor."""

    page_size = PAGE_SIZE
    cursor_query_param = "cursor"

    def __init__(self):
        self.legacy: PageNumberPagination | None = None
        self.next_cursor: str | None = None
        self.request = None

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        if "page" in request.query_params:
            self.legacy = PageNumberPagination()
            return self.legacy.paginate_queryset(queryset, request, view)
        ordered = queryset.alias(ship_by_key=WMS_SHIP_BY_KEY).order_by("ship_by_key", "pk")
        cursor = request.query_params.get(self.cursor_query_param)
        if cursor:
            key, pk = cursor_decode(cursor)
            # `>= key` is the index range; the OR only settles ties on the same ship-by.
            ordered = ordered.filter(Q(ship_by_key__gte=key) & (Q(ship_by_key__gt=key) | Q(pk__gt=pk)))
        rows = list(ordered[: self.page_size + 1])
        page, more = rows[: self.page_size], len(rows) > self.page_size
        if more:
            # Rows (wms.selectors.wms_order_rows), not model instances.
            last = page[-1]
            key = last["ship_by_latest"] or SHIP_BY_NONE
            self.next_cursor = cursor_encode(ship_by_key=key, pk=last["id"])
        return page

    def get_next_link(self) -> str | None:
        if self.next_cursor is None:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), "page")
        return replace_query_param(url, self.cursor_query_param, self.next_cursor)

    def get_paginated_response(self, data):
        if self.legacy is not None:
            return self.legacy.get_paginated_response(data)
        return Response({"next": self.get_next_link(), "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page (carries `cursor`); null on the last page.",
                },
                "count": {
                    "type": "integer",
                    "description": "Only with the deprecated `page` parameter: the number of orders.",
                },
                "previous": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "Only with the deprecated `page` parameter.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Where the page starts: the value in the previous page's `next`. "
                f"Pages of {self.page_size} orders, by ship-by (orders without one last), then id; "
                "no count is given.",
                "schema": {"type": "string"},
            },
            {
                "name": "page",
                "required": False,
                "in": "query",
                "deprecated": True,
                "description": "Deprecated page number (answers with `count`, `previous`; slow deep in "
                "the list): follow `next` instead.",
                "schema": {"type": "integer"},
            },
        ]
