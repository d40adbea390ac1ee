"""The test Dovecot really serves IMAP: messages go in, come back whole, instances stay apart."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.dovecot import Dovecot, is_listening

GREETING = b"From: an@example.edu.vn\r\nSubject: Chao\r\n\r\nXin chao.\r\n"
REPLY = b"From: binh@example.edu.vn\r\nSubject: Re: Chao\r\n\r\nCam on.\r\n"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="Dovecot's master needs root")


def make_directory() -> Path:
    """A temporary directory the `nobody` mail user can reach (pytest's tmp_path is 0700)."""
    directory = Path(tempfile.mkdtemp(prefix="nhomthu-dovecot-"))
    directory.chmod(0o755)
    return directory


@pytest.fixture
def directories() -> Iterator[list[Path]]:
    made = [make_directory(), make_directory()]
    yield made
    for directory in made:
        shutil.rmtree(directory)


def test_messages_appended_come_back_in_uid_order(directories: list[Path]) -> None:
    with Dovecot(directories[0]) as dovecot:
        dovecot.append(GREETING)
        dovecot.append(REPLY)

        assert dovecot.uids() == [1, 2]
        assert dovecot.fetch_all("INBOX") == [GREETING, REPLY]
        with dovecot.client() as imap:
            assert imap.has_capability("IDLE")


def test_two_instances_keep_their_own_mail(directories: list[Path]) -> None:
    with Dovecot(directories[0]) as first, Dovecot(directories[1]) as second:
        first.append(GREETING)
        second.append(REPLY, folder="Archive")

        assert first.port != second.port
        assert first.fetch_all("INBOX") == [GREETING]
        assert second.fetch_all("INBOX") == []
        assert second.fetch_all("Archive") == [REPLY]


def test_mail_survives_a_restart(directories: list[Path]) -> None:
    with Dovecot(directories[0]) as dovecot:
        dovecot.append(GREETING)
        dovecot.restart()

        assert dovecot.fetch_all("INBOX") == [GREETING]


def test_stop_leaves_nothing_listening(directories: list[Path]) -> None:
    dovecot = Dovecot(directories[0])
    dovecot.start()
    with dovecot.client() as imap:
        imap.select_folder("INBOX")
        imap.idle()  # an imap process is busy when the server stops
        dovecot.stop()

    assert not is_listening(dovecot.host, dovecot.port)
    assert not is_listening(dovecot.host, dovecot.lmtp_port)
