"""`make demo` as a person runs it: in a terminal, on a free port, on its own
SQLite file. Twenty identical WMS shipment POSTs at once never answer 500
("database is locked"), and Ctrl-C stops every process the demo started and
the command returns, leaving the port free.

One demo serves the module (it takes a while to migrate); the Ctrl-C test runs
last and also runs alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.utils import timezone

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 240
STOP_TIMEOUT = 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_taken(port: int) -> bool:
    """Something listens on the port. (SO_REUSEADDR: the closed test connections'
    TIME_WAIT entries do not count; a listener still does.)"""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            return True
        return False


def _process_tree(root: int) -> set[int]:
    """`root` and every process below it (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo.extend(children.get(pid, []))
    return tree


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Demo:
    """`make demo HOST=127.0.0.1 PORT=<free>` in a pseudo-terminal (its own session)."""

    def __init__(self, tmp: Path):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")
        }
        self.env["DATABASE_URL"] = f"sqlite:///{tmp / 'demo.sqlite3'}"
        self.output = b""
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: becomes `make` with the pty as its terminal
            try:
                os.chdir(REPO)
                os.execvpe(
                    "make",
                    ["make", "--no-print-directory", "demo", "HOST=127.0.0.1", f"PORT={self.port}"],
                    self.env,
                )
            finally:
                os._exit(127)
        self.exit_status: int | None = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    @property
    def text(self) -> str:
        return self.output.decode(errors="replace").replace("\r\n", "\n")

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if "Starting the web server" in self.text:
                try:
                    urllib.request.urlopen(f"{self.base}/admin/login/", timeout=5).close()
                    return
                except OSError:
                    pass
            if self.finished():
                break
            time.sleep(0.5)
        raise AssertionError(f"make demo did not start serving:\n{self.text[-3000:]}")

    def finished(self) -> bool:
        if self.exit_status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.exit_status = status
        return self.exit_status is not None

    def ctrl_c(self) -> None:
        """What the terminal does on Ctrl-C: SIGINT to its foreground process group."""
        os.write(self.fd, b"\x03")

    def kill_everything(self) -> None:
        for pid in _process_tree(self.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(os.getpgid(pid), signal.SIGKILL)
        if not self.finished():
            os.waitpid(self.pid, 0)
        os.close(self.fd)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    started = Demo(tmp_path_factory.mktemp("demo"))
    try:
        started.wait_until_serving()
        yield started
    finally:
        started.kill_everything()


def _api(demo: Demo, key: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{demo.base}/api/v1/{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, {"body": error.read().decode(errors="replace")[:500]}


def _make_manage(demo: Demo, args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "manage", f"PORT={demo.port}", f"ARGS={args}"],
        cwd=REPO,
        env=demo.env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_twenty_identical_shipment_posts_at_once_never_answer_500(demo):
    # given: the demo's WMS key (printed once), two orders placed now and
    # downloaded with `make manage` (the README's way to run a command next to the demo)
    key = re.search(r"key \(shown once\): (\S+)", demo.text).group(1)
    placed = _make_manage(demo, "sandbox_orders --seller A1DEMOSELLER01 --count 2")
    assert placed.returncode == 0 and "2 orders created" in placed.stdout, placed.stderr
    released = []
    for _ in range(5):
        pulled = _make_manage(demo, "pull_orders --store 'Acme US'")
        assert pulled.returncode == 0, pulled.stdout + pulled.stderr
        status, page = _api(demo, key, "orders")
        assert status == 200, page
        released = [o for o in page["results"] if o["lines"]]
        if released:
            break
        time.sleep(2)  # the task cluster's own download held the store's lock
    assert released, demo.text[-2000:]
    order = released[0]
    body = {
        "order": order["amazon_order_id"],
        "package_id": "PKG-PARALLEL-1",
        "carrier": "UPS",
        "tracking_number": "1Z999AA10123456784",
        "ship_date": timezone.now().isoformat(),
        "lines": [{"order_item_id": line["order_item_id"], "quantity": 1} for line in order["lines"][:1]],
    }

    # when: 20 at once
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: _api(demo, key, "shipments", body), range(20)))

    # then: one created, 19 the same shipment again, no error
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 19 + [201], [a for a in answers if a[0] >= 300][:2]
    assert len({answer["id"] for _, answer in answers}) == 1


def test_ctrl_c_stops_every_process_and_frees_the_port(demo):
    # given: the demo serving, with its web server and task cluster (and workers) running
    processes = _process_tree(demo.pid)
    assert len(processes) >= 5, processes  # make, bin/demo, runserver, qcluster and its workers
    assert _port_taken(demo.port)

    # when
    demo.ctrl_c()
    deadline = time.monotonic() + STOP_TIMEOUT
    while not demo.finished() and time.monotonic() < deadline:
        time.sleep(0.2)

    # then: make returned, nothing it started is left, the port is free
    assert demo.finished(), f"make demo still running after Ctrl-C:\n{demo.text[-2000:]}"
    left = [pid for pid in processes if _running(pid)]
    assert left == [], left
    assert not _port_taken(demo.port)
    assert "Stopped." in demo.text
