"""Row makers for django-axes' admins (auto-discovered by tests/factories.py)."""

from __future__ import annotations

import itertools

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.utils import timezone

from tests.factories import register_row_maker

_seq = itertools.count(1)


def make_access_attempt(**kw) -> AccessAttempt:
    n = next(_seq)
    defaults = dict(
        username=f"user{n}",
        ip_address=f"192.0.2.{n % 250}",
        user_agent="Mozilla/5.0",
        get_data="",
        post_data="username=x",
        http_accept="text/html",
        path_info="/admin/login/",
        failures_since_start=3,
        attempt_time=timezone.now(),
    )
    attempt = AccessAttempt.objects.create(**{**defaults, **kw})
    AccessAttempt.objects.filter(pk=attempt.pk).update(
        attempt_time=kw.get("attempt_time", defaults["attempt_time"])
    )
    return attempt


def make_access_log(**kw) -> AccessLog:
    n = next(_seq)
    defaults = dict(
        username=f"user{n}",
        ip_address=f"192.0.2.{n % 250}",
        user_agent="Mozilla/5.0",
        http_accept="text/html",
        path_info="/admin/login/",
        attempt_time=timezone.now(),
    )
    log = AccessLog.objects.create(**{**defaults, **kw})
    # attempt_time is auto_now_add: an older row is made by moving it back.
    AccessLog.objects.filter(pk=log.pk).update(attempt_time=kw.get("attempt_time", defaults["attempt_time"]))
    return log


def make_access_failure(**kw) -> AccessFailureLog:
    n = next(_seq)
    defaults = dict(
        username=f"user{n}",
        ip_address=f"192.0.2.{n % 250}",
        user_agent="Mozilla/5.0",
        http_accept="text/html",
        path_info="/admin/login/",
        attempt_time=timezone.now(),
    )
    failure = AccessFailureLog.objects.create(**{**defaults, **kw})
    AccessFailureLog.objects.filter(pk=failure.pk).update(
        attempt_time=kw.get("attempt_time", defaults["attempt_time"])
    )
    return failure


register_row_maker(AccessFailureLog, lambda n: [make_access_failure() for _ in range(n)])
register_row_maker(AccessAttempt, lambda n: [make_access_attempt() for _ in range(n)])
register_row_maker(AccessLog, lambda n: [make_access_log() for _ in range(n)])
