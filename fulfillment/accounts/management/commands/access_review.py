"""`manage.py access_review [--days N]`: the 90-day access review's input, printed."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from fulfillment.accounts.selectors import access_review


def _when(value: dt.datetime | None) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}" if value else "never"


def _yes(value: bool) -> str:
    return "yes" if value else "no"


class Command(BaseCommand):
    help = (
        "Print every user (roles, merchant, last login, second factor, lockout) and every live WMS API "
        "key, then what to act on. Amazon's Data Protection Policy asks for this review every 90 days: "
        "keep the output as its record."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=90, help="Flag users and keys unused for this many days (default 90)."
        )

    def handle(self, *args, days: int, **options):
        if days < 1:
            raise CommandError("--days must be 1 or more.")
        now = timezone.now()
        review = access_review(now=now, stale_days=days)
        out = self.stdout.write
        out(f"Access review {timezone.localtime(now):%Y-%m-%d %H:%M %Z}")
        out("")
        out(f"Users ({len(review.users)})")
        header = ("user", "active", "staff", "superuser", "roles", "merchant", "last login", "2FA", "locked")
        table = [header]
        for u in review.users:
            table.append(
                (
                    u.username,
                    _yes(u.active),
                    _yes(u.staff),
                    _yes(u.superuser),
                    ", ".join(u.roles) or "-",
                    ", ".join(u.merchants) or "-",
                    _when(u.last_login),
                    "enrolled" if u.mfa_enrolled else "NOT ENROLLED",
                    _yes(u.locked_out),
                )
            )
        self._table(table)
        out("")
        out(f"Active WMS API keys ({len(review.keys)})")
        table = [("warehouse", "name", "key", "created", "created by", "last used")]
        for k in review.keys:
            creator = k.created_by or (f"(left {k.creator_left_at:%Y-%m-%d})" if k.creator_left_at else "-")
            table.append((k.warehouse, k.name, k.key, _when(k.created_at), creator, _when(k.last_used_at)))
        self._table(table)
        out("")
        out(f"To act on ({len(review.findings)})")
        for finding in review.findings:
            out(f"  - {finding}")
        if not review.findings:
            out("  nothing")

    def _table(self, rows: list[tuple[str, ...]]) -> None:
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write("  " + "  ".join(cells).rstrip())
