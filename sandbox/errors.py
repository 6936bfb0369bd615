"""The error every emulated SP-API operation raises to refuse a request."""

from __future__ import annotations


class SpApiError(Exception):
    """An SP-API refusal in Amazon's `ErrorList` shape."""

    def __init__(self, *, status: int, code: str, message: str, details: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
