"""The `nhomthu` command line, beside Flask's own (`run`, `shell`) and Flask-Migrate's (`db`)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import select

from models import Group, db, utcnow
from models.services import seeding
from models.services.inbound import store_raw
from models.services.memberships import active_member_counts
from wiring import current_settings
from wiring.processes import build_gate, run_bot, run_worker


def register_commands(cli: click.Group) -> None:
    for command in (init, groups, mailgate, mail, worker, bot):
        cli.add_command(command)


@click.command()
@click.option("--demo", is_flag=True, help="Thêm dữ liệu mẫu (demo organisations and members).")
@with_appcontext
def init(demo: bool) -> None:
    """Create or upgrade the database, and the eleven standard groups."""
    upgrade()
    settings = current_settings()
    ministry = seeding.ensure_ministry(db.session, public_email=f"cuccntt@{settings.site.domain}")
    created = seeding.ensure_standard_groups(db.session, ministry)
    if demo:
        seeding.add_demo_data(db.session, settings.site.domain, utcnow())
    db.session.commit()
    click.echo(f"Cơ sở dữ liệu sẵn sàng; {len(created)} nhóm thư.")


@click.command()
@with_appcontext
def groups() -> None:
    """One line per group: slug, registration address, active members."""
    domain = current_settings().site.domain
    counts = active_member_counts(db.session)
    for group in db.session.scalars(select(Group).order_by(Group.id)):
        click.echo(f"{group.slug}\t{group.registration_address(domain)}\t{counts.get(group.id, 0)}")


@click.command()
@click.option("--once", "mode", flag_value="once", help="One fetch, process and send iteration, then exit.")
@click.option("--drain", "mode", flag_value="drain", help="Iterate until nothing is left, then exit.")
@with_appcontext
def mailgate(mode: str | None) -> None:
    """Fetch mail by IMAP, process it, send the outbox (for ever unless --once or --drain)."""
    gate = build_gate(current_settings())
    try:
        if mode == "once":
            click.echo(_describe([gate.run_once()]))
        elif mode == "drain":
            click.echo(_describe(gate.drain()))
        else:
            gate.serve()
    finally:
        gate.close()


def _describe(iterations: list) -> str:
    return (
        f"fetched={sum(i.fetched for i in iterations)} processed={sum(i.processed for i in iterations)} "
        f"sent={sum(i.sent for i in iterations)} iterations={len(iterations)}"
    )


@click.group()
def mail() -> None:
    """Mail tools for operators and tests."""


@mail.command("inject")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@with_appcontext
def inject(files: tuple[Path, ...]) -> None:
    """Store .eml files as received mail (the mailgate processes them next)."""
    for path in files:
        row, _ = store_raw(db.session, path.read_bytes(), mailbox="local", now=utcnow())
        db.session.commit()
        click.echo(f"{path}: #{row.id}")


@click.command()
@with_appcontext
def worker() -> None:
    """Run the scheduled jobs (APScheduler)."""
    run_worker(current_app._get_current_object())  # type: ignore[attr-defined]


@click.command()
@with_appcontext
def bot() -> None:
    """Run the chat bot."""
    run_bot(current_settings())
