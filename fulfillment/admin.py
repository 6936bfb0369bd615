from django.contrib import admin

from .models import Warehouse


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "time_zone", "city", "country_code", "operations_email")
    search_fields = ("code", "name", "city")
    list_filter = ("country_code",)
    fieldsets = (
        (None, {"fields": ("code", "name", "time_zone", "operations_email")}),
        (
            "Ship-from address",
            {
                "fields": (
                    "address_name",
                    "address_line1",
                    "address_line2",
                    "city",
                    "state_or_region",
                    "postal_code",
                    "country_code",
                    "phone",
                )
            },
        ),
    )
