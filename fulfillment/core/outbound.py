"""The one base of every outbound queue: shipment confirmations to Amazon, webhook
deliveries to the WMS, inventory feeds to Amazon.

A queue row waits until `not_before`; a worker takes it (`claim`, a
compare-and-set, or under the store's job lock), starts an attempt, and
records how it ended:

    attempt = row.attempt_started(now=now)           # counts it, starts the clock
    row.attempt_succeeded(attempt, code=204)           # or:
    if row.attempt_failed(attempt, code=503, error=..., retryable=True):
        ...  # it waits for `not_before` (exponential backoff, full jitter)
    else:
        ...  # out of attempts (or not retryable): the queue's own final state

The methods only change the row in memory: the caller saves them with its
own state change, in the UPDATE it writes anyway, so recording an attempt
costs no query. That is why the history is a JSONField on the row (the last
HISTORY_LIMIT attempts) rather than a table of attempts, which would add an
INSERT per attempt to every sweep and a join to every admin page.

History entries and `last_error` carry what went wrong and where, never a
credential or buyer data: callers pass Amazon's error or
fulfillment.jobs.errors.safe_error(exc), never the text of an arbitrary
exception or the body of an answer.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass, field
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

# Attempts kept on the row: a row's whole life at the default attempt limits
# (8), and one more round after a manual retry.
HISTORY_LIMIT = 20
ERROR_LIMIT = 4000  # last_error
HISTORY_ERROR_LIMIT = 500  # each history entry: the admin shows them side by side

_jitter = random.random  # tests replace it to make backoffs exact


class Outcome(models.TextChoices):
    OK = "ok", "Succeeded"
    RETRY = "retry", "Failed, will retry"
    FAILED = "failed", "Failed, given up"


@dataclass(frozen=True)
class RetryPolicy:
    """How a queue backs off: waits up to base, 2 x base, 4 x base … (at most `cap`)
    after the 1st, 2nd, 3rd … failure, and gives up after the setting's attempts."""

    base: dt.timedelta
    cap: dt.timedelta
    max_attempts_setting: str

    @property
    def max_attempts(self) -> int:
        return getattr(settings, self.max_attempts_setting)

    def window(self, attempts: int) -> dt.timedelta:
        """The longest wait after `attempts` failures (the exponent is bounded: no overflow)."""
        exponent = min(max(attempts, 1) - 1, 30)
        return min(self.base * 2**exponent, self.cap)

    def backoff(self, attempts: int) -> dt.timedelta:
        """Full jitter: a wait drawn uniformly from [0, window]. Rows that failed
        together (an outage) come back spread out, not together."""
        return self.window(attempts) * _jitter()


@dataclass
class Attempt:
    """One try in progress: when it started, and a clock for its duration."""

    at: dt.datetime
    started: float = field(default_factory=time.monotonic)

    @property
    def duration_ms(self) -> int:
        return round((time.monotonic() - self.started) * 1000)


class OutboundQuerySet(models.QuerySet):
    def due(self, now: dt.datetime | None = None) -> OutboundQuerySet:
        """Rows waiting to be sent whose `not_before` has passed."""
        return self.filter(self.model.due_q(now or timezone.now()))

    def claim(self, pk: int, *, now: dt.datetime, also: Q | None = None, **changes) -> bool:
        """Compare-and-set: take a due row (or one `also` matches) and count the
        attempt in the database. True if this worker took it."""
        condition = self.model.due_q(now)
        if also is not None:
            condition |= also
        taken = self.filter(condition, pk=pk).update(
            attempts=F("attempts") + 1, last_attempt_at=now, **changes
        )
        return taken == 1

    def retry(self, *, now: dt.datetime | None = None, **changes) -> int:
        """Manual retry: due now, with a fresh set of attempts and no last error.
        The history stays: it says what happened before, the last error included."""
        return self.update(attempts=0, not_before=now or timezone.now(), last_error="", **changes)


class OutboundItem(models.Model):
    """Abstract base of a queue row. A concrete queue sets `retry_policy` and
    `waiting_states`, the values of its own state field (`state_field`) in
    which a row waits to be tried."""

    attempts = models.PositiveSmallIntegerField(default=0, help_text="Tries since it was queued or retried.")
    not_before = models.DateTimeField(
        default=timezone.now, help_text="Not tried before this time (backoff after a failure)."
    )
    last_error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True, help_text="When it was last tried.")
    # The last HISTORY_LIMIT attempts, oldest first: {"n", "at", "outcome",
    # "response_code", "duration_ms", "error"}.
    attempt_history = models.JSONField(default=list, blank=True, editable=False)

    objects = OutboundQuerySet.as_manager()

    retry_policy: ClassVar[RetryPolicy]
    state_field: ClassVar[str] = "state"
    waiting_states: ClassVar[tuple[str, ...]]
    # What recording an attempt may change: the caller saves these with its state.
    ATTEMPT_FIELDS: ClassVar[tuple[str, ...]] = (
        "attempts",
        "not_before",
        "last_error",
        "last_attempt_at",
        "attempt_history",
    )

    class Meta:
        abstract = True

    @classmethod
    def waiting_q(cls) -> Q:
        return Q(**{f"{cls.state_field}__in": cls.waiting_states})

    @classmethod
    def due_q(cls, now: dt.datetime) -> Q:
        return cls.waiting_q() & Q(not_before__lte=now)

    # -- one attempt

    def attempt_started(self, *, now: dt.datetime | None = None, claimed: bool = False) -> Attempt:
        """Start an attempt. `claimed`: `claim()` already counted it in the database
        (and this row was read after it)."""
        now = now or timezone.now()
        if not claimed:
            self.attempts += 1
        self.last_attempt_at = now
        return Attempt(at=now)

    def attempt_succeeded(self, attempt: Attempt, *, code: int | None = None) -> None:
        self.last_error = ""
        self._remember(attempt, Outcome.OK, code=code, error="")

    def attempt_failed(
        self, attempt: Attempt, *, error: str, retryable: bool, code: int | None = None
    ) -> bool:
        """Record a failure; True if the row will be tried again (at `not_before`),
        False if it is out of attempts or the failure is final."""
        again = retryable and self.attempts < self.retry_policy.max_attempts
        self.last_error = error[:ERROR_LIMIT]
        if again:
            self.not_before = attempt.at + self.retry_policy.backoff(self.attempts)
        self._remember(attempt, Outcome.RETRY if again else Outcome.FAILED, code=code, error=error)
        return again

    def attempt_deferred(self, *, until: dt.datetime, error: str | None = None) -> None:
        """Not an attempt after all (the package waits for its ship date, the store
        for a new authorization): give it back and wait until `until`."""
        self.attempts = max(self.attempts - 1, 0)
        self.not_before = until
        if error is not None:
            self.last_error = error[:ERROR_LIMIT]

    def _remember(self, attempt: Attempt, outcome: Outcome, *, code: int | None, error: str) -> None:
        entry = {
            "n": self.attempts,
            "at": attempt.at.isoformat(),
            "outcome": str(outcome),
            "response_code": code,
            "duration_ms": attempt.duration_ms,
            "error": error[:HISTORY_ERROR_LIMIT],
        }
        self.attempt_history = [*(self.attempt_history or []), entry][-HISTORY_LIMIT:]

    # -- reading

    @property
    def is_waiting(self) -> bool:
        """Waiting to be tried (due or not): only then does `not_before` mean a next try."""
        return getattr(self, self.state_field) in self.waiting_states
