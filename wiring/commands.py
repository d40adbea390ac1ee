"""The `nhomthu` command line, beside Flask's own (`run`, `shell`) and Flask-Migrate's (`db`)."""

from __future__ import annotations

import json
import mimetypes
import time
from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import func, select

from mailgate.archives import open_archive
from mailgate.importing import import_archive
from mailgate.summary import summarise
from models import Delivery, Group, InboundMessage, Organisation, db, utcnow
from models.errors import UnknownGroup
from models.mail import Outcome
from models.notices import NoticeKind
from models.services import seeding
from models.services.consultations import PeriodTooShort
from models.services.inbound import store_raw
from models.services.memberships import active_member_counts, find_group
from models.services.notices import NotAllowed, NoticeDraft, publish_notice
from models.services.people import find_person
from models.services.posts import NewAttachment
from models.services.rosters import RosterReport, check_rows, import_roster, read_table
from models.site import VIETNAM
from wiring import current_settings
from wiring.consulting import consult
from wiring.processes import build_gate, run_bot, run_worker


def register_commands(cli: click.Group) -> None:
    for command in (init, groups, mailgate, mail, notice, consult, members, worker, bot):
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


@mail.command("list")
@click.option("--outcome", type=click.Choice([o.value for o in Outcome]), help="Only this outcome.")
@click.option("--limit", default=50, show_default=True)
@with_appcontext
def list_mail(outcome: str | None, limit: int) -> None:
    """Received mail, newest first: id, outcome, step, sender, recipient, reason."""
    query = select(InboundMessage).order_by(InboundMessage.id.desc()).limit(limit)
    if outcome:
        query = query.where(InboundMessage.outcome == outcome)
    for row in db.session.scalars(query):
        click.echo(
            f"#{row.id}\t{row.outcome or row.state}\t{row.step or ''}\t{row.sender or ''}\t"
            f"{row.recipient or ''}\t{row.reason or ''}"
        )


@mail.command("show")
@click.argument("number", type=int)
@click.option("--raw", is_flag=True, help="Write the message exactly as received (to download or re-inject).")
@with_appcontext
def show_mail(number: int, raw: bool) -> None:
    """One received message: what became of it, or its raw bytes."""
    row = db.session.get(InboundMessage, number)
    if row is None:
        raise click.BadParameter(f"không có thư #{number}", param_hint="NUMBER")
    if raw:
        click.get_binary_stream("stdout").write(row.raw)
        return
    for label, value in (
        ("Message-ID", row.message_id),
        ("Từ", row.sender),
        ("Đến", row.recipient),
        ("Chủ đề", row.subject),
        ("Nhận lúc", row.received_at),
        ("Kết quả", row.outcome),
        ("Bước", row.step),
        ("Lý do", row.reason),
    ):
        click.echo(f"{label}: {value or ''}")


@mail.command("parse")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--json", "as_json", is_flag=True, required=True, help="One JSON object per message, a line each."
)
@with_appcontext
def parse_mail(files: tuple[Path, ...], as_json: bool) -> None:
    """Read messages as the gateway does: headers, kind, text, what the person wrote, HTML, attachments."""
    domain = current_settings().site.domain
    for path in files:
        click.echo(
            json.dumps({"file": str(path), **summarise(path.read_bytes(), domain)}, ensure_ascii=False)
        )


@mail.command("import-mbox")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--group", "slug", required=True, help="The group the archive belongs to.")
@with_appcontext
def import_mbox(path: Path, slug: str) -> None:
    """Import an archive (mbox or mboxrd, gzipped too); run it again to resume an interrupted import."""
    try:
        group = find_group(db.session, slug)
    except UnknownGroup as error:
        raise click.BadParameter(f"không có nhóm '{slug}'", param_hint="--group") from error
    started = time.monotonic()
    with click.progressbar(length=_uncompressed_size(path), label="Đang nhập", show_pos=True) as bar:
        report = import_archive(
            db.session, group, path, utcnow(), progress=lambda end: bar.update(end - bar.pos)
        )
    seconds = time.monotonic() - started
    click.echo(
        f"Đã nhập {report.imported}, trùng {report.repeated}, đã có từ lần trước {report.skipped}, "
        f"cách ly {sum(report.quarantined.values())} ({report.total} thư, {seconds:.1f} s)"
    )
    for reason, count in report.quarantined.most_common():
        click.echo(f"  cách ly {count}: {reason}")


def _uncompressed_size(path: Path) -> int:
    with open_archive(path) as archive:
        return sum(len(chunk) for chunk in iter(lambda: archive.read(1 << 20), b""))


@click.group()
def notice() -> None:
    """Notices: publish as a unit would on the web."""


