"""The task cluster's heartbeat: a row a scheduled task touches every minute.

django-q2 keeps its own cluster stats in the broker or a per-process cache,
where a web process on another machine cannot always read them. A row written
by a scheduled task proves the whole path works: scheduler, broker, a worker
and the database.
"""

from django.db import models


class Heartbeat(models.Model):
    name = models.CharField(max_length=64, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
