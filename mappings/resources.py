"""django-import-export resources for the mapping tables.

Import goes through `mappings.imports` (validate every row, all-or-nothing,
bulk upsert), the same path as the admin's import and the background job;
export writes the same columns back, with spreadsheet formulas neutralised.
Usable as `manage.py import mappings.resources.SkuMappingResource file.csv`.
"""

from __future__ import annotations

from import_export import fields, resources
from import_export.results import Error, Result, RowResult

from .imports import mapping_rows_import
from .models import CarrierMapping, ImportJob, ShippingMethodMapping, SkuMapping

# A cell starting with one of these runs as a formula in Excel/LibreOffice
# (CSV injection); a leading apostrophe makes it text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("1" if value else "0")


class _MappingResource(resources.ModelResource):
    kind: str

    store = fields.Field(attribute="store__name", column_name="store")

    def get_queryset(self):
        return super().get_queryset().select_related("store")

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        if isinstance(value, str) and value.startswith(_FORMULA_START):
            return "'" + value
        return value

    def import_data(self, dataset, dry_run=False, raise_errors=False, **kwargs):
        """Our validate-everything-then-upsert path instead of the row-by-row one.

        Errors come back as base errors naming the file line (header = line 1);
        django-import-export would number them by data row.
        """
        headers = [str(h or "") for h in (dataset.headers or [])]
        rows = (
            (index + 2, ["" if cell is None else str(cell) for cell in row])
            for index, row in enumerate(dataset)
        )
        report = mapping_rows_import(kind=self.kind, headers=headers, rows=rows, dry_run=dry_run)

        result = Result()
        result.diff_headers = headers
        result.total_rows = report.total
        for error in report.errors:
            result.append_base_error(Error(ValueError(str(error)), number=error.line))
        if raise_errors and report.errors:
            raise ValueError("; ".join(str(e) for e in report.errors))
        result.totals[RowResult.IMPORT_TYPE_NEW] = report.new
        result.totals[RowResult.IMPORT_TYPE_UPDATE] = report.changed
        result.totals[RowResult.IMPORT_TYPE_SKIP] = report.unchanged
        result.report = report
        return result


class SkuMappingResource(_MappingResource):
    kind = ImportJob.Kind.SKU

    class Meta:
        model = SkuMapping
        fields = ("store", "amazon_sku", "asin", "warehouse_sku", "units", "sync_inventory", "buffer")
        export_order = fields
        import_id_fields = ("store", "amazon_sku", "warehouse_sku")

    def dehydrate_sync_inventory(self, obj: SkuMapping) -> str:
        return _yes_no(obj.sync_inventory)


class ShippingMethodMappingResource(_MappingResource):
    kind = ImportJob.Kind.SHIPPING_METHOD

    class Meta:
        model = ShippingMethodMapping
        fields = ("store", "marketplace", "service_level", "prime", "carrier", "ship_code")
        export_order = fields
        import_id_fields = ("store", "marketplace", "service_level", "prime")

    def get_queryset(self):
        return super().get_queryset().select_related("marketplace")

    def dehydrate_store(self, obj: ShippingMethodMapping) -> str:
        return obj.store.name if obj.store_id else ""

    def dehydrate_marketplace(self, obj: ShippingMethodMapping) -> str:
        return obj.marketplace.code if obj.marketplace_id else ""

    def dehydrate_prime(self, obj: ShippingMethodMapping) -> str:
        return _yes_no(obj.prime)


class CarrierMappingResource(_MappingResource):
    kind = ImportJob.Kind.CARRIER

    class Meta:
        model = CarrierMapping
        fields = ("store", "warehouse_carrier", "amazon_carrier_code", "amazon_carrier_name")
        export_order = fields
        import_id_fields = ("store", "warehouse_carrier")

    def dehydrate_store(self, obj: CarrierMapping) -> str:
        return obj.store.name if obj.store_id else ""


RESOURCES = {
    ImportJob.Kind.SKU: SkuMappingResource,
    ImportJob.Kind.SHIPPING_METHOD: ShippingMethodMappingResource,
    ImportJob.Kind.CARRIER: CarrierMappingResource,
}
