"""CSV imports in the admin, for any model the warehouse feeds by file (shipments, stock levels).

Check the file (nothing written), show every problem or a preview, then
confirm. The confirmed file travels in the page, signed and single-use.
"""

from __future__ import annotations

import secrets

from django import forms
from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from connections.scoping import user_is_scoped
from fulfillment.orders.models import Warehouse
from fulfillment.wms.import_confirmations import csv_import_confirmation_claim
from mappings.csv_files import CsvUnreadable, csv_text, validate_csv_upload

_SALT = "fulfillment.wms.csv-import"
_PREVIEW_MAX_AGE = 60 * 60


class CsvImportForm(forms.Form):
    warehouse = forms.ModelChoiceField(Warehouse.objects.all())
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8, comma-separated, header row first.",
        validators=[validate_csv_upload],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Asked only when there is a choice: with one warehouse it is that one.
        only = list(Warehouse.objects.order_by("pk")[:2])
        if len(only) == 1:
            field = self.fields["warehouse"]
            field.initial = only[0].pk
            field.widget = forms.HiddenInput()


class CsvImportAdminMixin:
    """Check the file (nothing written), show every problem or a preview, then
    confirm. The confirmed file travels in the page, signed, so any web
    process can finish the import."""

    import_form = CsvImportForm
    import_columns: tuple[str, ...] = ()

    def run_import(self, *, warehouse, data: str, options: dict, dry_run: bool):
        raise NotImplementedError

    def _changelist_url(self) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")

    def csv_import_view(self, request: HttpRequest):
        if not self.has_add_permission(request) and not self.has_change_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        # A file names orders of the whole warehouse: not for users scoped to one merchant.
        if user_is_scoped(request.user):
            raise PermissionDenied
        form, report, payload = self.import_form(), None, None
        if request.method == "POST" and "payload" in request.POST:
            try:
                saved = signing.loads(request.POST["payload"], salt=_SALT, max_age=_PREVIEW_MAX_AGE)
            except signing.BadSignature:
                messages.error(request, "The preview expired: check the file again.")
                return HttpResponseRedirect(request.path)
            warehouse = get_object_or_404(Warehouse, pk=saved["warehouse"])
            # Should the confirmation fail, the form offers the same warehouse again.
            form = self.import_form(initial={"warehouse": warehouse.pk})
            options = {**saved, "sent_by": request.user.get_username()}
            with transaction.atomic():
                # Single use: the payload's nonce is claimed with the import, in one transaction.
                if not csv_import_confirmation_claim(
                    nonce=str(saved.get("nonce", "")), max_age_seconds=_PREVIEW_MAX_AGE
                ):
                    messages.warning(request, "This import was already confirmed: nothing changed.")
                    return HttpResponseRedirect(
                        reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
                    )
                report = self.run_import(
                    warehouse=warehouse, data=saved["data"], options=options, dry_run=False
                )
                if not report.ok:
                    transaction.set_rollback(True)  # nothing written: the same payload may be confirmed again
            if report.ok and report.held_id:
                messages.warning(
                    request,
                    format_html(
                        'Not imported: {} It waits in <a href="{}">Held inventory snapshots</a> for a '
                        "person to apply or discard it.",
                        report.held_reason,
                        reverse("admin:inventory_heldinventorysnapshot_change", args=[report.held_id]),
                    ),
                )
                return HttpResponseRedirect(
                    reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
                )
            if report.ok:
                messages.success(request, f"Imported: {report.summary()}.")
                return HttpResponseRedirect(
                    reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
                )
        elif request.method == "POST":
            form = self.import_form(request.POST, request.FILES)
            text = None
            if form.is_valid():
                try:
                    text = csv_text(form.cleaned_data["file"].read())
                except CsvUnreadable as exc:
                    form.add_error("file", str(exc))
            if text is not None:
                options = {k: v for k, v in form.cleaned_data.items() if k not in ("file", "warehouse")}
                warehouse = form.cleaned_data["warehouse"]
                report = self.run_import(warehouse=warehouse, data=text, options=options, dry_run=True)
                if report.ok:
                    payload = signing.dumps(
                        {"warehouse": warehouse.pk, "data": text, "nonce": secrets.token_hex(16), **options},
                        salt=_SALT,
                        compress=True,
                    )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Import {self.opts.verbose_name_plural} from CSV",
            "form": form,
            "report": report,
            "payload": payload,
            "columns": ", ".join(self.import_columns),
        }
        return TemplateResponse(request, "wms/import.html", context)
