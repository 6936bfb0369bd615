"""gunicorn's access log without OAuth codes, states or merchant-link tokens.

The format (gunicorn.conf.py) already logs the path without its query string;
this logger also redacts what any format could print: the request line, the
query string, the referer and a link token carried in the path
(connections.log_redaction, the same rule as Django's request logs).
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from connections.log_redaction import REDACTED, redact_url

_URL_ATOMS = ("r", "U", "f", "{referer}i")


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in _URL_ATOMS:
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_url(atoms[key])
        if atoms.get("q"):
            atoms["q"] = REDACTED
        return atoms
