"""The parts of Amazon's official models the sandbox validates requests with at run time.

The models are read from the repository's one vendored copy
(`connections/amazon_models/`). A Swagger model's request body is validated
against a schema built in memory from its definitions (`definitions_closure`);
a JSON schema file is used whole.
"""

from __future__ import annotations

from functools import cache

import jsonschema

from connections.amazon_models import load

# schema name -> (model file, root definition or None for a whole JSON schema)
SCHEMAS = {
    "confirmShipmentRequest.json": ("ordersV0.json", "ConfirmShipmentRequest"),
    "listingsItemPatchRequest.json": ("listingsItems_2021-08-01.json", "ListingsItemPatchRequest"),
    "listings-feed-schema-v2.json": ("listings-feed-schema-v2.json", None),
}


def definitions_closure(model: dict, root: str) -> dict:
    """A JSON schema for `#/definitions/<root>` carrying only the definitions it reaches."""
    definitions = model["definitions"]
    needed: dict = {}
    todo = [root]
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        needed[name] = definitions[name]
        todo.extend(_refs(definitions[name]))
    return {"$ref": f"#/definitions/{root}", "definitions": dict(sorted(needed.items()))}


def _refs(node) -> list[str]:
    found = []
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            found.append(ref.rsplit("/", 1)[-1])
        for value in node.values():
            found.extend(_refs(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_refs(value))
    return found


@cache
def schema_validator(name: str) -> jsonschema.protocols.Validator:
    model_file, root = SCHEMAS[name]
    schema = definitions_closure(load(model_file), root) if root else load(model_file)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft4Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def schema_errors(instance, *, schema: str) -> list[str]:
    """Messages for each way `instance` breaks the schema `schema` (a key of SCHEMAS) (empty: valid)."""
    errors = sorted(schema_validator(schema).iter_errors(instance), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors]
