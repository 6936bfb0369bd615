"""Writes: mapping rows saved by a person, and CSV import jobs for the mapping
tables (the admin's pages call these).

Who may write what is decided here, on the rows actually written: a merchant
user writes only rows of its own stores; the defaults (an empty store, which
apply to every store of every merchant) are for warehouse users only.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.utils import timezone
from django_q.tasks import async_task

from connections.scoping import stores_visible, user_is_scoped

from .csv_files import csv_row_count
from .imports import ImportReport, mapping_csv_import
from .models import ImportJob, ShippingMethodMapping, SkuMapping
from .signals import release_mappings_changed

DEFAULT_FOR_WAREHOUSE_ONLY = (
    "Choose one of your stores: a default for every store applies to every merchant "
    "and is set by the warehouse."
)


class ImportOutsideScope(Exception):
    """A file with rows for stores the user may not write (or for every store)."""

    def __init__(self, names: list[str]):
        super().__init__(f"You may not import rows for: {', '.join(names)}.")
        self.names = names


def mapping_store_ids(*, user) -> frozenset[int] | None:
    """The stores whose mappings `user` may write; None: every store and the defaults."""
    if user is None or not user_is_scoped(user):
        return None
    return frozenset(stores_visible(user=user).values_list("pk", flat=True))


def mapping_store_check(*, user, mapping: models.Model) -> None:
    """ValidationError({"store": ...}) when `user` may not write this mapping row."""
    store_ids = mapping_store_ids(user=user)
    if store_ids is not None:
        if mapping.store_id is None:
            raise ValidationError({"store": DEFAULT_FOR_WAREHOUSE_ONLY})
        if mapping.store_id not in store_ids:
            raise ValidationError({"store": "This store is not one of your stores."})
        if mapping.pk is not None:
            # Moving a row is writing the row it was: both ends must be the user's.
            before = type(mapping)._default_manager.filter(pk=mapping.pk).values_list("store_id", flat=True)
            if any(store_id not in store_ids for store_id in before):
                raise ValidationError({"store": "This row is not one of your stores' rows."})


def mapping_save(*, user, mapping: models.Model) -> models.Model:
    """Save a SKU, shipping-method or carrier mapping a person edited (admin Add/Change).

    Checks the user's stores here, whatever the form let through.
    """
    mapping_store_check(user=user, mapping=mapping)
    with transaction.atomic():
        mapping.save()
        release_mappings_notify(mapping=mapping)
    return mapping


def release_mappings_notify(*, mapping: models.Model) -> None:
    """Tell listeners a SKU or shipping-method mapping changed (held orders may release)."""
    kind = {SkuMapping: "sku", ShippingMethodMapping: "shipping_method"}.get(type(mapping))
    if kind is None:
        return
    release_mappings_changed.send(
        sender=type(mapping),
        kind=kind,
        store_ids={mapping.store_id} if mapping.store_id else set(),
        marketplace_ids={mapping.marketplace_id} if getattr(mapping, "marketplace_id", None) else set(),
    )


# Above this many rows the confirmed import runs as a django-q2 task, so the
# admin's request does not wait on it.
DEFAULT_BACKGROUND_ROWS = 5000


def background_rows() -> int:
    return getattr(settings, "MAPPINGS_IMPORT_BACKGROUND_ROWS", DEFAULT_BACKGROUND_ROWS)


def _read(job: ImportJob) -> bytes:
    with job.file.open("rb") as f:
        return f.read()


def _store_report(job: ImportJob, report: ImportReport, **extra) -> None:
    job.rows_total = report.total
    job.rows_new, job.rows_changed, job.rows_unchanged = report.new, report.changed, report.unchanged
    job.errors = [{"line": e.line, "message": e.message} for e in report.errors]
    job.preview = report.preview
    for name, value in extra.items():
        setattr(job, name, value)
    job.save(
        update_fields=[
            "rows_total",
            "rows_new",
            "rows_changed",
            "rows_unchanged",
            "errors",
            "preview",
            *extra,
        ]
    )


def import_job_create(*, kind: str, upload: UploadedFile, user=None) -> ImportJob:
    """Check the uploaded file without writing (the preview), then store it (in the
    media storage, so any web process or worker can read it) with the result.

    Raises ImportOutsideScope, storing nothing, when a row names a store the
    user may not write or leaves the store empty (every store) for a merchant user.
    """
    data = upload.read()
    report = mapping_csv_import(kind=kind, data=data, dry_run=True, store_ids=mapping_store_ids(user=user))
    if report.refused_stores:
        raise ImportOutsideScope(sorted(report.refused_stores))
    job = ImportJob(kind=kind, file_name=upload.name[:255], created_by=user)
    job.file.save(upload.name, ContentFile(data), save=False)
    job.save()
    status = ImportJob.Status.FAILED if report.errors else ImportJob.Status.PREVIEWED
    _store_report(job, report, status=status)
    return job


def import_job_confirm(*, job: ImportJob) -> ImportJob:
    """Run a previewed import: now when small, as a background task when big."""
    if job.status != ImportJob.Status.PREVIEWED:
        return job
    if csv_row_count(data=_read(job)) > background_rows():
        claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEWED).update(
            status=ImportJob.Status.QUEUED
        )
        if claimed:
            # Queue only once the QUEUED row is committed, and pass only its id.
            transaction.on_commit(lambda: async_task("mappings.tasks.import_job_run_task", job.pk))
        job.refresh_from_db()
        return job
    import_job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def import_job_run(*, job_id: int) -> ImportReport | None:
    """Import a job's file, all-or-nothing; None when another worker has it.

    Safe to run twice (django-q2 delivers at least once): the job is claimed
    with a compare-and-set, and the import itself is an idempotent upsert.
    """
    claimed = ImportJob.objects.filter(
        pk=job_id, status__in=[ImportJob.Status.PREVIEWED, ImportJob.Status.QUEUED]
    ).update(status=ImportJob.Status.RUNNING, started_at=timezone.now(), rows_done=0)
    if not claimed:
        return None
    job = ImportJob.objects.get(pk=job_id)

    def progress(done: int) -> None:
        ImportJob.objects.filter(pk=job_id).update(rows_done=done)

    try:
        # The creator's scope again: stores may have changed hands since the preview.
        report = mapping_csv_import(
            kind=job.kind,
            data=_read(job),
            progress=progress,
            store_ids=mapping_store_ids(user=job.created_by),
        )
    except Exception as e:
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED,
            finished_at=timezone.now(),
            errors=[{"line": 0, "message": f"import stopped: {type(e).__name__}: {e}"}],
        )
        raise
    status = ImportJob.Status.FAILED if report.errors else ImportJob.Status.DONE
    _store_report(
        job,
        report,
        status=status,
        rows_done=report.total if report.ok else 0,
        finished_at=timezone.now(),
    )
    return report
