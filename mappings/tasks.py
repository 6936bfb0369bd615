"""django-q2 tasks: they take ids only and call services."""

from .services import import_job_run


def import_job_run_task(job_id: int) -> str:
    report = import_job_run(job_id=job_id)
    return "already taken by another worker" if report is None else report.summary()
