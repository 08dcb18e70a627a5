"""Real Redis and PostgreSQL servers on loopback, for `make test-cluster`.

Both come from the distribution's packages (`redis-server`, `postgresql`), installed when
missing without letting the packages start their own services. Each server listens on
127.0.0.1 only, on a free port, keeps its files in a temporary directory and is stopped on exit.
PostgreSQL refuses to run as root, so as root it runs as the `postgres` user the package creates.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PACKAGES = {"redis-server": "redis-server", "initdb": "postgresql"}
POLICY_RC = Path("/usr/sbin/policy-rc.d")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_binary(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def missing_packages() -> list[str]:
    missing = []
    if shutil.which("redis-server") is None:
        missing.append(PACKAGES["redis-server"])
    if postgres_binary("initdb") is None:
        missing.append(PACKAGES["initdb"])
    return missing


def ensure_packages(log=print) -> None:
    """Install redis-server and postgresql from the distribution when missing (as root; Debian's
    policy-rc.d keeps the packages from starting their own services meanwhile)."""
    missing = missing_packages()
    if not missing:
        return
    if os.geteuid() != 0:
        raise SystemExit(f"test-cluster needs {' and '.join(missing)}: apt-get install them")
    log(f"installing {' '.join(missing)} from the distribution's packages")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    placed = not POLICY_RC.exists()
    if placed:
        POLICY_RC.write_text("#!/bin/sh\nexit 101\n")
        POLICY_RC.chmod(0o755)
    try:
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", *missing],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
    finally:
        if placed:
            POLICY_RC.unlink(missing_ok=True)


def wait_for_port(port: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout_s:.0f} s")


class Redis:
    """`redis-server` on 127.0.0.1, without persistence."""

    def __init__(self, workdir: Path) -> None:
        self.workdir, self.port = workdir, free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def version(self) -> str:
        out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True)
        return out.stdout.split("v=")[-1].split()[0] if "v=" in out.stdout else "?"

    def __enter__(self) -> Redis:
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port)]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        command += ["--protected-mode", "yes"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        wait_for_port(self.port)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Postgres:
    """A throwaway PostgreSQL cluster (initdb) on 127.0.0.1 with one database, `dagster`."""

    USER = "botstudy"

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="botstudy-pg-"))
        self.data = self.dir / "data"
        self.as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://{self.USER}@127.0.0.1:{self.port}/dagster"

    def _run(self, name: str, *args: str) -> subprocess.CompletedProcess:
        binary = postgres_binary(name)
        if binary is None:
            raise RuntimeError(f"{name} not found (install postgresql)")
        command = [binary, *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=True, capture_output=True, text=True, cwd=self.dir)

    def version(self) -> str:
        return self._run("postgres", "--version").stdout.split()[2].split("-")[0]

    def __enter__(self) -> Postgres:
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", self.USER, "--auth=trust", "-E", "UTF8")
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} "
            f"-c unix_socket_directories={self.dir} -c fsync=off -c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "log"),
            "-o",
            options,
            "-w",
            "start",
        )
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.USER, "dagster")
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
