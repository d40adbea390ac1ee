"""The bot as two processes, as production may run it: `nhomthu bot --broadcast-only` sends the notices
and never imports aiogram (its ~140 MB would be most of the process); `nhomthu bot --no-broadcast`
answers the commands and leaves the notices to it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from models import Delivery, db
from models.mail import DeliveryState
from models.roles import RoleName
from models.services.memberships import find_group
from models.services.roles import grant
from tests.chat_updates import make_chat
from tests.conftest import environment
from tests.factories import make_member
from tests.servers.telegram import FakeTelegram
from tests.test_bot_broadcast import publish

# The command line as `nhomthu` runs it, stopped at once (exit status 3) if anything imports aiogram.
WITHOUT_AIOGRAM = """
import os, sys

def refuse_aiogram(event, args):
    if event == "import" and args[0].partition(".")[0] == "aiogram":
        sys.stderr.write(f"imported {args[0]}\\n")
        os._exit(3)

sys.addaudithook(refuse_aiogram)
from wiring import main
sys.argv = ["nhomthu", *sys.argv[1:]]
main()
"""


@pytest.fixture
def bot_process_env(bot_env: dict[str, str], database_url: str, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, **environment(database_url, tmp_path, **bot_env, LOG_LEVEL="ERROR")}


@pytest.fixture
def queued(bot_app: Flask) -> None:
    """A notice to the group where An linked Telegram chat 101: one message due."""
    publisher = make_member("VanPhongBo", "so")
    grant(db.session, publisher, RoleName.PUBLISHER, group=find_group(db.session, "so"))
    make_chat(make_member("An", "so"), 101)
    publish(publisher, slugs=("so",))


def wait_for(condition, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_broadcaster_runs_on_its_own_without_aiogram(
    queued: None, telegram: FakeTelegram, bot_process_env: dict[str, str]
) -> None:
    command = [sys.executable, "-c", WITHOUT_AIOGRAM, "bot", "--broadcast-only"]
    with subprocess.Popen(command, env=bot_process_env, stderr=subprocess.PIPE, text=True) as process:
        try:
            wait_for(lambda: delivered() == [DeliveryState.SENT], process)
            assert process.poll() is None  # still serving: nothing imported aiogram on the way
        finally:
            process.kill()
    (message,) = telegram.sent(101)
    assert message.params["text"].startswith("YÊU CẦU PHÚC ĐÁP: Báo cáo tổng kết năm học")
    assert message.params["link_preview_options"] == {"is_disabled": True}


def test_the_bot_without_broadcasting_answers_but_sends_no_notices(
    queued: None, telegram: FakeTelegram, bot_process_env: dict[str, str]
) -> None:
    nhomthu = str(Path(sys.executable).parent / "nhomthu")
    with subprocess.Popen([nhomthu, "bot", "--no-broadcast"], env=bot_process_env) as process:
        try:
            wait_for(lambda: len(telegram.calls_to("getUpdates")) >= 2, process)  # polling for commands
        finally:
            process.kill()
    assert telegram.calls_to("sendMessage") == []
    assert delivered() == [DeliveryState.PENDING]


def delivered() -> list[DeliveryState]:
    db.session.commit()
    return list(db.session.scalars(select(Delivery.state).where(Delivery.channel == "telegram")))
