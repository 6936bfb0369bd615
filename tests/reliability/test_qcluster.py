"""Two real `qcluster` processes on one PostgreSQL database with the Redis broker.

Ten stores pull orders every minute (and sweep confirmations every minute)
against the sandbox served by `runserver` on loopback, for a few minutes,
while the "WMS" ships what was released and new orders arrive. Then, from
the database: no store's runs of one job kind overlapped, every scheduled
tick became exactly one run, and every package was confirmed exactly once.

Marked `slow` (about four minutes): run by `make test-slow`, skipped otherwise.
Uses its own database (fulfillment_proof_mp, recreated) and Redis db 7
(flushed). Every process it starts is killed at the end, whatever happens.
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
DB_NAME = "fulfillment_proof_mp"
REDIS_URL = "redis://127.0.0.1:6379/7"
STORES = 10
PULL_TASK = "fulfillment.orders.tasks.order_pull_task"
SWEEP_TASK = "fulfillment.shipments.tasks.confirmations_sweep_task"
RUN_SECONDS = int(os.environ.get("QCLUSTER_RUN_SECONDS", "200"))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif("'slow' not in config.getoption('markexpr')", reason="multi-process: make test-slow"),
]

SETUP = """
import json
from django.utils import timezone
from django_q.models import Schedule
from connections.models import Marketplace, Store
from fulfillment.orders.models import Warehouse
from fulfillment.jobs.schedules import schedules_sync
from mappings.models import ServiceLevel, ShippingMethodMapping
from sandbox.orders import sandbox_orders_create
from sandbox.sellers import sandbox_application_ensure, sandbox_seller_ensure

sandbox_application_ensure()
warehouse = Warehouse.objects.create(code="MP", name="Multi-process DC")
ShippingMethodMapping.objects.bulk_create(
    ShippingMethodMapping(
        marketplace=Marketplace.objects.get(code="US"),
        service_level=level,
        prime=None,
        carrier="UPS",
        ship_code="GND",
    )
    for level in ServiceLevel.values
)
for s in range(%(stores)d):
    spid, token = f"A{s:05d}MPROC", f"Atzr|mp-{s}"
    seller = sandbox_seller_ensure(
        selling_partner_id=spid, name=f"MP {s}", marketplace_codes=("US",), refresh_token=token
    )
    sandbox_orders_create(seller=seller, count=20, seed=s, status="UNSHIPPED")
    Store.objects.create(
        name=f"MP {s}", marketplace=Marketplace.objects.get(code="US"), warehouse=warehouse,
        selling_partner_id=spid, authorization_status=Store.Authorization.CONNECTED, refresh_token=token,
    )
# Below the admin's 5-minute floor on purpose: many ticks in a short test.
Store.objects.update(order_pull_minutes=1)
schedules_sync()
from django.db.models import Q
ours = Q(name__startswith="order-pull:") | Q(name__startswith="shipment-confirm:")
Schedule.objects.filter(ours).update(next_run=timezone.now())
# Only the jobs under test run (no reconciliation, schedule repair, purge, inventory push, alerts).
Schedule.objects.exclude(ours).update(repeats=0)
print(json.dumps(dict(Schedule.objects.exclude(repeats=0).values_list("name", "next_run")), default=str))
"""

# The end of the observed window: no tick after this; what is queued still runs.
STOP_SCHEDULES = """
import json
from django_q.models import Schedule
print(json.dumps(dict(Schedule.objects.exclude(repeats=0).values_list("name", "next_run")), default=str))
Schedule.objects.update(repeats=0)
"""

WMS_AND_AMAZON = """
import datetime as dt
from django.utils import timezone
from fulfillment.orders.models import Order
from fulfillment.wms.services import ShipmentInput, ShipmentLineInput, shipment_record
from sandbox.models import SandboxSeller
from sandbox.orders import sandbox_orders_create

for n, seller in enumerate(SandboxSeller.objects.order_by("pk")):
    sandbox_orders_create(seller=seller, count=3, seed=1000 + n + %(round)d * 100, status="UNSHIPPED")
