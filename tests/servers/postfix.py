"""A real Debian Postfix on loopback, for the whole-loop test: its own config_directory, queue and a
free port, delivering every domain it is given to a Dovecot over LMTP, as a site's MTA would.

Each instance runs `postfix -c <its directory> start-fg` as a child process (Postfix's master in the
foreground), so it never touches /etc/postfix, the system service or another instance. Needs root:
the master binds and drops privileges to mail_owner (the Debian package's `postfix` user).

Unusual lines in main.cf, and why:

- queue_directory, data_directory, maillog_file: everything of this instance stays in its directory.
- inet_interfaces = 127.0.0.1, and master.cf's smtpd on a free port instead of 25.
- virtual_mailbox_domains with virtual_transport = lmtp:…: the groups' domain and the members'
  domains are all delivered to the Dovecot, which keeps one mailbox per domain (a catch-all per domain).
- smtpd_reject_unlisted_recipient = no: there is no list of users; Dovecot takes any address.
- recipient_delimiter = +: plus-addressing, as the gateway's xacnhan+, traloi+ and bounces+ need.
- smtp_dns_support_level = disabled, smtpd_peername_lookup = no: no DNS on a test machine.
- chroot off for every service (column 5 of master.cf): the chroot would need copies of /etc files.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.servers.dovecot import HOST, free_port, is_listening, kill_group

START_TIMEOUT = 20.0

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {directory}/queue
data_directory = {directory}/data
maillog_file = {directory}/postfix.log
maillog_file_prefixes = {directory}
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.{domain}
mydomain = {domain}
myorigin = $myhostname
mydestination =
inet_interfaces = {host}
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_reject_unlisted_recipient = no
virtual_mailbox_domains = {domains}
virtual_transport = lmtp:inet:{host}:{lmtp_port}
recipient_delimiter = +
alias_maps =
alias_database =
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtpd_peername_lookup = no
biff = no
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 10s
"""


class Postfix:
    def __init__(self, lmtp_port: int, domains: list[str]) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="nhomthu-postfix-"))
        self.host = HOST
        self.port = free_port()
        self.lmtp_port = lmtp_port
        self.domains = domains
        self.log_path = self.directory / "postfix.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._configure()
        subprocess.run(
            ["postfix", "-c", str(self.directory), "set-permissions"], check=True, capture_output=True
        )
        self._process = subprocess.Popen(
            ["postfix", "-c", str(self.directory), "start-fg"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not is_listening(self.host, self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Postfix did not listen on {self.port}:\n{self.log_text()[-3000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(subprocess.CalledProcessError):
            subprocess.run(["postfix", "-c", str(self.directory), "stop"], check=True, capture_output=True)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=START_TIMEOUT)
        kill_group(process)

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Postfix:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        self.remove()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _configure(self) -> None:
        for name in ("queue", "data"):
            (self.directory / name).mkdir(exist_ok=True)
        main = MAIN_CF.format(
            directory=self.directory,
            domain=self.domains[0],
            host=self.host,
            domains=" ".join(self.domains),
            lmtp_port=self.lmtp_port,
        )
        (self.directory / "main.cf").write_text(main)
        (self.directory / "master.cf").write_text(_master_cf(self.host, self.port))


def _master_cf(host: str, port: int) -> str:
    """Debian's master.cf, with smtpd on our port instead of 25 and no service chrooted."""
    lines = []
    for line in Path("/etc/postfix/master.cf").read_text().splitlines():
        fields = line.split()
        if line.startswith("smtp ") and len(fields) > 1 and fields[1] == "inet":
            line = f"{host}:{port} inet n - n - - smtpd"
        elif fields and not line[0].isspace() and not line.startswith("#") and len(fields) >= 8:
            fields[4] = "n"
            line = " ".join(fields)
        lines.append(line)
    return "\n".join(lines) + "\n"


def delivered(log: str) -> int:
    return len(re.findall(r"status=sent", log))