@notice.command("publish")
@click.option("--group", "slugs", multiple=True, required=True, help="A target group (repeat for several).")
@click.option("--kind", type=click.Choice([k.value for k in NoticeKind]), required=True)
@click.option("--title", required=True)
@click.option("--body-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option(
    "--as", "publisher", required=True, help="The publisher's address (a publisher of every group)."
)
@click.option("--unit", default="", help="The publishing unit (an organisation's name).")
@click.option("--deadline", default=None, help="YYYY-MM-DD [HH:MM], Vietnam time.")
@click.option("--meeting", default=None, help="The meeting's start, YYYY-MM-DD HH:MM, Vietnam time.")
@click.option("--place", default=None, help="The meeting's place.")
@click.option(
    "--attach", "files", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--opens", default=None, help="A draft's comment period opens, YYYY-MM-DD [HH:MM] (now if unset)."
)
@click.option(
    "--document-type", default=None, help="A draft's kind (thong_tu, nghi_dinh …): its minimum period."
)
@with_appcontext
def publish(
    slugs: tuple[str, ...],
    kind: str,
    title: str,
    body_file: Path,
    publisher: str,
    unit: str,
    deadline: str | None,
    meeting: str | None,
    place: str | None,
    files: tuple[Path, ...],
    opens: str | None,
    document_type: str | None,
) -> None:
    """Publish a notice: a thread in the first group and one mail per member of all the groups."""
    try:
        targets = tuple(find_group(db.session, slug) for slug in slugs)
    except UnknownGroup as error:
        raise click.BadParameter(f"không có nhóm {error}", param_hint="--group") from error
    person = find_person(db.session, publisher)
    if person is None:
        raise click.BadParameter(f"không có người dùng {publisher}", param_hint="--as")
    organisation = db.session.scalar(select(Organisation).where(Organisation.name == unit)) if unit else None
    draft = NoticeDraft(
        kind=NoticeKind(kind),
        title=title,
        body=body_file.read_text(encoding="utf-8"),
        groups=targets,
        deadline=_vietnam_time(deadline, "--deadline"),
        meeting_start=_vietnam_time(meeting, "--meeting"),
        meeting_place=place,
        attachments=tuple(NewAttachment(f.name, _content_type(f), f.read_bytes()) for f in files),
        opens_at=_vietnam_time(opens, "--opens"),
        document_type=document_type,
    )
    settings = current_settings()
    try:
        published = publish_notice(
            db.session,
            draft,
            person,
            unit=organisation,
            domain=settings.site.domain,
            now=utcnow(),
            rules=settings.web.consultation,
        )
    except NotAllowed as error:
        raise click.ClickException(f"{publisher} không được đăng thông báo vào các nhóm này") from error
    except PeriodTooShort as error:
        raise click.ClickException(f"thời hạn góp ý cần ít nhất {error.days} ngày") from error
    db.session.commit()
    rows = db.session.execute(
        select(Delivery.channel, func.count(Delivery.id))
        .where(Delivery.message_key == f"notice:{published.id}")
        .group_by(Delivery.channel)
    )
    counts = {channel: count for channel, count in rows}
    emails = counts.pop("email", 0)
    click.echo(
        f"Thông báo #{published.id}: chủ đề #{published.thread_id}, {emails} thư sẽ được gửi"
        f" và {sum(counts.values())} tin nhắn Telegram/Zalo."
    )


def _vietnam_time(value: str | None, option: str) -> datetime | None:
    if not value:
        return None
    for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=VIETNAM)
        except ValueError:
            continue
    raise click.BadParameter("cần dạng YYYY-MM-DD hoặc YYYY-MM-DD HH:MM", param_hint=option)


def _content_type(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


@click.group()
def members() -> None:
    """Members: import rosters."""


@members.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--group", "slug", required=True)
@click.option("--dry-run", is_flag=True, help="Check the file and say what would change; change nothing.")
@with_appcontext
def import_members(path: Path, slug: str, dry_run: bool) -> None:
    """Add the members listed in a CSV or XLSX file (email, name, organisation, position) to a group."""
    try:
        group = find_group(db.session, slug)
    except UnknownGroup as error:
        raise click.BadParameter(f"không có nhóm '{slug}'", param_hint="--group") from error
    report = RosterReport()
    try:
        rows = check_rows(read_table(path.read_bytes(), path.name), report)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    with click.progressbar(length=len(rows), label="Đang nhập danh sách") as bar:
        for start in range(0, len(rows), 200):
            import_roster(
                db.session,
                group,
                rows[start : start + 200],
                actor="cli",
                report=report,
                dry_run=dry_run,
                domain=current_settings().site.domain,
                now=utcnow(),
            )
            bar.update(min(200, len(rows) - start))
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    verb = "sẽ thêm" if dry_run else "đã thêm"
    click.echo(
        f"{verb} {len(report.added)}, đã là thành viên {len(report.already)}, lỗi {len(report.problems)}"
    )
    for line, problem in report.problems:
        click.echo(f"dòng {line}: {problem}", err=True)


@click.command()
@with_appcontext
def worker() -> None:
    """Run the scheduled jobs (APScheduler)."""
    run_worker(current_app._get_current_object())  # type: ignore[attr-defined]


@click.command()
@click.option("--drain", is_flag=True, help="Send the chat messages that are due, then exit.")
@click.option(
    "--broadcast-only",
    is_flag=True,
    help="Only the broadcasters (a light process, without aiogram); run `bot --no-broadcast` beside it.",
)
@click.option("--no-broadcast", is_flag=True, help="Only the commands and webhooks; no broadcasting.")
@with_appcontext
def bot(drain: bool, broadcast_only: bool, no_broadcast: bool) -> None:
    """Run the chat bot (Telegram, Zalo) and its broadcaster."""
    if broadcast_only and no_broadcast:
        raise click.UsageError("--broadcast-only và --no-broadcast: chọn một (choose one)")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    sent = run_bot(app, drain=drain, broadcast_only=broadcast_only, no_broadcast=no_broadcast)
    if drain:
        click.echo(f"sent={sent}")
