"""The sandbox's copies of Amazon's models and usage plans match the official ones."""

import json
import re

import pytest

from sandbox.amazon_models import AMAZON_DIR, VENDORED, definitions_closure
from sandbox.rate_limits import USAGE_PLANS
from tests.sandbox.schemas import MODELS_DIR, model


@pytest.mark.parametrize("name", sorted(VENDORED))
def test_vendored_schemas_match_the_official_models(name):
    official_file, root = VENDORED[name]
    official = model(official_file)
    expected = definitions_closure(official, root) if root else official

    assert json.loads((AMAZON_DIR / name).read_text()) == expected


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
