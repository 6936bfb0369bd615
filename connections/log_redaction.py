"""Keep OAuth codes and merchant-link tokens out of request logs.

Amazon's consent answer (`?spapi_oauth_code=…&state=…`) and the emailed link
(`/connections/authorize/?token=…`) carry secrets in the URL. The filter below
sits on the `django.server` (the dev server's access log) and `django.request`
loggers (fulfillment/settings.py LOGGING): it drops every query string from the
logged text, redacts the path segment of links in the earlier format
(`/connections/authorize/<token>/`), and hands handlers that read the request
(the admins' error email) a copy without the query string. Logger filters run
before any handler, so no handler ever sees the secrets.
"""

from __future__ import annotations

import copy
import logging
import re

from django.http import HttpRequest, QueryDict

REDACTED = "[redacted]"
# A query string inside a logged request line or URL: up to whitespace or a quote.
_QUERY = re.compile(r"\?[^\s\"']*")
_LINK_TOKEN = re.compile(r"(/connections/authorize/)[^/\s?\"']+")


def redact_url(text: str) -> str:
    return _LINK_TOKEN.sub(r"\1" + REDACTED, _QUERY.sub("?" + REDACTED, text))


def _redacted_request(request: HttpRequest) -> HttpRequest:
    clone = copy.copy(request)
    clone.GET = QueryDict()
    clone.META = {**request.META, "QUERY_STRING": ""}
    clone.path = redact_url(request.path)
    clone.path_info = redact_url(request.path_info)
    return clone


class RedactUrlSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_url(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_url(a) if isinstance(a, str) else a for a in record.args)
        request = getattr(record, "request", None)
        if isinstance(request, HttpRequest):
            record.request = _redacted_request(request)
        return True
