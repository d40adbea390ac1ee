"""A real Debian Dovecot (2.3) IMAP + LMTP server on loopback, for tests.

Each instance runs `dovecot -F -c <its own dovecot.conf>` as a child process, with its own
base_dir, state_dir, log and free ports, so it never touches /etc/dovecot, the system service
or another instance. Needs root (Dovecot's master binds and drops privileges itself).

The mail user is `nobody`, so the directory given must be reachable by others: pytest's
`tmp_path` sits under a 0700 directory and is not; `tempfile.mkdtemp()` chmod-ed 0755 is.

Unusual lines in the configuration, and why they are there:

- base_dir, state_dir, log_path: everything of this instance stays in its directory, apart
  from the system Dovecot (/run/dovecot, /var/lib/dovecot) and from other instances.
- disable_plaintext_auth = no: tests log in with LOGIN over plain TCP (ssl = no).
  Dovecot 2.4 renames it auth_allow_cleartext and changes much of this file.
- default_internal_user = dovecot: the Debian package creates that user (and dovenull).
- static passdb and userdb: any user name with the password logs in, and all share one
  home (uid nobody); LMTP accepts any recipient the same way.
- recipient_delimiter = + and lmtp_save_to_detail_mailbox = no: LMTP delivers
  nhomthu+list@ to the INBOX, as a real mailbox with plus-addressing does.
- imaps port 0: turns off the default imaps listener on 993.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path
from string import Template

from imapclient import IMAPClient

HOST = "127.0.0.1"
MAIL_OWNER = "nobody"
START_TIMEOUT = 10.0

CONFIG = Template("""\
base_dir = $directory/run
state_dir = $directory/state
log_path = $directory/dovecot.log
listen = $host
protocols = imap lmtp
ssl = no
disable_plaintext_auth = no
default_login_user = dovenull
default_internal_user = dovecot
mail_location = maildir:~/Maildir
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no

passdb {
  driver = static
  args = password=$password
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$userhome
}

service imap-login {
  inet_listener imap {
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    port = $lmtp_port
  }
}
""")


class Dovecot:
    """One Dovecot instance living in `directory`; data survives `restart()`."""

    def __init__(self, directory: Path, password: str = "nhomthu-secret", per_domain: bool = False) -> None:
        """per_domain: one mailbox per mail domain (log in as anyone@that.domain), so that a whole
        domain is one catch-all mailbox and each member, at a domain of its own, has its own."""
        if not is_reachable_by_others(directory):
            raise ValueError(f"{directory} (or a parent) is not searchable by {MAIL_OWNER}")
        self.directory = directory
        self.config_path = directory / "dovecot.conf"
        self.log_path = directory / "dovecot.log"
        self.host = HOST
        self.port = free_port()
        self.lmtp_port = free_port()
        self.user = "nhomthu"
        self.per_domain = per_domain
        self.password = password
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._prepare_directory()
        with self.log_path.open("ab") as sink:  # early config errors go to stderr
            self._process = subprocess.Popen(
                ["dovecot", "-F", "-c", str(self.config_path)],
                stdout=sink,
                stderr=sink,
                start_new_session=True,  # one process group to kill in stop()
            )
        self._wait_until_listening()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()  # lets Dovecot say BYE; takes it about a second
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=START_TIMEOUT)
        kill_group(process)

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> Dovecot:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def log_text(self) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def client(self, user: str | None = None) -> IMAPClient:
        """A logged-in client (as `user`, or the catch-all user); use it as a context manager to log out."""
        imap = IMAPClient(self.host, self.port, ssl=False, timeout=START_TIMEOUT)
        imap.login(user or self.user, self.password)
        return imap

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        with self.client() as imap:
            if not imap.folder_exists(folder):
                imap.create_folder(folder)
            imap.append(folder, raw)

    def uids(self, folder: str = "INBOX") -> list[int]:
        with self.client() as imap:
            imap.select_folder(folder, readonly=True)
            return sorted(imap.search("ALL"))

    def fetch_all(self, folder: str = "INBOX") -> list[bytes]:
        """Every message's raw bytes, in UID order."""
        with self.client() as imap:
            imap.select_folder(folder, readonly=True)
            uids = sorted(imap.search("ALL"))
            if not uids:
                return []
            found = imap.fetch(uids, ["BODY.PEEK[]"])
            return [found[uid][b"BODY[]"] for uid in uids]

    def _prepare_directory(self) -> None:
        home = self.directory / "home"
        home.mkdir(exist_ok=True)
        owner = pwd.getpwnam(MAIL_OWNER)
        os.chown(home, owner.pw_uid, owner.pw_gid)
        text = CONFIG.substitute(
            directory=self.directory,
            home=home,
            userhome=f"{home}/%Ld" if self.per_domain else home,
            host=self.host,
            port=self.port,
            lmtp_port=self.lmtp_port,
            password=self.password,
        )
        self.config_path.write_text(text)

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                break
            if is_listening(self.host, self.port):
                return
            time.sleep(0.05)
        self.stop()
        tail = "\n".join(self.log_text().splitlines()[-20:])
        raise RuntimeError(f"Dovecot did not listen on {self.host}:{self.port}:\n{tail}")


def free_port() -> int:
    """A port free right now; the tiny race with other binders is fine for tests."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def is_listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def is_reachable_by_others(directory: Path) -> bool:
    path = directory.resolve()
    return all(p.stat().st_mode & stat.S_IXOTH for p in (path, *path.parents))


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """Leave no orphans: Dovecot's master may exit before its log, stats or imap children."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + START_TIMEOUT
    while live_processes(process.pid) and time.monotonic() < deadline:
        time.sleep(0.02)


def live_processes(group: int) -> list[int]:
    """Pids in the process group that are not zombies (init reaps those in its own time)."""
    pids = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            state, _parent, process_group = stat_file.read_text().rsplit(")", 1)[1].split()[:3]
            if int(process_group) == group and state != "Z":
                pids.append(int(stat_file.parent.name))
    return pids
