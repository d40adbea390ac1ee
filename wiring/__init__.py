"""The composition root: reads the environment, builds each process, registers the `nhomthu` CLI.

The only package that imports everything; models/, mailgate/, forum/ and bot/ get plain settings
objects from here and never read os.environ themselves.

- environment.py: the settings, read and checked once
- processes.py: the mailgate, worker and bot processes, and the schedule of jobs
- logs.py: text or JSON log lines
- commands.py: the `nhomthu` command line
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup
from flask_migrate import Migrate

import forum
from models import db
from wiring.environment import ConfigError, Settings, load_settings
from wiring.logs import configure_logging

MIGRATIONS = Path(__file__).resolve().parent.parent / "models" / "migrations"


def create_app(settings: Settings | None = None) -> Flask:
    """The Flask app every process runs in: the web forum, and the app context of the other processes."""
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)
    app = Flask("forum")
    app.config.update(
        SECRET_KEY=settings.site.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        SESSION_COOKIE_SECURE=settings.site.base_url.startswith("https://"),
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.extensions["nhomthu.settings"] = settings
    db.init_app(app)
    Migrate(app, db, directory=str(MIGRATIONS), render_as_batch=True, compare_type=True)
    forum.register(app, settings.web)
    return app


def create_web_app() -> Flask:
    """The gunicorn entry point (Procfile: `gunicorn 'wiring:create_web_app()'`).

    Everything made at start-up is moved out of the garbage collector's sight: its full collections
    were most of a thread page's p95 (bench/forum.py: 100 ms → 34 ms at 1,000,000 posts).
    """
    app = create_app()
    gc.freeze()
    return app


def current_settings() -> Settings:
    settings: Settings = current_app.extensions["nhomthu.settings"]
    return settings


def build_cli() -> click.Group:
    from wiring.commands import register_commands

    group = FlaskGroup(create_app=create_app, add_version_option=False, help="Nhóm thư: email groups.")
    register_commands(group)
    return group


def main() -> None:
    try:
        build_cli().main(prog_name="nhomthu")
    except ConfigError as error:
        click.echo(f"nhomthu: cấu hình sai (bad setting): {error}", err=True)
        sys.exit(2)


__all__ = [
    "ConfigError",
    "Settings",
    "create_app",
    "create_web_app",
    "current_settings",
    "load_settings",
    "main",
]
