"""Row makers for the mappings admins (auto-discovered by tests/factories.py)."""

import itertools

from mappings.models import CarrierMapping, ImportJob, ServiceLevel, ShippingMethodMapping, SkuMapping
from tests.factories import make_store, register_row_maker

_seq = itertools.count(1)


def make_sku_mapping(**kw) -> SkuMapping:
    n = next(_seq)
    defaults = dict(amazon_sku=f"AMZ-{n}", asin=f"B{n:09d}", warehouse_sku=f"WH-{n}", units=1)
    if "store" not in kw:
        kw["store"] = make_store()
    return SkuMapping.objects.create(**{**defaults, **kw})


def make_shipping_method_mapping(**kw) -> ShippingMethodMapping:
    n = next(_seq)
    defaults = dict(service_level=ServiceLevel.STANDARD, prime=None, carrier="UPS", ship_code=f"UPS-{n}")
    if "store" not in kw:
        kw["store"] = make_store()
    return ShippingMethodMapping.objects.create(**{**defaults, **kw})


def make_carrier_mapping(**kw) -> CarrierMapping:
    n = next(_seq)
    defaults = dict(warehouse_carrier=f"Carrier {n}", amazon_carrier_code="UPS")
    if "store" not in kw:
        kw["store"] = make_store()
    return CarrierMapping.objects.create(**{**defaults, **kw})


def make_import_job(**kw) -> ImportJob:
    from django.core.files.base import ContentFile

    n = next(_seq)
    job = ImportJob(kind=ImportJob.Kind.SKU, file_name=f"skus-{n}.csv", rows_total=10, **kw)
    job.file.save(f"skus-{n}.csv", ContentFile(b"store,amazon_sku,warehouse_sku\n"), save=False)
    job.save()
    return job


register_row_maker(SkuMapping, lambda n: [make_sku_mapping() for _ in range(n)])
register_row_maker(ShippingMethodMapping, lambda n: [make_shipping_method_mapping() for _ in range(n)])
register_row_maker(CarrierMapping, lambda n: [make_carrier_mapping() for _ in range(n)])
register_row_maker(ImportJob, lambda n: [make_import_job() for _ in range(n)])
