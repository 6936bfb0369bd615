"""Refusals of the authorization flows, shown to the person on a plain page."""

from __future__ import annotations


class AuthorizationRefused(Exception):
    """A callback, link or connection we will not act on; `message` is shown to the person.

    `status` is the page's HTTP status: 400 for an answer or link we do not
    recognise, 410 for a link that was genuine but is no longer valid.
    `store_changed` says whether the refusal was recorded on the store (a seller
    Amazon says does not sell in the store's marketplace) or nothing changed.
    """

    def __init__(self, message: str, *, status: int = 400, store_changed: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.store_changed = store_changed
