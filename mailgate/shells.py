"""Copies of one post or notice for many members: rendered once per batch, personalised by substitution.

Building a MIME message is most of the cost of a delivery (the email package parses and folds every
header); the copies of a post differ only in To, Reply-To and the unsubscribe key, so a shell is rendered
with placeholders and each copy replaces them. Their bodies carry nothing personal: the one-click link is
in List-Unsubscribe (RFC 8058), which mail clients show as their own unsubscribe button.
"""

from __future__ import annotations

import email.policy

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailgate.addresses import reply_address
from mailgate.letters import Personal, render
from models.groups import Membership
from models.mail import Delivery
from models.services.memberships import unsubscribe_key_for
from models.site import Site

SHARED = {"post", "notice", "digest"}  # templates whose copies differ only in the personal fields
PLACEHOLDER = Personal(
    recipient="nguoi-nhan-0d6f@nhomthu.invalid",
    reply_to="traloi+0-0d6fchungchothanhvien@nhomthu.invalid",
    unsubscribe_key="0-0d6fkhoahuydangkychung",
)


class Shells:
    def __init__(self, session: Session, site: Site) -> None:
        self.session, self.site = session, site
        self.nonces: dict[int, str] = {}

    def prepare(self, batch: list[Delivery]) -> None:
        """Load the unsubscribe nonces of a batch's memberships in one query."""
        wanted = {d.params["membership"] for d in batch if d.template in SHARED and "membership" in d.params}
        if wanted:
            rows = self.session.execute(
                select(Membership.id, Membership.unsubscribe_nonce).where(Membership.id.in_(wanted))
            )
            self.nonces |= {row.id: row.unsubscribe_nonce for row in rows}

    def data(self, delivery: Delivery) -> bytes:
        membership_id = delivery.params.get("membership")
        if delivery.template not in SHARED or membership_id not in self.nonces:
            return render(delivery, self.session, self.site).as_bytes(policy=email.policy.SMTP)
        personal = unsubscribe_key_for(membership_id, self.nonces[membership_id], self.site.secret_key)
        return (
            self._shell(delivery)
            .replace(PLACEHOLDER.recipient.encode(), delivery.recipient.encode())
            .replace(PLACEHOLDER.reply_to.encode(), reply_address(delivery.id, self.site).encode())
            .replace(PLACEHOLDER.unsubscribe_key.encode(), personal.encode())
        )

    def _shell(self, delivery: Delivery) -> bytes:
        """The copy with placeholders, kept for the batches that follow: rendering it cost as much as
        sending a dozen copies. Keyed by the post's own Message-ID, which no other post shares."""
        key = (delivery.template, delivery.message_id, str(delivery.params["group"]), self.site)
        shell = _RENDERED.pop(key, None)
        if shell is None:
            shell = render(delivery, self.session, self.site, PLACEHOLDER).as_bytes(policy=email.policy.SMTP)
        _RENDERED[key] = shell
        while len(_RENDERED) > KEPT:
            del _RENDERED[next(iter(_RENDERED))]
        return shell


KEPT = 32  # shells of the posts and notices most recently sent, most recent last
_RENDERED: dict[tuple[str, str, str, Site], bytes] = {}
