"""Model names read as English in the admin ("inventory pushes", not "Inventory pushs")."""

from __future__ import annotations

import re

from django.apps import apps
from django.contrib import admin


def _naive_plural_slip(singular: str, plural: str) -> bool:
    # Django adds "s": wrong after s, sh, ch, x, z and after a consonant + y.
    return plural == singular + "s" and bool(re.search(r"(s|sh|ch|x|z|[^aeiou]y)$", singular))


def test_no_model_name_has_a_plural_slip():
    slips = [
        f"{m._meta.label}: {m._meta.verbose_name_plural}"
        for m in apps.get_models()
        if _naive_plural_slip(str(m._meta.verbose_name), str(m._meta.verbose_name_plural))
    ]
    assert slips == []


def test_registered_models_spell_their_abbreviations():
    names = {str(m._meta.verbose_name) for m in admin.site._registry}
    assert not any(name.startswith("o auth") or name.startswith("csv ") for name in names)
    assert str(apps.get_model("inventory", "InventoryPush")._meta.verbose_name_plural) == "inventory pushes"
    assert str(apps.get_model("connections", "OAuthState")._meta.verbose_name) == "OAuth state"
    assert str(apps.get_model("wms", "CsvImportConfirmation")._meta.verbose_name) == "CSV import confirmation"
