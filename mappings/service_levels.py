"""Amazon shipping service levels, as Orders API 2026-01-01 names them.

People type them the way Seller Central shows them ("SecondDay", "Second day")
or the way the API sends them ("SECOND_DAY"); the product stores the API value.
"""

from django.db import models


class ServiceLevel(models.TextChoices):
    # API value (fulfillmentServiceLevel), Seller Central name
    STANDARD = "STANDARD", "Standard"
    EXPEDITED = "EXPEDITED", "Expedited"
    SECOND_DAY = "SECOND_DAY", "SecondDay"
    NEXT_DAY = "NEXT_DAY", "NextDay"
    PRIORITY = "PRIORITY", "Priority"
    SAME_DAY = "SAME_DAY", "SameDay"
    SCHEDULED = "SCHEDULED", "Scheduled"
    FREE_ECONOMY = "FREE_ECONOMY", "FreeEconomy"


def _squash(value: str) -> str:
    return "".join(ch for ch in value.upper() if ch.isalnum())


_BY_SQUASHED = {_squash(value): value for value in ServiceLevel.values}


def service_level_normalize(value: str) -> str:
    """'SecondDay', 'second_day', 'Second Day', 'SECOND_DAY' -> 'SECOND_DAY'.

    Raises ValueError naming the accepted values for anything else.
    """
    found = _BY_SQUASHED.get(_squash(value or ""))
    if found is None:
        accepted = ", ".join(f"{level.value} ({level.label})" for level in ServiceLevel)
        raise ValueError(f"unknown service level {value!r}; use one of {accepted}")
    return found
