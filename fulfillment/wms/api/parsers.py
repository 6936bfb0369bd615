"""JSON bodies with a bounded nesting depth.

Python's json module recurses once per nested array or object: a body of
100,000 "[" raised RecursionError, which DRF does not turn into a 400, so the
request answered 500, and anything nested a few hundred deep reached the
serializers and renderers, which recurse too. Our bodies nest 3 deep (a
shipment's lines): a body is parsed (RecursionError is a parse error), then
its depth is checked without recursion, before any view sees it.
"""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_JSON_DEPTH = 32


def json_depth_exceeds(value, *, limit: int) -> bool:
    """True when `value` (parsed JSON) nests arrays/objects deeper than `limit`."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class BoundedJSONParser(JSONParser):
    """DRF's JSONParser, answering 400 (never 500) to bodies nested too deep."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from exc
        if json_depth_exceeds(data, limit=MAX_JSON_DEPTH):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        return data
