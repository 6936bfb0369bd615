"""CSV import: every bad row reported with its line, nothing written on any
error, and importing the same file twice changes nothing."""

import pytest

from mappings.imports import mapping_csv_import
from mappings.models import CarrierMapping, ImportJob, ShippingMethodMapping, SkuMapping
from tests.factories import make_store
from tests.mappings.factories import make_sku_mapping

pytestmark = pytest.mark.django_db

SKU_HEADER = "store,amazon_sku,asin,warehouse_sku,units,sync_inventory,buffer\n"


def _snapshot(model):
    return sorted(model.objects.values_list(*[f.attname for f in model._meta.fields if f.name != "id"]))


def test_it_imports_skus_and_kits(store):
    # given
    data = SKU_HEADER + (
        "Acme US,KIT-1,B000000001,PART-A,2,yes,0\n"
        "Acme US,KIT-1,B000000001,PART-B,1,yes,0\n"
        "Acme US,SOLO,,W-SOLO,,true,3\n"
    )

    # when
    report = mapping_csv_import(kind=ImportJob.Kind.SKU, data=data)

    # then
    assert (report.errors, report.new, report.changed, report.unchanged) == ([], 3, 0, 0)
    assert list(
        SkuMapping.objects.order_by("amazon_sku", "warehouse_sku").values_list(
            "amazon_sku", "warehouse_sku", "units", "sync_inventory", "buffer"
        )
    ) == [("KIT-1", "PART-A", 2, True, 0), ("KIT-1", "PART-B", 1, True, 0), ("SOLO", "W-SOLO", 1, True, 3)]


def test_it_changes_nothing_when_the_same_file_comes_again(store, django_assert_max_num_queries):
    # given
    data = SKU_HEADER + "".join(f"Acme US,SKU-{i},,W-{i},1,1,0\n" for i in range(50))
    first = mapping_csv_import(kind=ImportJob.Kind.SKU, data=data)
    before = _snapshot(SkuMapping)

    # when
    with django_assert_max_num_queries(2):  # stores, existing rows; no write
        second = mapping_csv_import(kind=ImportJob.Kind.SKU, data=data)

    # then
    assert (first.new, second.new, second.changed, second.unchanged) == (50, 0, 0, 50)
    assert not second.written
    assert _snapshot(SkuMapping) == before


def test_it_updates_existing_rows_by_natural_key(store):
    # given
    make_sku_mapping(store=store, amazon_sku="A", warehouse_sku="W", units=1, buffer=0)
    other_store_row = make_sku_mapping(store=make_store(), amazon_sku="A", warehouse_sku="W", units=1)

    # when
    report = mapping_csv_import(kind=ImportJob.Kind.SKU, data=SKU_HEADER + "Acme US,A,,W,4,0,2\n")

    # then
    assert (report.new, report.changed) == (0, 1)
    row = SkuMapping.objects.get(store=store)
    assert (row.units, row.buffer) == (4, 2)
    other_store_row.refresh_from_db()
    assert other_store_row.units == 1


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("Nowhere Store,A,,W,1,1,0", "unknown store 'Nowhere Store'"),
        ("Acme US,A,,W,-1,1,0", "units must be 1 or more, not -1"),
        ("Acme US,A,,W,0,1,0", "units must be 1 or more, not 0"),
        ("Acme US,A,,W,2.7,1,0", "units must be a whole number, not '2.7'"),
        ("Acme US,A,,W,1,1,-5", "buffer must be 0 or more, not -5"),
        ("Acme US,A,,W,1,maybe,0", "sync_inventory must be 1/0, true/false or yes/no, not 'maybe'"),
        ("Acme US,,,W,1,1,0", "amazon_sku is required"),
        (",A,,W,1,1,0", "store is required"),
        ("Acme US,A,B0123456789X,W,1,1,0", "asin is longer than 10 characters"),
    ],
)
def test_it_refuses_a_bad_row_and_writes_nothing(store, row, message):
    # given: a good row before and after the bad one
    data = SKU_HEADER + "Acme US,GOOD-1,,G1,1,1,0\n" + row + "\nAcme US,GOOD-2,,G2,1,1,0\n"

    # when
    report = mapping_csv_import(kind=ImportJob.Kind.SKU, data=data)

    # then
    assert [(e.line, e.message) for e in report.errors] == [(3, message)]
    assert not SkuMapping.objects.exists()


def test_it_lists_every_bad_row_with_its_line(store):
    # given
    data = SKU_HEADER + (
        "Acme US,A,,W,1,1,0\n"  # line 2, fine
        "Ghost,B,,W,1,1,0\n"  # line 3
        "Acme US,C,,W,2.7,1,0\n"  # line 4
        "\n"  # line 5, blank: skipped
        "Acme US,A,,W,3,1,0\n"  # line 6, same key as line 2
        "Acme US,D,,W,-2,x,0\n"  # line 7, two problems
    )

    # when
    report = mapping_csv_import(kind=ImportJob.Kind.SKU, data=data)

    # then
    assert [(e.line, e.message) for e in report.errors] == [
        (3, "unknown store 'Ghost'"),
        (4, "units must be a whole number, not '2.7'"),
        (6, "duplicate of line 2 (same store, amazon_sku, warehouse_sku) in this file"),
        (7, "units must be 1 or more, not -2"),
        (7, "sync_inventory must be 1/0, true/false or yes/no, not 'x'"),
    ]
    assert not SkuMapping.objects.exists()


