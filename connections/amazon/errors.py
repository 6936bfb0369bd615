"""What a failed SP-API or LWA call becomes: our Transient/Permanent errors.

sp_api and httpx report failures in their own shapes (exceptions, or an
empty ApiResponse for an HTML 502); callers of the adapter only ever see
these classes, carrying Amazon's error list and never a token.
"""

from __future__ import annotations

import httpx
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base.exceptions import SellingApiException


class AmazonError(Exception):
    """A failed SP-API/LWA call. Carries Amazon's error list, never a token."""

    def __init__(
        self, message: str, *, code: str = "", status: int | None = None, errors: list | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.errors = errors or []

    def __str__(self) -> str:
        prefix = f"{self.status} " if self.status else ""
        code = f"{self.code}: " if self.code else ""
        return f"{prefix}{code}{self.message}"


class TransientAmazonError(AmazonError):
    """Worth retrying later: throttled after retries, 5xx, timeouts, dropped connections."""


class PermanentAmazonError(AmazonError):
    """Retrying will not help: the request or the authorization is wrong."""


# The store holds no refresh token at all: nothing was sent to Amazon.
NOT_AUTHORIZED = "not_authorized"


class ReauthorizationRequired(PermanentAmazonError):
    """LWA refused the store's refresh token (invalid_grant): the merchant must authorize again.

    The adapter only raises it; whoever ran the call records it on the store
    (connections.services.store_reauthorization_record)."""

    @property
    def token_refused(self) -> bool:
        """Amazon refused a token the store holds, as opposed to: the store has none yet."""
        return self.code != NOT_AUTHORIZED


def lwa_error(exc: AuthorizationError) -> AmazonError:
    code = exc.error_code or ""
    message = exc.message or "Login with Amazon refused the request."
    status = exc.status_code
    if code == "invalid_grant":
        return ReauthorizationRequired(
            "Amazon no longer accepts this store's authorization; the merchant must authorize again.",
            code=code,
            status=status,
        )
    if status and (status >= 500 or status == 429):
        return TransientAmazonError(message, code=code, status=status)
    return PermanentAmazonError(message, code=code, status=status)


def api_error(exc: SellingApiException, status: int | None) -> AmazonError:
    errors = exc.error if isinstance(exc.error, list) else []
    message = getattr(exc, "message", None) or "Amazon refused the request."
    code = getattr(exc, "amzn_code", None) or ""
    status = status or (exc.code if exc.code != 999 else None)
    if status and (status == 429 or status >= 500):
        return TransientAmazonError(message, code=code, status=status, errors=errors)
    return PermanentAmazonError(message, code=code, status=status, errors=errors)


def raw_response_error(response: httpx.Response | None, *, expect_body: bool) -> AmazonError | None:
    """Errors sp_api let through as an (empty) ApiResponse."""
    if response is None:
        return None
    status = response.status_code
    if status == 429:
        return TransientAmazonError("Amazon throttled the request.", code="QuotaExceeded", status=status)
    if status >= 500:
        return TransientAmazonError("Amazon answered with a server error.", status=status)
    if status >= 400:
        return PermanentAmazonError("Amazon refused the request.", status=status)
    if expect_body and status != 204:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict | list) or not body:
            return TransientAmazonError("Amazon answered with an empty or non-JSON body.", status=status)
    return None
