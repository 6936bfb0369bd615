"""The vendored models are Amazon's, whole; the usage plans we pace by match them."""

import json
import re

import pytest

from sandbox.amazon_models import SCHEMAS, schema_validator
from sandbox.rate_limits import USAGE_PLANS
from tests.sandbox.schemas import MODELS_DIR


def test_every_vendored_model_parses_and_is_listed_in_the_readme():
    readme = (MODELS_DIR / "README.md").read_text()
    assert (MODELS_DIR / "LICENSE").read_text().lstrip().startswith("Apache License")
    for path in MODELS_DIR.glob("*.json"):
        json.loads(path.read_text())
        stem = path.name.removesuffix(".example.json")
        assert path.name in readme or ("*.example.json" in readme and stem != path.name), path.name


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_the_sandbox_request_schemas_build_from_the_models(name):
    assert schema_validator(name).schema


def _usage_plans_in_models() -> dict[str, tuple[float, int]]:
    plans = {}
    for path in MODELS_DIR.glob("*.json"):
        spec = json.loads(path.read_text())
        for operations in spec.get("paths", {}).values():
            for operation in operations.values():
                if not isinstance(operation, dict) or "operationId" not in operation:
                    continue
                name = operation["operationId"]
                # v0's deprecated getOrder would shadow 2026-01-01's; only confirmShipment is used from v0.
                if path.name == "ordersV0.json" and name != "confirmShipment":
                    continue
                found = re.search(r"\|\s*([\d.]+)\s*\|\s*(\d+)\s*\|", operation.get("description", ""))
                if found:
                    plans[name] = (float(found.group(1)), int(found.group(2)))
    return plans


def test_usage_plans_match_the_models_descriptions():
    official = _usage_plans_in_models()

    for operation, plan in USAGE_PLANS.items():
        assert official[operation] == (plan.rate, plan.burst), operation
