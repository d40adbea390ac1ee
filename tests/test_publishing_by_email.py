"""A publisher's mail to <group>@ goes out as a notice only when the sender is proven; a forged From never."""

from __future__ import annotations

import base64
import email
import email.utils
import subprocess
from dataclasses import replace
from datetime import timedelta

import dkim
import pytest
from sqlalchemy import select

from models import InboundMessage, Notice, Organisation, db, utcnow
from models.notices import NoticeKind
from models.people import OrganisationKind
from models.roles import RoleName
from models.services.memberships import find_group
from models.services.roles import grant
from tests.factories import make_mail, make_member, ours

SENDER_DOMAIN = "truong.edu.vn"  # the factories' addresses


@pytest.fixture(scope="module")
def key() -> tuple[bytes, bytes]:
    private = subprocess.run(["openssl", "genrsa", "2048"], capture_output=True, check=True).stdout
    public = subprocess.run(
        ["openssl", "rsa", "-pubout", "-outform", "DER"], input=private, capture_output=True, check=True
    ).stdout
    return private, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


@pytest.fixture
def publisher():
    person = make_member("VanPhongBo", "so")
    unit = Organisation(name="Văn phòng Bộ", kind=OrganisationKind.MINISTRY_UNIT)
    person.organisation = unit
    db.session.add(unit)
    grant(db.session, person, RoleName.PUBLISHER, group=find_group(db.session, "so"))
    db.session.commit()
    return person


def checking(gate, key):
    dns = {f"mail._domainkey.{SENDER_DOMAIN}.".encode(): key[1]}
    return replace(
        gate,
        settings=replace(
            gate.settings,
            trusted_authserv_id="mx.nhomthu.test",
            dkim_dns=lambda name, timeout=5: dns.get(name),
        ),
    )


def signed(
    raw: bytes,
    private: bytes,
    domain: str = SENDER_DOMAIN,
    headers: tuple[bytes, ...] = (b"from", b"to", b"subject", b"date"),
) -> bytes:
    signature = dkim.sign(raw, b"mail", domain.encode(), private, include_headers=list(headers))
    return signature + raw


def outcome() -> tuple[str, str]:
    db.session.expire_all()
    row = db.session.scalars(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
    return row.outcome, row.reason or ""


def test_dkim_signed_mail_from_a_publisher_becomes_a_notice(imap, smtp, gate, key, publisher):
    member = make_member("VanThu", "so")
    raw = make_mail(
        publisher.email,
        ours("so"),
        subject="[Công văn] Hướng dẫn nhiệm vụ năm học",
        body="Kính gửi các Sở GD&ĐT.",
    )
    imap.append(signed(raw, key[0]))
    checking(gate, key).drain()
    assert outcome()[0] == "processed" and "dkim" in outcome()[1]
    notice = db.session.scalar(select(Notice))
    assert (notice.kind, notice.title) == (NoticeKind.OFFICIAL_LETTER, "Hướng dẫn nhiệm vụ năm học")
    assert notice.unit.name == "Văn phòng Bộ"
    [copy] = smtp.to(member.email)
    assert copy["Subject"] == "[Công văn] Hướng dẫn nhiệm vụ năm học"


def test_our_servers_dmarc_pass_is_named_beside_the_signature(imap, smtp, gate, key, publisher):
    make_member("VanThu", "so")
    results = f"Authentication-Results: mx.nhomthu.test; dmarc=pass (p=reject) header.from={SENDER_DOMAIN}\n"
    raw = signed(make_mail(publisher.email, ours("so"), subject="Thông báo lịch nghỉ"), key[0])
    imap.append(results.encode() + raw)
    checking(gate, key).drain()
    assert db.session.scalar(select(Notice)).kind == NoticeKind.NOTICE
    assert "dkim+dmarc" in outcome()[1]


def _replayed(raw: bytes, key) -> bytes:
    """A publisher's signed mail to someone else, resent to the group: only the envelope (which the
    receiving server writes as Delivered-To) names the group."""
    elsewhere = signed(raw.replace(ours("so").encode(), b"hieutruong@truong.edu.vn"), key[0])
    return f"Delivered-To: {ours('so')}\n".encode() + elsewhere


def _old(raw: bytes, key) -> bytes:
    date = email.utils.format_datetime(utcnow() - timedelta(days=30))
    message = email.message_from_bytes(raw)
    message.replace_header("Date", date)
    return signed(message.as_bytes(), key[0])


@pytest.mark.parametrize(
    "attack",
    [
        # Finding 2: "dmarc=pass header.from=…" inside a quoted value, our own result being dmarc=fail.
        lambda raw, key: (
            b"Authentication-Results: mx.nhomthu.test; dmarc=fail header.from=truong.edu.vn;"
            b' spf=pass smtp.mailfrom="x dmarc=pass header.from=truong.edu.vn x"\n' + signed(raw, key[0])
        ),
        # Finding 2: the top instance written by the sender, our server having added none; no signature.
        lambda raw, key: (
            b"Authentication-Results: mx.nhomthu.test; dmarc=pass header.from=truong.edu.vn\n" + raw
        ),
        # Finding 3: a signed mail the publisher once sent to someone else, resent to <group>@.
        _replayed,
        # Finding 3: the same, signed over From and Subject only: nothing proves it was meant for us.
        lambda raw, key: signed(raw, key[0], headers=(b"from", b"subject", b"date")),
        # Finding 3: signed for the group, but a month ago.
        _old,
        # Finding 3: no signed Date at all.
        lambda raw, key: signed(raw, key[0], headers=(b"from", b"to", b"subject")),
    ],
    ids=["quoted-pass", "results-not-ours", "other-recipient", "to-unsigned", "old", "date-unsigned"],
)
def test_a_replayed_or_unproven_notice_is_held(imap, smtp, gate, key, publisher, attack):
    make_member("VanThu", "so")
    raw = make_mail(publisher.email, ours("so"), subject="[Công văn] Điều chỉnh lịch thi", body="Hoãn thi.")
    imap.append(attack(raw, key))
    checking(gate, key).drain()
    assert outcome()[0] == "held" and "xác thực" in outcome()[1]
    assert db.session.scalar(select(Notice)) is None
    assert smtp.received == []


@pytest.mark.parametrize(
    "forge",
    [
        lambda raw, key: raw,  # no signature at all
        lambda raw, key: signed(raw, key[0], domain="attacker.example"),  # someone else's domain signs
        lambda raw, key: signed(raw, key[0]).replace(
            b"Subject: ", b"Subject: Sua doi "
        ),  # altered after signing
        lambda raw, key: (
            b"Authentication-Results: mx.attacker.example; dmarc=pass header.from=truong.edu.vn\n" + raw
        ),
        lambda raw, key: (
            b"Authentication-Results: mx.nhomthu.test; dmarc=fail header.from=truong.edu.vn\n" + raw
        ),
    ],
    ids=["unsigned", "foreign-signer", "altered", "foreign-results", "dmarc-fail"],
)
def test_a_forged_notice_is_held_and_never_fanned_out(imap, smtp, gate, key, publisher, forge):
    make_member("VanThu", "so")
    raw = make_mail(publisher.email, ours("so"), subject="[Giấy triệu tập] Họp khẩn", body="Chuyển tiền gấp.")
    imap.append(forge(raw, key))
    checking(gate, key).drain()
    assert outcome()[0] == "held" and "xác thực" in outcome()[1]
    assert db.session.scalar(select(Notice)) is None
    assert smtp.received == []
