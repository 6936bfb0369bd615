import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            "%(value)s is not a time zone name (e.g. America/New_York).",
            params={"value": value},
        )


class Warehouse(models.Model):
    """A fulfillment warehouse. Its address is the ship-from of every package."""

    code = models.CharField(
        max_length=32,
        unique=True,
        validators=[RegexValidator(r"^[A-Za-z0-9_-]+$", "Use letters, digits, - and _ only.")],
        help_text="Short code the WMS and the command line use, e.g. NJ1.",
    )
    name = models.CharField(max_length=200)
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="Inventory push times and date-only ship dates are in this zone.",
    )
    operations_email = models.EmailField(
        blank=True, help_text="Alerts (failing jobs, rejected confirmations) go here."
    )
    address_name = models.CharField("ship-from name", max_length=200, blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state_or_region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country_code = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    phone = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"
