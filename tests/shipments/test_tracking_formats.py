"""Tracking number formats per carrier: published numbers pass, typos and other carriers' fail.

The numbers are the carriers' published examples collected by the
tracking_number_data project (MIT), and their one-digit typos.
"""

from __future__ import annotations

import pytest

from fulfillment.shipments.tracking_formats import tracking_number_clean, tracking_number_mismatch

VALID = [
    ("UPS", "1Z5R89390357567127"),
    ("UPS", "1Z879E930346834440"),
    ("UPS", "1Z 8V9 2A7 036 720 302 4"),
    ("UPS", "1ZXX3150YW44070023"),
    ("UPS", "K1506235620"),
    ("USPS", "9400111206206406260787"),
    ("USPS", "9400 1112 0108 0805 4830 16"),
    ("USPS", "420787459400111206206406260787"),
    ("USPS", "92748931507708513018050063"),
    ("USPS", "0307 1790 0005 2348 3741"),
    ("USPS", "7196 9010 7560 0307 7385"),
    ("USPS", "4201002334249200190132607600833457"),
    ("USPS", "EA123456785US"),
    ("FedEx", "986578788855"),
    ("FedEx", "790535312317"),
    ("FedEx", "0414 4176 0228 964"),
    ("FedEx", "9611020987654312345672"),
    ("FedEx", "1001921334250001000300779017972697"),
    ("FedEx", "9622001900000000000000776632517510"),
    ("FedEx", "32971514560102447849175802862014"),
    ("FedEx", "000123450000000027"),
    ("FedEx SmartPost", "9400111206206406260787"),
    ("DHL", "3318810025"),
    ("DHL", "73891051146"),
    ("DHL", "JJD0099999999"),
    ("DHL", "00340434161094042557"),
    ("DHL", "GM2951173225174494"),
    ("DHL", "RB123456785DE"),
    ("DHL", "9261292700768711948021"),  # DHL eCommerce (US): a USPS IMpb number
    ("Deutsche Post", "RR123456785DE"),
    ("Deutsche Post", "00340434161094042557"),
    ("Royal Mail", "RB123456785GB"),
    ("Royal Mail", "AB 1234 5678 5GB"),
    ("Canada Post", "0073938000549297"),
    ("Canada Post", "7035114477138472"),
    ("Canada Post", "RB123456785CA"),
    ("India Post", "RB123456785IN"),
    ("DPD", "09 9800 0002 0033 F"),
    ("DPD", "0081 827 0998 0000 0200 45 327 276 N"),
    ("OnTrac", "C11031500001879"),
    ("OnTrac", "D10011354453707"),
    ("Lasership", "LX17635036"),
    ("royal mail", "RB123456785GB"),  # Amazon's codes in any case
]

INVALID = [
    ("UPS", "1Z5R89390357567128", "check digit"),  # last digit typed wrong
    ("UPS", "1Z1111111111111111", "check digit"),
    ("UPS", "1Z999AA1012345678", "not a UPS number"),  # one character short
    ("UPS", "986578788855", "not a UPS number"),  # a FedEx number
    ("UPS", "K1506235622", "check digit"),
    ("USPS", "9434611206206407667131", "check digit"),
    ("USPS", "1Z5R89390357567127", "not a USPS number"),
    ("USPS", "RB123456786US", "check digit"),
    ("FedEx", "996578788855", "check digit"),
    ("FedEx", "5682 8361 0012 732", "check digit"),
    ("FedEx", "1001901781990001000300617767839438", "check digit"),
    ("FedEx", "PKG-1", "not a FedEx number"),  # the warehouse's package id
    ("DHL", "3318810010", "check digit"),
    ("DHL", "1Z5R89390357567127", "not a DHL number"),
    ("Deutsche Post", "RR123456786DE", "check digit"),
    ("Royal Mail", "RB123456786GB", "check digit"),
    ("Royal Mail", "RB123456785US", "not a Royal Mail number"),  # another country's post
    ("Canada Post", "0073938000549292", "check digit"),
    ("DPD", "09980000020033D", "check digit"),
    ("OnTrac", "C11031500001889", "check digit"),
    ("Lasership", "XA17635036", "not a Lasership number"),
]


@pytest.mark.parametrize(("carrier", "number"), VALID)
def test_a_carriers_own_number_passes(carrier, number):
    assert tracking_number_mismatch(carrier_code=carrier, tracking_number=number) == ""


@pytest.mark.parametrize(("carrier", "number", "why"), INVALID)
def test_a_typo_or_another_carriers_number_is_caught_with_the_reason(carrier, number, why):
    reason = tracking_number_mismatch(carrier_code=carrier, tracking_number=number)
    assert why in reason
    assert tracking_number_clean(number) in reason
    assert "Send anyway" in reason


@pytest.mark.parametrize("carrier", ["Other", "GLS", "Hermes Logistik Gruppe", "", "Some Local Courier"])
def test_carriers_without_a_documented_format_are_not_checked(carrier):
    assert tracking_number_mismatch(carrier_code=carrier, tracking_number="anything-at-all") == ""


def test_the_example_shipments_file_has_numbers_of_its_carriers():
    import csv
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "shipments.csv"
    rows = list(csv.DictReader(example.open(encoding="utf-8")))

    assert rows
    for row in rows:
        assert (
            tracking_number_mismatch(carrier_code=row["carrier"], tracking_number=row["tracking_number"])
            == ""
        )
