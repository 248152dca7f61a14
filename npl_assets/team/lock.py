"""One run at a time on a team warehouse: a Postgres advisory lock in the DuckLake catalog's
database, held by a run from the set-up of its warehouse resource to its teardown.

The embedded profile's lock is a flock on a file beside the warehouse, which only works on one
machine. Team runs start in different processes, containers or machines, but all of them reach
the catalog database, so the lock lives there. Like flock, a session-level advisory lock needs no
cleanup: Postgres drops it when the holding connection ends, a killed run's included (its TCP
connection closes)."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable

from npl_assets.profiles import TeamSettings
from npl_assets.warehouse.lock import TIMEOUT_ENV, WAIT_LOG_EVERY, WarehouseBusy, lock_timeout

APPLICATION = "npl-assets warehouse lock"


def lock_key(team: TeamSettings) -> int:
    """A signed 64-bit key naming this warehouse (catalog database + data path)."""
    digest = hashlib.sha256(f"npl:{team.catalog_db}:{team.lake_data_path}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class AdvisoryWarehouseLock:
    def __init__(self, team: TeamSettings) -> None:
        self.team = team
        self.key = lock_key(team)
        self._con = None

    @property
    def held(self) -> bool:
        return self._con is not None

    def _connect(self, application_name: str):
        import psycopg2

        return psycopg2.connect(
            host=self.team.pg_host,
            port=self.team.pg_port,
            user=self.team.pg_user,
            password=self.team.pg_password,
            dbname=self.team.catalog_db,
            application_name=application_name[:63],
            connect_timeout=30,
        )

    def holder(self, con) -> str:
        """Who holds the lock: the holding session's application name says which run."""
        with con.cursor() as cur:
            cur.execute(
                """select a.application_name, a.client_addr, a.backend_start
                   from pg_locks l join pg_stat_activity a on a.pid = l.pid
                   where l.locktype = 'advisory' and l.granted
                     and l.objid = (%s::bigint & 4294967295)
                     and l.classid = ((%s::bigint >> 32) & 4294967295)""",
                (self.key, self.key),
            )
            row = cur.fetchone()
        return f"{row[0]} since {row[2]:%Y-%m-%d %H:%M:%S %Z}" if row else "another process"

    def acquire(
        self,
        owner: str,
        timeout: float | None = None,
        on_wait: Callable[[str], None] | None = None,
        poll: float = 0.5,
    ) -> float:
        """Take the lock, waiting up to `timeout` seconds; returns the seconds waited."""
        if self._con is not None:
            raise RuntimeError("the warehouse lock is already held by this resource")
        timeout = lock_timeout() if timeout is None else timeout
        con = self._connect(f"{owner} (pid {os.getpid()})")
        con.autocommit = True
        started = time.monotonic()
        told = None
        try:
            while True:
                with con.cursor() as cur:
                    cur.execute("select pg_try_advisory_lock(%s)", (self.key,))
                    if cur.fetchone()[0]:
                        break
                waited = time.monotonic() - started
                if waited >= timeout:
                    raise WarehouseBusy(
                        f"the team warehouse is in use by {self.holder(con)}; gave up after "
                        f"{waited:.0f} s ({TIMEOUT_ENV}={timeout:g})"
                    )
                if on_wait and (told is None or waited - told >= WAIT_LOG_EVERY):
                    on_wait(f"waiting for the warehouse, in use by {self.holder(con)}")
                    told = waited
                time.sleep(poll)
        except BaseException:
            con.close()
            raise
        self._con = con
        return time.monotonic() - started

    def release(self) -> None:
        if self._con is None:
            return
        con, self._con = self._con, None
        try:
            with con.cursor() as cur:
                cur.execute("select pg_advisory_unlock(%s)", (self.key,))
        finally:
            con.close()
