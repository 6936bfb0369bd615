from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from import_export.admin import ExportMixin

from connections.admin_scoping import OwnedByUserAdminMixin, StoreScopedAdminMixin
from connections.scoping import user_is_scoped

from .csv_files import validate_csv_upload
from .import_tables import mapping_columns
from .imports import RELEASE_KINDS
from .models import CarrierMapping, ImportJob, ShippingMethodMapping, SkuMapping
from .resources import CarrierMappingResource, ShippingMethodMappingResource, SkuMappingResource
from .services import (
    DEFAULT_FOR_WAREHOUSE_ONLY,
    ImportOutsideScope,
    background_rows,
    import_job_confirm,
    import_job_create,
    mapping_save,
    mapping_store_check,
    mapping_store_ids,
)


def _recheck_message(request, *, store_ids, marketplace_ids) -> None:
    """Say how many held orders the saved mapping (or import; store_ids None: every store)
    may release; the orders package re-checks them in a task once the change commits."""
    from fulfillment.orders.models import Order
    from fulfillment.orders.selectors import held_orders_count

    if store_ids is None:
        count = Order.objects.held().count()
    else:
        count = held_orders_count(store_ids=store_ids, marketplace_ids=marketplace_ids)
    if not count:
        return
    runs = reverse("admin:jobs_syncrun_changelist") + "?kind__exact=hold_recheck"
    messages.info(
        request,
        format_html(
            "Re-checking {} held order(s) this change may release, in the background; "
            'the result shows on the <a href="{}">held orders re-check runs</a>.',
            count,
            runs,
        ),
    )


class CsvUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8, comma-separated, header row first.",
        validators=[validate_csv_upload],
    )


class _MappingAdmin(StoreScopedAdminMixin, ExportMixin, admin.ModelAdmin):
    """Export through django-import-export; import through our own preview and
    confirm pages on top of `mappings.services` (the same path as the
    background job and `manage.py import`)."""

    import_kind: str
    import_export_change_list_template = "admin/mappings/change_list.html"
    show_full_result_count = False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if user_is_scoped(request.user) and "store" in form.base_fields:
            # Empty = the default for every store, a warehouse decision: not a merchant's.
            field = form.base_fields["store"]
            field.required = True
            field.empty_label = None
            field.error_messages = {**field.error_messages, "required": DEFAULT_FOR_WAREHOUSE_ONLY}

            class ScopedForm(form):
                def _post_clean(self):
                    super()._post_clean()
                    # The service's own check, shown on the form instead of a 500.
                    try:
                        mapping_store_check(user=request.user, mapping=self.instance)
                    except ValidationError as e:
                        self._update_errors(e)

            ScopedForm.__name__ = form.__name__
            return ScopedForm
        return form

    def save_model(self, request, obj, form, change):
        mapping_save(user=request.user, mapping=obj)
        if self.import_kind in RELEASE_KINDS:
            _recheck_message(
                request,
                store_ids={obj.store_id} if obj.store_id else set(),
                marketplace_ids={obj.marketplace_id} if getattr(obj, "marketplace_id", None) else set(),
            )

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("import-csv/", self.admin_site.admin_view(self.import_view), name="%s_%s_import_csv" % info),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "has_csv_import_permission": self.has_add_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def import_view(self, request: HttpRequest):
        if not self.has_add_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        form = CsvUploadForm()
        job = None
        if request.method == "POST" and "confirm" in request.POST:
            # A merchant user confirms only its own previews, never another's file.
            jobs = ImportJob.objects.all()
            if user_is_scoped(request.user):
                jobs = jobs.filter(created_by=request.user)
            job = get_object_or_404(jobs, pk=request.POST["confirm"], kind=self.import_kind)
            job = import_job_confirm(job=job)
            if job.status == ImportJob.Status.DONE:
                messages.success(
                    request,
                    f"Imported {job.rows_total} rows: {job.rows_new} new, {job.rows_changed} changed, "
                    f"{job.rows_unchanged} unchanged.",
                )
                if self.import_kind in RELEASE_KINDS and (job.rows_new or job.rows_changed):
                    # A merchant user's import touched only its stores: count only theirs.
                    _recheck_message(
                        request, store_ids=mapping_store_ids(user=request.user), marketplace_ids=set()
                    )
                return HttpResponseRedirect(
                    reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
                )
            if job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING):
                messages.info(request, "The import runs in the background; this page shows its progress.")
                return HttpResponseRedirect(reverse("admin:mappings_importjob_change", args=[job.pk]))
        elif request.method == "POST":
            form = CsvUploadForm(request.POST, request.FILES)
            if form.is_valid():
                # The import checks the user's stores on the rows it would write.
                try:
                    job = import_job_create(
                        kind=self.import_kind, upload=form.cleaned_data["file"], user=request.user
                    )
                except ImportOutsideScope as e:
                    form.add_error("file", str(e))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Import {self.opts.verbose_name_plural} from CSV",
            "form": form,
            "job": job,
            "columns": ", ".join(mapping_columns(kind=self.import_kind)),
            "background_rows": background_rows(),
        }
        return TemplateResponse(request, "admin/mappings/import.html", context)


