"""Writes: CSV import jobs for the mapping tables (the admin's import calls these)."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from .imports import ImportReport, csv_row_count, mapping_csv_import
from .models import ImportJob

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
    for name, value in extra.items():
        setattr(job, name, value)
    job.save(
        update_fields=[
            "rows_total",
            "rows_new",
            "rows_changed",
            "rows_unchanged",
            "errors",
            *extra,
        ]
    )


def import_job_create(*, kind: str, upload: UploadedFile, user=None) -> ImportJob:
    """Store the uploaded file (in the media storage, so any web process or
    worker can read it) and check it without writing: the preview."""
    job = ImportJob(kind=kind, file_name=upload.name[:255], created_by=user)
    job.file.save(upload.name, upload, save=False)
    job.save()
    report = mapping_csv_import(kind=kind, data=_read(job), dry_run=True)
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
        report = mapping_csv_import(kind=job.kind, data=_read(job), progress=progress)
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
