"""Local stand-ins for a team's services: a PostgreSQL cluster and an S3 server, both on
127.0.0.1 on free ports, for `make team-up`, the tests and a first try. Production points the
same settings (npl_assets/profiles.py) at its own Postgres and S3 instead. No Dagster here.

PostgreSQL: Debian's binaries (`postgresql` package), a cluster in a temp folder owned by the
`postgres` user (initdb refuses root). S3: moto's server mode, run as its own process."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PG_USER = "npl"
DAGSTER_DB = "dagster"
CATALOG_DB = "ducklake"
BUCKET = "npl"
S3_REGION = "us-east-1"
# moto accepts any key pair; these only have to be the same on both sides.
S3_KEY_ID = "npl-local"
S3_SECRET = "npl-local-secret"


class ServiceError(RuntimeError):
    """A local service would not start; the message says why and where its log is."""


def postgres_bin_dir() -> Path | None:
    """Where Debian's PostgreSQL server binaries are (None: not installed)."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    return candidates[0].parent if candidates else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise ServiceError(f"{what} did not listen on 127.0.0.1:{port} in {timeout:.0f} s; see {log}")


def _as_postgres(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    # initdb and the server refuse to run as root: run them as the postgres user.
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run(prefix + args, check=True, capture_output=True, text=True, **kwargs)


@dataclass(frozen=True)
class LocalPostgres:
    data_dir: Path
    port: int
    password: str

    @classmethod
    def start(cls, port: int | None = None) -> LocalPostgres:
        """initdb a fresh cluster in a new temp folder and start it. The folder is in the system
        temp dir, not under the caller's (often root-only) folders, so the postgres user can
        reach it."""
        bin_dir = postgres_bin_dir()
        if bin_dir is None:
            raise ServiceError("PostgreSQL server binaries not found: apt-get install postgresql")
        base = Path(tempfile.mkdtemp(prefix="npl-pg-"))
        data_dir = base / "pgdata"
        password = secrets.token_hex(12)
        pwfile = base / "pwfile"
        pwfile.write_text(password + "\n")
        if os.geteuid() == 0:
            shutil.chown(base, "postgres")
            shutil.chown(pwfile, "postgres")
        _as_postgres(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                PG_USER,
                "--pwfile",
                str(pwfile),
                "-A",
                "scram-sha-256",
                "-E",
                "UTF8",
                "--no-locale",
            ]
        )
        pwfile.unlink()
        port = port or free_port()
        log = base / "postgres.log"
        # Sockets only in the data folder (not /var/run/postgresql), TCP only on loopback.
        options = f"-h 127.0.0.1 -p {port} -k {data_dir}"
        pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-l", str(log)]
        _as_postgres([*pg_ctl, "-o", options, "-w", "start"])
        server = cls(data_dir, port, password)
        _wait_for_port(port, 30, "PostgreSQL", log)
        for database in (DAGSTER_DB, CATALOG_DB):
            server.create_database(database)
        return server

    def create_database(self, name: str) -> None:
        import psycopg2

        con = psycopg2.connect(
            host="127.0.0.1",
            port=self.port,
            user=PG_USER,
            password=self.password,
            dbname="postgres",
        )
        con.autocommit = True
        try:
            with con.cursor() as cur:
                cur.execute("select 1 from pg_database where datname = %s", (name,))
                if cur.fetchone() is None:
                    cur.execute(f'create database "{name}"')
        finally:
            con.close()

    def stop(self) -> None:
        """Stop the server and delete its temp folder."""
        bin_dir = postgres_bin_dir()
        if bin_dir is not None and (self.data_dir / "postmaster.pid").exists():
            _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "stop"])
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


@dataclass(frozen=True)
class LocalS3:
    pid: int
    port: int

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @classmethod
    def start(cls, log: Path, port: int | None = None) -> LocalS3:
        """moto's S3 server on 127.0.0.1, in its own process group, and the bucket created."""
        port = port or free_port()
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        try:
            _wait_for_port(port, 60, "moto S3 server", log)
            client = s3_client(f"http://127.0.0.1:{port}")
            client.create_bucket(Bucket=BUCKET)
        except BaseException:
            proc.kill()
            raise
        return cls(proc.pid, port)

    def stop(self) -> None:
        stop_pid(self.pid)


def stop_pid(pid: int, timeout: float = 10.0) -> None:
    """Stop the process group `pid` leads (TERM, then KILL); gone already is fine."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:
            # Reap it if it is our child (a test), so it does not linger as a zombie.
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            pass
        time.sleep(0.1)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def s3_client(endpoint_url: str, key_id: str = S3_KEY_ID, secret: str = S3_SECRET):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        region_name=S3_REGION,
    )


@dataclass(frozen=True)
class LocalTeamServices:
    """Both services and the settings that point the team profile at them."""

    postgres: LocalPostgres
    s3: LocalS3

    @classmethod
    def start(cls, log_dir: Path) -> LocalTeamServices:
        postgres = LocalPostgres.start()
        try:
            s3 = LocalS3.start(log_dir / "moto.log")
        except BaseException:
            postgres.stop()
            raise
        return cls(postgres, s3)

    def env(self) -> dict[str, str]:
        """The team profile's settings (names as read by npl_assets/profiles.py)."""
        return {
            "NPL_PROFILE": "team",
            "NPL_PG_HOST": "127.0.0.1",
            "NPL_PG_PORT": str(self.postgres.port),
            "NPL_PG_USER": PG_USER,
            "NPL_PG_PASSWORD": self.postgres.password,
            "NPL_PG_DAGSTER_DB": DAGSTER_DB,
            "NPL_PG_CATALOG_DB": CATALOG_DB,
            "NPL_S3_ENDPOINT": self.s3.endpoint,
            "NPL_S3_USE_SSL": "false",
            "NPL_S3_URL_STYLE": "path",
            "NPL_S3_REGION": S3_REGION,
            "NPL_S3_KEY_ID": S3_KEY_ID,
            "NPL_S3_SECRET": S3_SECRET,
            "NPL_S3_BUCKET": BUCKET,
            # What `npl team down` stops.
            "NPL_LOCAL_PG_DATA": str(self.postgres.data_dir),
            "NPL_LOCAL_S3_PID": str(self.s3.pid),
        }

    def stop(self) -> None:
        self.s3.stop()
        self.postgres.stop()