shipped = 0
for order in Order.objects.filter(status=Order.Status.RELEASED, shipments__isnull=True).prefetch_related("lines"):
    shipment_record(
        warehouse=order.store.warehouse,
        data=ShipmentInput(
            order=str(order.pk), package_id=f"P{order.pk}", carrier="UPS",
            tracking_number=f"1ZMP{order.pk:010d}", ship_date=timezone.now() - dt.timedelta(minutes=1),
            lines=[ShipmentLineInput(quantity=l.quantity_ordered, order_item_id=l.order_item_id)
                   for l in order.lines.all()],
        ),
        source="api",
    )
    shipped += 1
print(shipped)
"""

RESULTS = """
import json
from django_q.models import Schedule, Task
from fulfillment.orders.models import Order
from fulfillment.jobs.models import SyncRun
from fulfillment.shipments.models import Shipment
from sandbox.models import SandboxPackage
print(json.dumps({
    "runs": list(SyncRun.objects.values("store_id", "kind", "started_at", "finished_at", "ok", "error")),
    "tasks": [
        {"func": t.func, "args": list(t.args or ()), "started": t.started, "stopped": t.stopped,
         "success": t.success, "result": t.result}
        for t in Task.objects.all()
    ],
    "orders": Order.objects.count(),
    "shipments": list(Shipment.objects.values_list("order__amazon_order_id", "package_reference")),
    "packages": list(SandboxPackage.objects.values_list("order__order_id", "package_reference_id")),
}, default=str))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mp_env() -> dict[str, str]:
    import psycopg
    import redis

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    redis.Redis.from_url(REDIS_URL).flushdb()
    port = _free_port()
    base = f"http://127.0.0.1:{port}/sandbox"
    keep = ("PATH", "HOME", "LANG")
    return {
        **{k: v for k, v in os.environ.items() if k in keep},
        "DJANGO_SETTINGS_MODULE": "fulfillment.settings",
        "DJANGO_READ_DOT_ENV": "0",
        "DEBUG": "1",
        "LOG_LEVEL": "INFO",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "Q_BROKER": REDIS_URL,
        "Q_WORKERS": "2",
        "SANDBOX_ENABLED": "1",
        "SANDBOX_RATE_LIMITS": "0",
        "SP_API_ENDPOINT": base,
        "LWA_TOKEN_URL": f"{base}/auth/o2/token",
        "SELLER_CENTRAL_URL": base,
        "LWA_CLIENT_ID": "amzn1.application-oa2-client.sandbox",
        "LWA_CLIENT_SECRET": "sandbox-client-secret",
        "SP_API_APP_ID": "amzn1.sp.solution.sandbox",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "CONFIRMATION_SWEEP_MINUTES": "1",
        "PORT": str(port),
    }


def _manage(env, *args, timeout=300) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # The last line: `shell` prints its automatic imports first.
    lines = result.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def _overlaps(runs: list[dict]) -> list[tuple]:
    # The order download and the reconciliation share one lease: one lock kind.
    lock_kind = {"reconcile": "order_pull"}
    by_lock = collections.defaultdict(list)
    for run in runs:
        by_lock[(run["store_id"], lock_kind.get(run["kind"], run["kind"]))].append(run)
    found = []
    for key, group in by_lock.items():
        group.sort(key=lambda r: r["started_at"])
        for earlier, later in itertools.pairwise(group):
            if earlier["finished_at"] is None or later["started_at"] < earlier["finished_at"]:
                found.append((key, earlier, later))
    return found