@admin.register(SkuMapping)
class SkuMappingAdmin(_MappingAdmin):
    import_kind = ImportJob.Kind.SKU
    resource_classes = [SkuMappingResource]
    list_display = ("amazon_sku", "asin", "warehouse_sku", "units", "sync_inventory", "buffer", "store")
    list_filter = ("store", "sync_inventory")
    list_select_related = ("store",)
    search_fields = ("amazon_sku", "asin", "warehouse_sku")
    autocomplete_fields = ()
    readonly_fields = ("created_at", "updated_at")


@admin.register(ShippingMethodMapping)
class ShippingMethodMappingAdmin(_MappingAdmin):
    import_kind = ImportJob.Kind.SHIPPING_METHOD
    resource_classes = [ShippingMethodMappingResource]
    list_display = ("service_level", "prime", "carrier", "ship_code", "store_or_default")
    list_filter = ("marketplace", "store", "service_level", "prime")
    list_select_related = ("store", "marketplace")
    search_fields = ("carrier", "ship_code", "store__name")
    readonly_fields = ("created_at", "updated_at")
    fields = (
        "store",
        "marketplace",
        "service_level",
        "prime",
        "carrier",
        "ship_code",
        "created_at",
        "updated_at",
    )

    @admin.display(description="store", ordering="store__name")
    def store_or_default(self, obj):
        return obj.store or f"Default for {obj.marketplace}"


@admin.register(CarrierMapping)
class CarrierMappingAdmin(_MappingAdmin):
    import_kind = ImportJob.Kind.CARRIER
    resource_classes = [CarrierMappingResource]
    list_display = ("warehouse_carrier", "amazon_carrier_code", "amazon_carrier_name", "store_or_default")
    list_filter = ("store", "amazon_carrier_code")
    list_select_related = ("store",)
    search_fields = ("warehouse_carrier", "amazon_carrier_code", "amazon_carrier_name", "store__name")
    readonly_fields = ("created_at", "updated_at")

    @admin.display(description="store", ordering="store__name")
    def store_or_default(self, obj):
        return obj.store or "Default (every store)"


@admin.register(ImportJob)
class ImportJobAdmin(OwnedByUserAdminMixin, admin.ModelAdmin):
    """Read-only: jobs are made by the mapping admins' "Import CSV" pages."""

    list_display = (
        "__str__",
        "kind",
        "status",
        "progress",
        "rows_total",
        "rows_new",
        "rows_changed",
        "created_by",
    )
    list_filter = ("kind", "status")
    list_select_related = ("created_by",)
    search_fields = ("file_name",)
    fields = (
        "kind",
        "file_name",
        "status",
        "progress",
        "rows_total",
        "rows_new",
        "rows_changed",
        "rows_unchanged",
        "error_list",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("preview")  # the import page shows it

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="progress")
    def progress(self, obj: ImportJob):
        return format_html(
            '<progress max="100" value="{}"></progress> {} of {} rows checked',
            obj.progress_percent,
            obj.rows_done,
            obj.rows_total,
        )

    @admin.display(description="errors")
    def error_list(self, obj: ImportJob):
        if not obj.errors:
            return "—"
        items = format_html(
            "".join(["<li>line {}: {}</li>"] * len(obj.errors)),
            *[value for e in obj.errors for value in (e["line"], e["message"])],
        )
        return format_html("<ul>{}</ul>", items)
