"""The whole loop through a real MTA, configured as a site would: Postfix on loopback delivering to
Dovecot over LMTP with plus-addressing, the gateway reading the catch-all mailbox by IMAP and sending
through Postfix by SMTP. A notice reaches the members' own mailboxes; one member presses Reply in its
mail client; the reply comes back through Postfix into the forum thread and out to the others."""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import smtplib
import tempfile
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from models import Membership, Post, db, utcnow
from models.groups import MembershipSource, MembershipState
from models.notices import NoticeKind
from models.roles import RoleName
from models.services.memberships import find_group
from models.services.notices import NoticeDraft, publish_notice
from models.services.people import get_or_add_person
from models.services.roles import grant
from tests.conftest import DOMAIN
from tests.factories import open_discussion, reply_to
from tests.servers.dovecot import Dovecot
from tests.servers.postfix import Postfix
from wiring.processes import build_gate

# Each member at a school of its own: the test Dovecot keeps one mailbox per domain.
MEMBERS = {
    "an": "thpt-chu-van-an.edu.vn",
    "binh": "thpt-le-quy-don.edu.vn",
    "chi": "thpt-phan-dinh-phung.edu.vn",
}
PUBLISHER = ("vanphong", "moet.edu.vn")
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("postfix"), reason="Postfix and Dovecot's masters need root"
)


@pytest.fixture
def mail_system() -> Iterator[tuple[Dovecot, Postfix]]:
    directory = Path(tempfile.mkdtemp(prefix="nhomthu-dovecot-"))
    directory.chmod(0o755)
    dovecot = Dovecot(directory, per_domain=True)
    dovecot.user = f"nhomthu@{DOMAIN}"  # the catch-all mailbox of the groups' domain
    domains = [DOMAIN, PUBLISHER[1], *MEMBERS.values()]
    with dovecot, Postfix(dovecot.lmtp_port, domains) as postfix:
        yield dovecot, postfix
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def site(make_app: Callable[..., Flask], mail_system: tuple[Dovecot, Postfix]) -> Flask:
    """nhomthu configured against both servers, as an operator would set it up."""
    dovecot, postfix = mail_system
    return make_app(
        IMAP_HOST=dovecot.host,
        IMAP_PORT=str(dovecot.port),
        IMAP_USER=dovecot.user,
        IMAP_PASSWORD=dovecot.password,
        IMAP_SSL="false",
        SMTP_HOST=postfix.host,
        SMTP_PORT=str(postfix.port),
    )


def mailbox(dovecot: Dovecot, address: str) -> list[EmailMessage]:
    with dovecot.client(address) as client:
        client.select_folder("INBOX", readonly=True)
        uids = sorted(client.search("ALL"))
        found = client.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
    return [email.message_from_bytes(found[u][b"BODY[]"], policy=email.policy.default) for u in uids]


def wait_for_mail(dovecot: Dovecot, postfix: Postfix, address: str, count: int) -> list[EmailMessage]:
    deadline = time.monotonic() + 30
    while len(found := mailbox(dovecot, address)) < count:
        assert time.monotonic() < deadline, (
            f"{address}: {len(found)} of {count}\n{postfix.log_text()[-3000:]}"
        )
        time.sleep(0.2)
    return found


def test_a_notice_goes_out_through_postfix_and_a_reply_comes_back_into_the_thread(site, mail_system):
    dovecot, postfix = mail_system
    open_discussion(
        "so"
    )  # members' replies go to all (in an announce-only group, only the thread keeps them)
    group = find_group(db.session, "so")
    addresses = {name: f"{name}@{domain}" for name, domain in MEMBERS.items()}
    for name, address in addresses.items():
        db.session.add(
            Membership(
                person=get_or_add_person(db.session, address, name.title()),
                group=group,
                state=MembershipState.ACTIVE,
                source=MembershipSource.IMPORT,
                unsubscribe_nonce="t",
                requested_at=utcnow(),
            )
        )
    publisher = get_or_add_person(db.session, "@".join(PUBLISHER), "Văn phòng Bộ")
    grant(db.session, publisher, RoleName.PUBLISHER, group=group)
    draft = NoticeDraft(
        NoticeKind.REPLY_REQUESTED, "Báo cáo tuyển sinh lớp 10", "Đề nghị các trường báo cáo.", (group,)
    )
    notice = publish_notice(db.session, draft, publisher, unit=None, domain=DOMAIN, now=utcnow())
    db.session.commit()
    gate = build_gate(site.extensions["nhomthu.settings"])
    try:
        gate.drain()  # the notice, to Postfix

        [notice_copy] = wait_for_mail(dovecot, postfix, addresses["an"], 1)
        assert notice_copy["Subject"] == "[Yêu cầu phúc đáp] Báo cáo tuyển sinh lớp 10"
        assert str(notice_copy["Reply-To"]).startswith("traloi+")

        answer = reply_to(notice_copy, addresses["an"], body="Trường THPT Chu Văn An đã gửi báo cáo.")
        with smtplib.SMTP(postfix.host, postfix.port) as client:  # An's mail client, through the MTA
            client.sendmail(addresses["an"], [email.utils.parseaddr(str(notice_copy["Reply-To"]))[1]], answer)
        wait_for_mail(dovecot, postfix, dovecot.user, 1)  # in the catch-all mailbox
        gate.drain()  # fetched, posted into the thread, fanned out, sent to Postfix

        [reply] = db.session.scalars(
            select(Post).where(Post.thread_id == notice.thread_id, Post.id != notice.post_id)
        )
        assert reply.author.email == addresses["an"] and "đã gửi báo cáo" in reply.text
        for other in ("binh", "chi"):
            copies = wait_for_mail(dovecot, postfix, addresses[other], 2)
            assert "đã gửi báo cáo" in copies[1].get_body(("plain",)).get_content()
            assert copies[1]["In-Reply-To"] == notice_copy["Message-ID"]
        assert dovecot.uids("INBOX") == [], "the catch-all inbox is emptied once the reply is stored"
    finally:
        gate.close()