def test_two_clusters_run_every_tick_once_and_never_overlap_a_store(mp_env, tmp_path):
    # given: a migrated database, ten stores with one-minute schedules
    _manage(mp_env, "migrate", "--noinput")
    first_tick = json.loads(_manage(mp_env, "shell", "-c", SETUP % {"stores": STORES}))
    assert len(first_tick) == 2 * STORES
    processes: dict[str, subprocess.Popen] = {}
    logs = {name: open(tmp_path / f"{name}.log", "w") for name in ("web", "cluster1", "cluster2")}  # noqa: SIM115
    try:
        processes["web"] = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{mp_env['PORT']}"],
            cwd=ROOT,
            env=mp_env,
            stdout=logs["web"],
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for name in ("cluster1", "cluster2"):
            processes[name] = subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"],
                cwd=ROOT,
                env=mp_env,
                stdout=logs[name],
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        # when: a few minutes pass; twice the WMS ships and Amazon gets new orders
        started = time.monotonic()
        for round_no, at in enumerate((RUN_SECONDS * 0.35, RUN_SECONDS * 0.65)):
            time.sleep(max(0.0, at - (time.monotonic() - started)))
            _manage(mp_env, "shell", "-c", WMS_AND_AMAZON % {"round": round_no})
        time.sleep(max(0.0, RUN_SECONDS - (time.monotonic() - started)))
        next_tick = json.loads(_manage(mp_env, "shell", "-c", STOP_SCHEDULES))
        time.sleep(20)  # the clusters finish what is queued
    finally:
        for name in ("cluster1", "cluster2", "web"):
            process = processes.get(name)
            if process is None:
                continue
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=40)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        for log in logs.values():
            log.close()

    # then
    result = json.loads(_manage(mp_env, "shell", "-c", RESULTS))
    runs, tasks = result["runs"], result["tasks"]
    processed = {
        name: (tmp_path / f"{name}.log").read_text().count("Processed") for name in ("cluster1", "cluster2")
    }
    pulls = [t for t in tasks if t["func"] == PULL_TASK]
    sweeps = [t for t in tasks if t["func"] == SWEEP_TASK]
    pull_runs = [r for r in runs if r["kind"] == "order_pull"]
    ran = collections.Counter(
        (t["func"].rsplit(".", 1)[1], t["args"][0]) for t in tasks if t["func"] in (PULL_TASK, SWEEP_TASK)
    )
    expected = {}
    for name, first in first_tick.items():
        minutes = (
            dt.datetime.fromisoformat(next_tick[name]) - dt.datetime.fromisoformat(first)
        ).total_seconds()
        func = "order_pull_task" if name.startswith("order-pull:") else "confirmations_sweep_task"
        expected[name] = (func, int(name.rsplit(":", 1)[1]), round(minutes / 60))
    figures = {
        "seconds": RUN_SECONDS,
        "processed_per_cluster": processed,
        "pull_tasks": len(pulls),
        "pull_runs": len(pull_runs),
        "sweep_tasks": len(sweeps),
        "runs": len(runs),
        "failed_runs": sum(r["ok"] is False for r in runs),
        "orders": result["orders"],
        "packages": len(result["packages"]),
        "overlaps": len(_overlaps(runs)),
        "scheduled_ticks": sum(t for _, _, t in expected.values()),
        "tasks_for_ticks": sum(ran.values()),
    }
    sys.stdout.write(f"qcluster figures: {json.dumps(figures)}\n")
    if os.environ.get("RELIABILITY_QCLUSTER_REPORT"):
        Path(os.environ["RELIABILITY_QCLUSTER_REPORT"]).write_text(json.dumps(figures, indent=2))

    # both clusters worked
    assert all(n > 0 for n in processed.values()), processed
    # no store's runs of one lock kind overlapped
    assert not _overlaps(runs)
    assert figures["failed_runs"] == 0, [r["error"] for r in runs if r["ok"] is False][:3]
    # every tick became exactly one task, and each task one run (none found its store busy)
    assert all(t["success"] for t in tasks), [t["result"] for t in tasks if not t["success"]][:3]
    assert len(pull_runs) == len(pulls)
    # each schedule ticked every minute from its first run to the end: one task per tick
    for name, (func, store_id, ticks) in expected.items():
        assert ticks >= 2, (name, first_tick[name], next_tick[name])
        assert ran[(func, store_id)] == ticks, (name, ticks, ran[(func, store_id)])
    # every package confirmed exactly once
    shipments = collections.Counter((a, str(r)) for a, r in result["shipments"])
    packages = collections.Counter(tuple(p) for p in result["packages"])
    assert shipments and packages == shipments
