"""Does a tracking number look like one of its carrier's? Checked before a package is
confirmed to Amazon.

Amazon measures every store's Valid Tracking Rate (target 95%): a number its
carrier does not know counts against the store, and Amazon accepts almost any
string in confirmShipment, so it would only be found out later, per buyer. A
typo, a warehouse's own package id in the tracking column or another
carrier's number are caught here instead, and the package waits for a person
(fulfillment.shipments.services.tracking_hold).

The formats and check digits are the carriers' published ones (UPS 1Z, USPS
Publication 199 IMpb, FedEx's mod 11 and mod 10, DHL Express mod 7, GS1 SSCC,
the UPU S10 standard used by Royal Mail, Canada Post, Deutsche Post and the
other postal services, DPD's ISO 7064 mod 37/36), as collected with test
numbers by the MIT-licensed tracking_number_data project (jkeen). Keys are
Amazon's carrier codes (connections/reference_data.py), compared ignoring
case. A carrier without an entry (Other, and carriers whose numbers have no
documented shape) is not checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_SEPARATORS = re.compile(r"[\s\-]")


def tracking_number_clean(value: str) -> str:
    """The bare number: labels print it in groups with spaces or hyphens."""
    return _SEPARATORS.sub("", value or "").upper()


# --- Check digits ---------------------------------------------------------------------------


def _value(char: str) -> int:
    # UPS turns letters into digits this way (A=2 … I=0, J=1 …).
    return int(char) if char.isdigit() else (ord(char) - 3) % 10


def mod10(sequence: str, check: str, *, evens: int, odds: int) -> bool:
    """Weighted mod 10: the 0th, 2nd … character times `evens`, the 1st, 3rd … times `odds`."""
    total = sum(_value(c) * (evens if i % 2 == 0 else odds) for i, c in enumerate(sequence))
    return (10 - total % 10) % 10 == int(check)


def gs1_mod10(sequence: str, check: str) -> bool:
    """GS1 (SSCC, USPS IMpb): weights 3, 1, 3 … from the digit next to the check digit."""
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(sequence)))
    return (10 - total % 10) % 10 == int(check)


def weighted_mod11(sequence: str, check: str, weights: tuple[int, ...]) -> bool:
    """FedEx Express: sum of digit x weight, mod 11, mod 10."""
    return sum(int(c) * w for c, w in zip(sequence, weights, strict=True)) % 11 % 10 == int(check)


def mod7(sequence: str, check: str) -> bool:
    """DHL Express waybills: the serial mod 7."""
    return int(sequence) % 7 == int(check)


_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10(number: str) -> bool:
    """UPU S10 (AA 12345678 9 CC): the 8 digits weighted 8 6 4 2 3 5 9 7, mod 11."""
    digits, check = number[2:10], int(number[10])
    expected = 11 - sum(int(c) * w for c, w in zip(digits, _S10_WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(expected, expected) == check


_MOD36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def mod37_36(sequence: str, check: str) -> bool:
    """ISO 7064 mod 37/36 (DPD parcel numbers)."""
    product = 36
    for char in sequence:
        product = (product + _MOD36.index(char)) % 36 or 36
        product = (product * 2) % 37
    return _MOD36[(37 - product) % 36] == check


# --- Formats --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Format:
    name: str
    pattern: re.Pattern
    check: Callable[[str], bool] | None = None  # None: the shape is all that is documented

    def matches(self, number: str) -> bool:
        return bool(self.pattern.fullmatch(number))


def _format(name: str, pattern: str, check: Callable[[str], bool] | None = None) -> Format:
    return Format(name, re.compile(pattern), check)


def _usps_impb(number: str) -> bool:
    # An IMpb barcode may carry the routing code 420 + ZIP (5 or 9 digits) in
    # front; a 20-digit number is either a plain one or a legacy 91 one printed
    # without its 91. Any reading whose check digit holds is the number.
    bodies = [number]
    if number.startswith("420"):
        bodies += [number[8:], number[12:]]
    if len(number) == 20:
        bodies.append("91" + number)
    return any(len(b) in (20, 22, 26) and gs1_mod10(b[:-1], b[-1]) for b in bodies)


def _ontrac(number: str) -> bool:
    # OnTrac checks the serial with 4 (C numbers) or 5 (D numbers) in place of the letter.
    serial = {"C": "4", "D": "5"}[number[0]] + number[1:14]
    return mod10(serial, number[14], evens=1, odds=2)


_FEDEX_12 = (3, 1, 7, 3, 1, 7, 3, 1, 7, 3, 1)
_FEDEX_34 = (1, 7, 3, 1, 7, 3, 1, 7, 3, 1, 7, 3, 1)

UPS_1Z = _format(
    "UPS 1Z (18 characters)", r"1Z[0-9A-Z]{15}[0-9]", lambda n: mod10(n[2:17], n[17], evens=1, odds=2)
)
UPS_WAYBILL = _format(
    "UPS waybill (a letter and 10 digits)",
    r"[AHJKTV][0-9]{10}",
    lambda n: mod10(n[1:10], n[10], evens=1, odds=2),
)
USPS = _format(
    "USPS (20, 22, 26, 30 or 34 digits)",
    r"[0-9]{20}|9[1-5][0-9]{20}|9[1-5][0-9]{24}|420[0-9]{27}|420[0-9]{31}",
    _usps_impb,
)
FEDEX_12 = _format(
    "FedEx Express (12 digits)", r"[0-9]{12}", lambda n: weighted_mod11(n[:11], n[11], _FEDEX_12)
)
FEDEX_15 = _format("FedEx Ground (15 digits)", r"[0-9]{15}", lambda n: mod10(n[:14], n[14], evens=1, odds=3))
FEDEX_SSCC = _format(
    "FedEx Ground SSCC (18 digits)", r"[0-9]{18}", lambda n: mod10(n[:17], n[17], evens=3, odds=1)
)
# The check digit covers the shipper and package ids, after 96, the SCNC and the service.
FEDEX_96 = _format(
    "FedEx Ground 96 (22 digits)", r"96[0-9]{20}", lambda n: mod10(n[7:21], n[21], evens=1, odds=3)
)
FEDEX_32 = _format(
    "FedEx ASTRA (32 digits)", r"3[0-9]{31}", lambda n: weighted_mod11(n[16:27], n[27], _FEDEX_12)
)
FEDEX_34 = _format("FedEx (34 digits)", r"[0-9]{34}", lambda n: weighted_mod11(n[20:33], n[33], _FEDEX_34))
DHL_EXPRESS = _format("DHL Express waybill (10 or 11 digits)", r"[0-9]{10,11}", lambda n: mod7(n[:-1], n[-1]))
DHL_PIECE = _format("DHL piece id (JJD …)", r"J[A-Z]{2,3}[0-9]{9,20}")
DHL_PAKET = _format("DHL Paket (12 digits)", r"[0-9]{12}")
DHL_SSCC = _format("DHL Paket SSCC (20 digits, 00 …)", r"00[0-9]{18}", lambda n: gs1_mod10(n[2:19], n[19]))
DHL_ECOMMERCE = _format(
    "DHL eCommerce (GM …)", r"(?:GM|LX|RX|UV|CN|SG|TH|IN|HK|MY)(?=[0-9A-Z]*[0-9])[0-9A-Z]{10,39}"
)
DPD_14 = _format("DPD parcel number (14 digits)", r"[0-9]{14}")
DPD_15 = _format(
    "DPD parcel number with check character", r"[0-9]{14}[0-9A-Z]", lambda n: mod37_36(n[:14], n[14])
)
DPD_28 = _format("DPD (28 characters)", r"[0-9]{27}[0-9A-Z]", lambda n: mod37_36(n[:27], n[27]))
CANADA_POST_16 = _format(
    "Canada Post (16 digits)", r"[0-9]{16}", lambda n: mod10(n[:15], n[15], evens=3, odds=1)
)
CANADA_POST_12 = _format("Canada Post (12 digits)", r"[0-9]{12}")
ONTRAC = _format("OnTrac (C or D and 14 digits)", r"[CD][0-9]{14}", _ontrac)
LASERSHIP = _format(
    "LaserShip (LX …, 1LS …)", r"L[AIEHNX][1-3][0-9]{7}|1LS7[12][0-9]{10}|1LS7[12][0-9]{12}|1LSCX[0-9A-Z]{10}"
)


def s10_format(*countries: str) -> Format:
    """UPU S10 international item (RR123456785GB) of the postal services of `countries` (any if none)."""
    country = "|".join(countries) if countries else "[A-Z]{2}"
    where = "/".join(countries) if countries else "a country"
    return _format(f"UPU S10 (2 letters, 9 digits, {where})", rf"[A-Z]{{2}}[0-9]{{9}}(?:{country})", s10)


_FEDEX = (FEDEX_12, FEDEX_15, FEDEX_SSCC, FEDEX_96, FEDEX_32, FEDEX_34)
_DHL_PAKET = (DHL_PAKET, DHL_SSCC, DHL_PIECE)

# Amazon carrier code (lower case) -> the formats its numbers come in.
CARRIER_FORMATS: dict[str, tuple[Format, ...]] = {
    "ups": (UPS_1Z, UPS_WAYBILL),
    "usps": (USPS, s10_format("US")),
    "fedex": _FEDEX,
    "fedex smartpost": (USPS, *_FEDEX),
    # DHL eCommerce in the US hands parcels to USPS for the last mile: their IMpb numbers.
    "dhl": (DHL_EXPRESS, *_DHL_PAKET, DHL_ECOMMERCE, s10_format(), USPS),
    "deutsche post": (*_DHL_PAKET, s10_format("DE")),
    "royal mail": (s10_format("GB"),),
    "canada post": (CANADA_POST_16, CANADA_POST_12, s10_format("CA")),
    "india post": (s10_format("IN"),),
    "singapore post": (s10_format("SG"),),
    "china post": (s10_format("CN"),),
    "dpd": (DPD_14, DPD_15, DPD_28),
    "ontrac": (ONTRAC,),
    "lasership": (LASERSHIP,),
}


def carrier_formats(carrier_code: str) -> tuple[Format, ...]:
    """The formats of an Amazon carrier code; () when its numbers are not checked."""
    return CARRIER_FORMATS.get((carrier_code or "").strip().lower(), ())


def tracking_number_mismatch(*, carrier_code: str, tracking_number: str) -> str:
    """Why the number is not one of the carrier's, or "" (it is, or the carrier is not checked)."""
    formats = carrier_formats(carrier_code)
    if not formats:
        return ""
    number = tracking_number_clean(tracking_number)
    shaped = [f for f in formats if f.matches(number)]
    if any(f.check is None or f.check(number) for f in shaped):
        return ""
    if shaped:
        names = ", ".join(f.name for f in shaped)
        return (
            f"Tracking number {number} has the shape of {names} but its check digit is wrong: "
            "a typo? Correct the package, or Send anyway if the carrier's label says so."
        )
    names = "; ".join(f.name for f in formats)
    return (
        f"Tracking number {number} is not a {carrier_code} number ({names}): another carrier's "
        "number or a package id? Correct the package, or Send anyway if the carrier's label says so."
    )
