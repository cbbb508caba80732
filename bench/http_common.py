"""What the benchmarks over HTTP share (bench/acs_http.py, bench/side_by_side.py): a free
port, gunicorn started in a process group of its own and stopped with that whole group,
the CPU time its workers spend (Linux /proc), and a load generator: client threads
taking jobs from one queue. No Django here."""
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.client import HTTPConnection
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds(pids) -> float:
    """User + system CPU time of these processes so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def pids(match) -> list[int]:
    """The processes for which match(pid, contents of /proc/<pid>/stat) is true."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                if match(int(entry.name), stat):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def children(parent: int) -> list[int]:
    return pids(lambda pid, stat: stat.rsplit(")", 1)[1].split()[1] == str(parent))


def wait_for_port(port: int, process: subprocess.Popen | None = None, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"the server on port {port} exited with status {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port} after {timeout:.0f} s")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the server's whole process group (master and workers), SIGKILL to
    whatever of it is left after 30 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextlib.contextmanager
def gunicorn(app: str, *, port: int, env: dict, cwd: Path, workers: int = 2):
    """`gunicorn APP` with `workers` sync workers on 127.0.0.1:PORT, in its own process
    group (setsid); yields the master process once the port accepts connections."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--no-control-socket", "--log-level", "warning"],
        cwd=cwd, env=env, start_new_session=True,
    )
    try:
        wait_for_port(port, process)
        yield process
    finally:
        stop(process)


class Browser:
    """One client: an HTTP/1.1 connection kept alive when the server allows it (http.client
    connects again after a response that closes it)."""

    def __init__(self, port: int):
        self.connection = HTTPConnection("127.0.0.1", port, timeout=60)

    def send(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        started = time.perf_counter()
        self.connection.request(method, path, body=body, headers=headers or {})
        response = self.connection.getresponse()
        data = response.read()
        return response, data, (time.perf_counter() - started) * 1000


def in_parallel(port: int, jobs: list, clients: int, do) -> tuple[list, float]:
    """do(browser, job) for every job, in order, from `clients` threads, each with its own
    Browser to 127.0.0.1:port; returns (results, wall seconds). The first failure stops
    every thread and is raised."""
    queue, results, errors, lock = list(reversed(jobs)), [], [], threading.Lock()

    def client():
        browser = Browser(port)
        while True:
            with lock:
                if not queue or errors:
                    return
                job = queue.pop()
            try:
                result = do(browser, job)
            except BaseException as exc:  # noqa: BLE001 — a failed check too (SystemExit): raised once all stop
                with lock:
                    errors.append(exc)
                return
            with lock:
                results.append(result)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise errors[0]
    return results, wall
