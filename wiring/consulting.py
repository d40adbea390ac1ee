"""`nhomthu consult`: the synthesis of a draft's comments as a file, and new versions of the draft."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from models import db, utcnow
from models.consultations import Consultation
from models.services.documents import UnreadableDraft, is_draft_file
from models.services.exports import to_docx, to_xlsx
from models.services.synthesis import synthesise
from models.services.versions import add_version


@click.group()
def consult() -> None:
    """Draft consultations: export the synthesis, add a version of the draft."""


def _consultation(number: int) -> Consultation:
    found = db.session.get(Consultation, number)
    if found is None:
        raise click.BadParameter(f"không có đợt lấy ý kiến #{number}", param_hint="ID")
    return found


@consult.command("export")
@click.argument("number", metavar="ID", type=int)
@click.option("--format", "kind", type=click.Choice(["docx", "xlsx"]), required=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="The file (default: beside).")
@with_appcontext
def export(number: int, kind: str, output: Path | None) -> None:
    """Write the synthesis (bản tổng hợp, tiếp thu, giải trình ý kiến) as DOCX or XLSX."""
    synthesis = synthesise(db.session, _consultation(number), utcnow())
    data = to_docx(synthesis) if kind == "docx" else to_xlsx(synthesis)
    path = output or Path(f"tong-hop-y-kien-{number}.{kind}")
    path.write_bytes(data)
    click.echo(f"{path}: {synthesis.comments} ý kiến, {synthesis.answered}/{synthesis.consulted} đơn vị")


@consult.command("version")
@click.argument("number", metavar="ID", type=int)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def version(number: int, path: Path) -> None:
    """Add the next version of the draft (DOCX, PDF or text); open comments follow their provisions."""
    if not is_draft_file(path.name):
        raise click.BadParameter("cần tệp .docx, .pdf hoặc .txt", param_hint="PATH")
    try:
        added = add_version(db.session, _consultation(number), path.name, path.read_bytes(), utcnow())
    except UnreadableDraft as error:
        raise click.ClickException(f"không đọc được dự thảo {error}") from error
    db.session.commit()
    matched = sum(1 for p in added.provisions if p.previous_id)
    click.echo(
        f"Dự thảo {added.number}: {len(added.provisions)} điều, khoản, điểm; {matched} khớp bản trước."
    )
