"""Admin paginators for tables that grow to millions of rows."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

# Below this many rows an exact COUNT(*) is cheap and the planner's figure may
# be stale (a table never analysed says -1): count exactly.
ESTIMATE_FROM_ROWS = 100_000
# From this row on a page is found by its ids first (see `page`).
DEEP_FROM_ROW = 1_000


class EstimatedCountPaginator(Paginator):
    """The exact count of a filtered list; for a whole large PostgreSQL table,
    the planner's row estimate (pg_class.reltuples), which costs nothing.

    COUNT(*) of a million-row table reads all of it on every page view; the
    admin shows the figure and the page links, for which an estimate kept
    current by autovacuum is enough. One query either way: the estimate and,
    for a small table, the exact count are chosen in the database. SQLite and
    filtered lists (a status, a store scope, a search) count exactly.

    A deep page (page 500) is found by its ids first: OFFSET then skips index
    entries alone (an index-only scan) instead of reading and dropping every
    row before the page; the page's rows are then read by id. One query more,
    on deep pages only.
    """

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        queryset = self.object_list
        if bottom < DEEP_FROM_ROW or not isinstance(queryset, QuerySet):
            return super().page(number)
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = list(queryset.values_list("pk", flat=True)[bottom:top])
        rows = {row.pk: row for row in queryset.order_by().filter(pk__in=ids)}
        return self._get_page([rows[pk] for pk in ids if pk in rows], number, self)

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        query = getattr(queryset, "query", None)
        if query is None or query.where or query.combinator or query.distinct:
            return super().count
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return super().count
        table = connection.ops.quote_name(queryset.model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                # The literal table name is ours (model metadata), never input.
                f"SELECT CASE WHEN c.reltuples >= %s THEN c.reltuples::bigint "  # noqa: S608
                f"ELSE (SELECT count(*) FROM {table}) END "
                f"FROM pg_class c WHERE c.oid = %s::regclass",
                [ESTIMATE_FROM_ROWS, table],
            )
            return int(cursor.fetchone()[0])
