"""A Spark standalone cluster on 127.0.0.1 from pyspark's bundled jars: one master and
one-core workers, for tests and bench/scale.py (a deployment runs its own cluster)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def spark_class() -> str:
    """pyspark's `spark-class` launcher (installed beside this interpreter)."""
    beside = Path(sys.executable).parent / "spark-class"
    found = str(beside) if beside.exists() else shutil.which("spark-class")
    if found is None:
        raise RuntimeError("spark-class not found: pip install 'auditcage[spark]'")
    return found


class StandaloneCluster:
    """`with StandaloneCluster(workers=2) as cluster: session(cluster.url)`; stops what it
    started, by process id."""

    def __init__(self, workers: int = 2, *, worker_memory: str = "1g") -> None:
        self.initial_workers = workers
        self.worker_memory = worker_memory
        self.port = free_port()
        self.ui_port = free_port()
        self.url = f"spark://{HOST}:{self.port}"
        self.root = Path(tempfile.mkdtemp(prefix="auditcage-spark-"))
        self._processes: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> StandaloneCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            SPARK_LOCAL_IP=HOST,
            SPARK_LOG_DIR=str(self.root / "logs"),
            SPARK_WORKER_DIR=str(self.root / "work"),
            PYSPARK_PYTHON=env.get("PYSPARK_PYTHON", sys.executable),
            # The daemons themselves are small; the executors get spark.executor.memory.
            SPARK_DAEMON_MEMORY="256m",
        )
        return env

    def _launch(self, name: str, *args: str) -> None:
        log = (self.root / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [spark_class(), *args], stdout=log, stderr=subprocess.STDOUT, env=self._env()
        )
        log.close()
        self._processes.append(process)

    def start(self) -> None:
        self._launch(
            "master",
            "org.apache.spark.deploy.master.Master",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--webui-port",
            str(self.ui_port),
        )
        for _ in range(self.initial_workers):
            self.add_worker()

    def add_worker(self, timeout: float = 90.0) -> None:
        """One more one-core worker; returns once the master counts it alive."""
        index = len(self._processes)
        ui_port = free_port()
        self._launch(
            f"worker-{index}",
            "org.apache.spark.deploy.worker.Worker",
            self.url,
            "--host",
            HOST,
            "--cores",
            "1",
            "--memory",
            self.worker_memory,
            "--webui-port",
            str(ui_port),
            "--work-dir",
            str(self.root / f"work-{index}"),
        )
        self._wait_for_worker(f"http://{HOST}:{ui_port}", timeout)

    def kill_worker(self) -> None:
        """kill -9 the newest worker daemon (its executors lose their worker and exit)."""
        workers = [p for p in self._processes[1:] if p.poll() is None]
        if not workers:
            raise RuntimeError("no running worker to kill")
        workers[-1].kill()
        workers[-1].wait()
        self._processes.remove(workers[-1])  # gone on purpose: not a daemon that failed

    def alive_workers(self) -> int:
        return int(self._master_state().get("aliveworkers", 0))

    def _master_state(self) -> dict:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{self.ui_port}/json/", timeout=2) as r:
                return dict(json.load(r))
        except OSError:
            return {}

    def _wait_for_worker(self, web_ui: str, timeout: float) -> None:
        """Until the master lists the worker of that web UI as alive."""
        deadline = time.monotonic() + timeout
        while not any(
            w.get("webuiaddress") == web_ui and w.get("state") == "ALIVE"
            for w in self._master_state().get("workers", [])
        ):
            self._check_daemons()
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Spark worker {web_ui} not alive after {timeout:.0f} s")
            time.sleep(0.5)

    def _check_daemons(self) -> None:
        for process in self._processes:
            if process.poll() is not None:
                raise RuntimeError(f"a Spark daemon exited; see {self.root}/*.log")

    def stop(self) -> None:
        for process in reversed(self._processes):
            if process.poll() is None:
                process.terminate()
        for process in reversed(self._processes):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes.clear()
        shutil.rmtree(self.root, ignore_errors=True)
