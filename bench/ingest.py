"""Importing a list archive end to end (parse, pipeline, commit), against the bare parser in the same run.

    .venv/bin/python bench/ingest.py [MBOX] [--copies N] [--database-url URL]

--copies N imports N copies of the archive in one file, each copy's Message-IDs made its own, to see
peak memory on a large archive (7 copies of the default archive: 77,798 messages).

Prints one JSON line: messages/s end to end, the bare compat32 parser's rate on the same messages,
their ratio, peak RSS and the number of threads. The default archive is shared/corpora/r-package-devel.
"""

from __future__ import annotations

import argparse
import email.parser
import email.policy
import json
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from mailgate.archives import read_archive  # noqa: E402
from mailgate.importing import import_archive  # noqa: E402
from models import Thread, db, utcnow  # noqa: E402
from models.services import seeding  # noqa: E402
from wiring import create_app, load_settings  # noqa: E402

DEFAULT = ROOT.parent / "shared" / "corpora" / "r-package-devel.mbox.gz"


def bare_parse_seconds(path: Path) -> tuple[int, float]:
    """The stdlib parser alone (compat32), on messages already split and in memory."""
    messages = [m.raw for m in read_archive(path)]
    parser = email.parser.BytesParser(policy=email.policy.compat32)
    start = time.perf_counter()
    for raw in messages:
        parser.parsebytes(raw)
    return len(messages), time.perf_counter() - start


def write_copies(source: Path, copies: int, target: Path) -> Path:
    with target.open("wb") as out:
        for copy in range(copies):
            for message in read_archive(source):
                raw = re.sub(rb"<([^<>@\s]+)@", rb"<\1.c" + str(copy).encode() + rb"@", message.raw)
                out.write(
                    b"From nhomthu-bench Thu Jan  1 00:00:00 2026\n" + raw.replace(b"\nFrom ", b"\n>From ")
                )
                out.write(b"\n" if raw.endswith(b"\n") else b"\n\n")
    return target


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("mbox", nargs="?", type=Path, default=DEFAULT)
    options.add_argument("--database-url", default="")
    options.add_argument("--copies", type=int, default=1)
    args = options.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nhomthu-ingest-"))
    if args.copies > 1:
        args.mbox = write_copies(args.mbox, args.copies, work / "copies.mbox")
    env = {"DATA_DIR": str(work), "LOG_LEVEL": "ERROR", "SECRET_KEY": "bench-secret-key-0123456789"}
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    app = create_app(load_settings(env))
    with app.app_context():
        upgrade()
        ministry = seeding.ensure_ministry(db.session, "bench@nhomthu.test")
        group = seeding.ensure_standard_groups(db.session, ministry)[0]
        db.session.commit()
        start = time.perf_counter()
        report = import_archive(db.session, group, args.mbox, utcnow())
        seconds = time.perf_counter() - start
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        threads = db.session.scalar(select(func.count(Thread.id)).where(Thread.group_id == group.id))
    count, bare = bare_parse_seconds(args.mbox)
    rate, bare_rate = report.total / seconds, count / bare
    print(
        json.dumps(
            {
                "archive": args.mbox.name,
                "database": "postgresql" if args.database_url else "sqlite",
                "messages": report.total,
                "imported": report.imported,
                "repeated": report.repeated,
                "quarantined": sum(report.quarantined.values()),
                "threads": threads,
                "end_to_end_per_s": round(rate, 1),
                "bare_parser_per_s": round(bare_rate, 1),
                "ratio": round(rate / bare_rate, 3),
                "peak_rss_mb": round(peak_rss, 1),
            }
        )
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
