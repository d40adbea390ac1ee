"""`nhomthu init`, `nhomthu groups` and `nhomthu mail inject`, as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.factories import make_mail, ours

NHOMTHU = str(Path(sys.executable).parent / "nhomthu")


def nhomthu(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATA_DIR": str(tmp_path), "MAIL_DOMAIN": "moet.edu.vn", "LOG_LEVEL": "WARNING"}
    result = subprocess.run([NHOMTHU, *arguments], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def test_init_creates_the_eleven_groups_of_letter_60(tmp_path):
    nhomthu(tmp_path, "init")
    nhomthu(tmp_path, "init")  # again: nothing doubles
    lines = nhomthu(tmp_path, "groups").stdout.splitlines()
    assert len(lines) == 11
    assert lines[2] == "thpt\tdangky-THPT@moet.edu.vn\t0"
    assert lines[-1] == "caodang\tdangky-caodang@moet.edu.vn\t0"


def test_injected_mail_is_answered_into_the_local_folder(tmp_path):
    nhomthu(tmp_path, "init")
    eml = tmp_path / "dangky.eml"
    eml.write_bytes(make_mail("an@gmail.com", ours("dangky-THPT").replace("nhomthu.test", "moet.edu.vn")))
    assert "#1" in nhomthu(tmp_path, "mail", "inject", str(eml)).stdout
    assert "processed=1 sent=1" in nhomthu(tmp_path, "mailgate", "--drain").stdout
    [kept] = list((tmp_path / "mail" / "sent" / "new").iterdir())
    assert b"To: an@gmail.com" in kept.read_bytes()


def test_operators_see_outcomes_and_download_the_raw_message(tmp_path):
    nhomthu(tmp_path, "init")
    eml = tmp_path / "robot.eml"
    raw = make_mail("an@gmail.com", "dangky-THPT@moet.edu.vn", Auto_Submitted="auto-replied")
    eml.write_bytes(raw)
    nhomthu(tmp_path, "mail", "inject", str(eml))
    nhomthu(tmp_path, "mailgate", "--drain")
    listing = nhomthu(tmp_path, "mail", "list", "--outcome", "ignored").stdout
    assert listing.startswith("#1\tignored\tdrop_automatic\tan@gmail.com") and "Auto-Submitted" in listing
    assert "Kết quả: ignored" in nhomthu(tmp_path, "mail", "show", "1").stdout
    env = {**os.environ, "DATA_DIR": str(tmp_path), "MAIL_DOMAIN": "moet.edu.vn"}
    assert subprocess.run([NHOMTHU, "mail", "show", "1", "--raw"], env=env, capture_output=True).stdout == raw
