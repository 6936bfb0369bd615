"""Example CSV files of every admin import (docs/examples/), downloadable from
each import page: the README documents the same files."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import FileResponse, Http404

EXAMPLES_DIR = Path(settings.BASE_DIR) / "docs" / "examples"
# The import page's model (its `opts.model_name`) -> the example file.
EXAMPLES = {
    "skumapping": "sku-mappings.csv",
    "shippingmethodmapping": "shipping-method-mappings.csv",
    "carriermapping": "carrier-mappings.csv",
    "shipment": "shipments.csv",
    "inventorylevel": "inventory.csv",
}


@staff_member_required
def csv_example(request, model_name: str):
    file_name = EXAMPLES.get(model_name)
    if file_name is None:
        raise Http404("No example file for this import.")
    return FileResponse(
        (EXAMPLES_DIR / file_name).open("rb"),
        as_attachment=True,
        filename=file_name,
        content_type="text/csv; charset=utf-8",
    )
