"""A private PostgreSQL server on loopback, for tests that stop and restart it under load.

The machine's own server (TEST_DATABASE_URL) is shared with other test runs and is never touched:
this one is initdb-ed into a temporary directory, runs as the `postgres` user (PostgreSQL refuses
root), listens on a free port, and keeps its socket in its own directory.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.servers.dovecot import HOST, free_port

# Debian's server binaries, newest version installed (the `postgresql` package).
BIN = max(
    Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), default=Path("/nonexistent")
)
OWNER = "postgres"


def is_available() -> bool:
    return os.geteuid() == 0 and (BIN / "initdb").exists()


class PrivatePostgres:
    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="nhomthu-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"
        self.port = free_port()
        owner = pwd.getpwnam(OWNER)
        os.chown(self.directory, owner.pw_uid, owner.pw_gid)
        self._as_owner(BIN / "initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@{HOST}:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses={HOST} -c fsync=off"
        self._as_owner(BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "start")

    def restart(self) -> None:
        """A fast shutdown (every connection is cut) and a start, as an operator's restart does."""
        self._as_owner(BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "restart")

    def stop(self) -> None:
        self._as_owner(BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", check=False)

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    def _as_owner(self, *command: object, check: bool = True) -> None:
        subprocess.run(
            [str(part) for part in command],
            user=OWNER,
            cwd=self.directory,
            check=check,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL if not check else None,
        )
