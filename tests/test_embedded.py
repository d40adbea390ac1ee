"""`make run`'s system: the Procfile's processes under honcho, on SQLite and the local mail folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.factories import make_mail
from tests.servers.dovecot import free_port, is_listening

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_procfile_runs_the_whole_system_on_the_embedded_default(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path),
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_URL", None)
    subprocess.run([BIN / "nhomthu", "init", "--demo"], env=env, check=True, capture_output=True, timeout=120)
    honcho = subprocess.Popen(
        [BIN / "honcho", "start", "-f", ROOT / "Procfile", "-d", ROOT, "-p", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for(lambda: is_listening("127.0.0.1", port))
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read().decode()
        assert page.count("dangky-") >= 11 and "dangky-THPT@nhomthu.test" in page

        eml = tmp_path / "dangky.eml"
        eml.write_bytes(make_mail("co.mai@gmail.com", "dangky-THPT@nhomthu.test"))
        subprocess.run([BIN / "nhomthu", "mail", "inject", eml], env=env, check=True, capture_output=True)
        sent = tmp_path / "mail" / "sent" / "new"
        wait_for(lambda: sent.exists() and any(sent.iterdir()), timeout=30)
        assert b"co.mai@gmail.com" in next(sent.iterdir()).read_bytes()
        assert honcho.poll() is None, "every process is still up (bot and worker included)"
    finally:
        os.killpg(honcho.pid, signal.SIGINT)
        output = honcho.communicate(timeout=30)[0].decode(errors="replace")
    assert "Traceback" not in output, output