def test_it_refuses_a_file_with_a_wrong_header(store):
    report = mapping_csv_import(kind=ImportJob.Kind.SKU, data="store,sku,units\nAcme US,A,1\n")

    assert len(report.errors) == 1
    assert report.errors[0].line == 1
    assert "missing column(s) amazon_sku, warehouse_sku; unknown column(s) sku" in report.errors[0].message
    assert not SkuMapping.objects.exists()


def test_it_counts_lines_of_quoted_multi_line_cells(store):
    data = SKU_HEADER + '"Acme US","A\nB",,W,1,1,0\nAcme US,C,,W,2.7,1,0\n'

    report = mapping_csv_import(kind=ImportJob.Kind.SKU, data=data)

    assert [e.line for e in report.errors] == [4]


SHIPPING_HEADER = "store,marketplace,service_level,prime,carrier,ship_code\n"


def test_it_imports_shipping_methods_with_aliases_defaults_and_prime(store):
    # given
    data = SHIPPING_HEADER + (
        ",US,Standard,,USPS,GROUND\n"
        ",us,standard,1,UPS,PRIME-GROUND\n"
        ",DE,standard,,DHL,PAKET\n"
        "Acme US,,SecondDay,0,UPS,2DAY\n"
        "Acme US,,SECOND_DAY,yes,FedEx,2DAY-PRIME\n"
        "Acme US,,next_day,,FedEx,OVERNIGHT\n"
    )

    # when
    first = mapping_csv_import(kind=ImportJob.Kind.SHIPPING_METHOD, data=data)
    second = mapping_csv_import(kind=ImportJob.Kind.SHIPPING_METHOD, data=data)

    # then
    assert (first.errors, first.new) == ([], 6)
    assert (second.new, second.changed, second.unchanged) == (0, 0, 6)
    assert sorted(
        ShippingMethodMapping.objects.values_list(
            "store__name", "marketplace__code", "service_level", "prime", "ship_code"
        ),
        key=str,
    ) == sorted(
        [
            (None, "US", "STANDARD", None, "GROUND"),
            (None, "US", "STANDARD", True, "PRIME-GROUND"),
            (None, "DE", "STANDARD", None, "PAKET"),
            ("Acme US", None, "SECOND_DAY", False, "2DAY"),
            ("Acme US", None, "SECOND_DAY", True, "2DAY-PRIME"),
            ("Acme US", None, "NEXT_DAY", None, "OVERNIGHT"),
        ],
        key=str,
    )


def test_it_refuses_bad_shipping_method_rows(store):
    data = SHIPPING_HEADER + (
        ",US,Overnight,,UPS,X\n"  # line 2
        ",US,Standard,,UPS,A\n"  # line 3
        ",US,STANDARD,,UPS,B\n"  # line 4: same key as 3 after the alias
        "Acme US,,Standard,2,UPS,C\n"  # line 5
        ",,Standard,,UPS,D\n"  # line 6: a default for every store is no more
        ",ZZ,Standard,,UPS,E\n"  # line 7
        "Acme US,US,Expedited,,UPS,F\n"  # line 8
    )

    report = mapping_csv_import(kind=ImportJob.Kind.SHIPPING_METHOD, data=data)

    assert [e.line for e in report.errors] == [2, 4, 5, 6, 7, 8]
    assert "unknown service level 'Overnight'" in report.errors[0].message
    assert "duplicate of line 3" in report.errors[1].message
    assert "prime must be 1/0" in report.errors[2].message
    assert "store or marketplace is required" in report.errors[3].message
    assert "unknown marketplace 'ZZ'" in report.errors[4].message
    assert "not both" in report.errors[5].message
    assert not ShippingMethodMapping.objects.exists()


CARRIER_HEADER = "store,warehouse_carrier,amazon_carrier_code,amazon_carrier_name\n"


def test_it_imports_carriers_coercing_the_code_to_amazons_spelling(store):
    data = CARRIER_HEADER + ",ups ground,ups,\nAcme US,Speedy,other,Speedy Couriers\n"

    report = mapping_csv_import(kind=ImportJob.Kind.CARRIER, data=data)
    again = mapping_csv_import(kind=ImportJob.Kind.CARRIER, data=data)

    assert (report.errors, report.new, again.unchanged) == ([], 2, 2)
    assert sorted(CarrierMapping.objects.values_list("warehouse_carrier", "amazon_carrier_code")) == [
        ("Speedy", "Other"),
        ("ups ground", "UPS"),
    ]


def test_it_refuses_a_carrier_code_the_stores_marketplace_does_not_accept(store):
    # given: Sendle is accepted in Australia, not in the US
    data = CARRIER_HEADER + (
        "Acme US,SD,Sendle,\n"  # line 2
        "Acme US,Local,Other,\n"  # line 3: Other needs a name
        "Acme US,ups,UPS,\n"  # line 4, fine
        "Acme US,UPS,UPS,\n"  # line 5: same carrier as line 4, any case
        ",Whatever,Not A Carrier,\n"  # line 6
    )

    # when
    report = mapping_csv_import(kind=ImportJob.Kind.CARRIER, data=data)

    # then
    assert [e.line for e in report.errors] == [2, 3, 5, 6]
    assert "carrier code 'Sendle' is not accepted by Amazon in the 'Acme US' store's marketplace" in (
        report.errors[0].message
    )
    assert report.errors[1].message == "amazon_carrier_name is required with the carrier code Other"
    assert "not accepted by Amazon in any marketplace" in report.errors[3].message
    assert not CarrierMapping.objects.exists()
