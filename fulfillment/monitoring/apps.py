from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "fulfillment.monitoring"
    label = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from django.core.signals import request_started
        from django_q.signals import pre_execute

        from fulfillment.core import logs

        # Each request and each task starts with no store or run in its log lines.
        request_started.connect(logs.job_context_clear_on_request, dispatch_uid="monitoring-log-request")
        pre_execute.connect(logs.job_context_clear_on_task, dispatch_uid="monitoring-log-task")
