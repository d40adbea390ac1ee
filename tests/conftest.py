"""Fixtures that build on each other: a migrated database (SQLite always, PostgreSQL when
TEST_DATABASE_URL is set), the real app factory, a real Dovecot and a real SMTP server."""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from mailgate.gate import Gate
from models import db
from models.services import seeding
from tests.servers.dovecot import Dovecot
from tests.servers.settings import mail_server_settings
from tests.servers.smtp import SmtpServer
from tests.servers.telegram import FakeTelegram
from tests.servers.zalo import FakeZalo
from wiring import create_app, load_settings
from wiring.processes import build_gate

DOMAIN = "nhomthu.test"
SECRET = "test-secret-key-0123456789"
BASE_URL = "https://nhomthu.test"
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def environment(database_url: str, data_dir: Path, **overrides: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "DATA_DIR": str(data_dir),
        "MAIL_DOMAIN": DOMAIN,
        "SECRET_KEY": SECRET,
        "BASE_URL": BASE_URL,
        "LOG_LEVEL": "WARNING",
        **overrides,
    }


def migrate(database_url: str, data_dir: Path) -> None:
    app = create_app(load_settings(environment(database_url, data_dir)))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("template")
    path = directory / "template.db"
    migrate(f"sqlite:///{path}", directory)
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of this test session's own on the TEST_DATABASE_URL server, dropped at the end."""
    admin_url = sa.make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql+psycopg")
    name = f"nhomthu_test_{secrets.token_hex(4)}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    migrate(url, Path(tempfile.mkdtemp()))
    yield url
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database for one test."""
    if request.param == "sqlite":
        path = tmp_path / "nhomthu.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    engine = sa.create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    directory = Path(tempfile.mkdtemp(prefix="nhomthu-dovecot-"))
    directory.chmod(0o755)
    with Dovecot(directory) as server:
        yield server
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def imap(dovecot: Dovecot) -> Dovecot:
    """The Dovecot mailbox, emptied for this test."""
    with dovecot.client() as client:
        for folder in [name for _, _, name in client.list_folders()]:
            client.select_folder(folder)
            messages = client.search("ALL")
            if messages:
                client.delete_messages(messages)
                client.expunge()
    return dovecot


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def smtp(smtp_server: SmtpServer) -> SmtpServer:
    smtp_server.reset()
    return smtp_server


@pytest.fixture
def mail_env(imap: Dovecot, smtp: SmtpServer) -> dict[str, str]:
    """Settings that point the mailgate at the real Dovecot and the real SMTP server."""
    return mail_server_settings(imap, smtp)


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Build the real app on the test database, with the standard groups, its context pushed."""
    contexts = []

    def build(**overrides: str) -> Flask:
        app = create_app(load_settings(environment(database_url, tmp_path, **overrides)))
        app.config["TESTING"] = True
        context = app.app_context()
        context.push()
        contexts.append(context)
        ministry = seeding.ensure_ministry(db.session, f"cuccntt@{DOMAIN}")
        seeding.ensure_standard_groups(db.session, ministry)
        db.session.commit()
        return app

    yield build
    for context in reversed(contexts):
        db.session.remove()
        db.engine.dispose()
        context.pop()


@pytest.fixture
def app(make_app: Callable[..., Flask], mail_env: dict[str, str]) -> Flask:
    return make_app(**mail_env)


@pytest.fixture
def gate(app: Flask) -> Iterator[Gate]:
    gate = build_gate(app.extensions["nhomthu.settings"])
    yield gate
    gate.close()


ZALO_APP = {"ZALO_APP_ID": "4318", "ZALO_APP_SECRET": "app-secret-key", "ZALO_OA_SECRET": "oa-secret-key"}


@pytest.fixture(scope="session")
def telegram_server() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def telegram(telegram_server: FakeTelegram) -> FakeTelegram:
    """The fake Bot API, emptied and at Telegram's own limits for this test."""
    telegram_server.reset()
    telegram_server.rate, telegram_server.per_chat = 30, 1.0
    return telegram_server


@pytest.fixture(scope="session")
def zalo_server() -> Iterator[FakeZalo]:
    with FakeZalo(ZALO_APP["ZALO_APP_ID"], ZALO_APP["ZALO_APP_SECRET"]) as server:
        yield server


@pytest.fixture
def zalo(zalo_server: FakeZalo) -> FakeZalo:
    zalo_server.reset()
    return zalo_server


@pytest.fixture
def bot_env(telegram: FakeTelegram, zalo: FakeZalo) -> dict[str, str]:
    """Settings that point the bot at the fake Telegram and Zalo servers, as an operator's would."""
    return {
        "TELEGRAM_BOT_TOKEN": "4242:fake-token",
        "TELEGRAM_BOT_USERNAME": "nhomthu_bot",
        "TELEGRAM_API_URL": telegram.url,
        **ZALO_APP,
        "ZALO_ACCESS_TOKEN": "access-0",
        "ZALO_REFRESH_TOKEN": "refresh-0",
        "ZALO_API_URL": zalo.url,
        "ZALO_OAUTH_URL": zalo.url,
        "ZALO_OA_URL": "https://zalo.me/4318",
    }


@pytest.fixture
def bot_app(make_app: Callable[..., Flask], bot_env: dict[str, str]) -> Flask:
    return make_app(**bot_env)
