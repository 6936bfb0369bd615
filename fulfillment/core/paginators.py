"""Admin paginators for tables that grow to millions of rows."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

# Below this many rows an exact COUNT(*) is cheap and the planner's figure may
# be stale (a table never analysed says -1): count exactly.
ESTIMATE_FROM_ROWS = 100_000


class EstimatedCountPaginator(Paginator):
    """The exact count of a filtered list; for a whole large PostgreSQL table,
    the planner's row estimate (pg_class.reltuples), which costs nothing.

    COUNT(*) of a million-row table reads all of it on every page view; the
    admin shows the figure and the page links, for which an estimate kept
    current by autovacuum is enough. One query either way: the estimate and,
    for a small table, the exact count are chosen in the database. SQLite and
    filtered lists (a status, a store scope, a search) count exactly.
    """

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
