"""Validate sandbox answers against Amazon's official models (connections/amazon_models/)."""

from __future__ import annotations

import jsonschema

from connections.amazon_models import MODELS_DIR
from connections.amazon_models import load as model

__all__ = ["MODELS_DIR", "assert_valid", "assert_valid_response", "model"]


def assert_valid(body, *, model_file: str, definition: str) -> None:
    """Validate `body` against `#/definitions/<definition>` of a Swagger 2.0 model."""
    schema = {"$ref": f"#/definitions/{definition}", "definitions": model(model_file)["definitions"]}
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(body)


def assert_valid_response(response, *, model_file: str, path: str, method: str = "get") -> None:
    """Validate an HTTP answer against the schema the model gives for its status code."""
    operation = model(model_file)["paths"][path][method]
    status = str(response.status_code)
    assert status in operation["responses"], f"{status} is not an answer {path} may give"
    ref = operation["responses"][status].get("schema", {}).get("$ref")
    if ref is None:
        assert not response.content, "the model says this answer has no body"
        return
    assert_valid(response.json(), model_file=model_file, definition=ref.rsplit("/", 1)[-1])
