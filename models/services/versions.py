"""Versions of a draft: each split into provisions, matched with the version before by their words (so a
renumbered article is still the same article), compared provision by provision, and the comments not yet
decided carried to the matching provision."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.consultations import Consultation, Decision, DraftComment, DraftVersion, Provision, ProvisionKind
from models.posts import PostAttachment
from models.services.documents import draft_text
from models.services.provisions import split_provisions

NESTED = (ProvisionKind.CLAUSE, ProvisionKind.POINT)
SAME_ENOUGH = 0.5


def add_version(
    session: Session,
    consultation: Consultation,
    filename: str,
    data: bytes,
    now: datetime,
    *,
    attachment: PostAttachment | None = None,
) -> DraftVersion:
    """The next version of the draft, its provisions stored and matched with the version before."""
    split = split_provisions(draft_text(filename, data))
    number = (
        session.scalar(
            select(func.max(DraftVersion.number)).where(DraftVersion.consultation_id == consultation.id)
        )
        or 0
    ) + 1
    previous = _version(session, consultation, number - 1)
    version = DraftVersion(
        consultation=consultation,
        number=number,
        filename=filename,
        attachment=attachment,
        preamble=split.preamble,
        created_at=now,
    )
    rows = [
        Provision(
            kind=piece.kind,
            number=piece.number,
            label=piece.label,
            citation=piece.citation.text,
            anchor=piece.anchor,
            position=position,
            heading=piece.heading,
            text=piece.text,
        )
        for position, piece in enumerate(split.pieces)
    ]
    version.provisions = rows
    session.add(version)
    session.flush()
    for row, piece in zip(rows, split.pieces, strict=True):
        row.parent_id = rows[piece.parent].id if piece.parent is not None else None
    if previous is not None:
        _link(session, previous.provisions, rows)
    return version


def _version(session: Session, consultation: Consultation, number: int) -> DraftVersion | None:
    return session.scalar(
        select(DraftVersion).where(
            DraftVersion.consultation_id == consultation.id, DraftVersion.number == number
        )
    )


def _link(session: Session, old: list[Provision], new: list[Provision]) -> None:
    pairs = match_provisions(old, new)
    for new_index, old_index in pairs.items():
        new[new_index].previous_id = old[old_index].id
    successor = {old[o].id: new[n] for n, o in pairs.items()}
    open_comments = session.scalars(
        select(DraftComment)
        .outerjoin(Decision, Decision.comment_id == DraftComment.id)
        .where(DraftComment.provision_id.in_(successor), Decision.id.is_(None))
    ).all()
    for comment in open_comments:
        assert comment.provision_id is not None
        comment.provision = successor[comment.provision_id]


def match_provisions(old: list[Provision], new: list[Provision]) -> dict[int, int]:
    """Index in `new` → index in `old` of the same provision. Headings and articles are matched by
    their whole words (a moved or renumbered article included), clauses and points within the matched
    article or clause."""
    old_index = {p.id: n for n, p in enumerate(old)}
    new_index = {p.id: n for n, p in enumerate(new)}
    old_words, new_words = _whole_words(old), _whole_words(new)
    pairs: dict[int, int] = {}
    tops = [n for n, p in enumerate(new) if p.kind not in NESTED]
    _greedy(
        pairs, tops, [n for n, p in enumerate(old) if p.kind not in NESTED], old, new, old_words, new_words
    )
    for kind in NESTED:
        for parent_new, parent_old in list(pairs.items()):
            children_new = [
                n
                for n, p in enumerate(new)
                if p.kind == kind and new_index.get(p.parent_id or -1) == parent_new
            ]
            children_old = [
                n
                for n, p in enumerate(old)
                if p.kind == kind and old_index.get(p.parent_id or -1) == parent_old
            ]
            _greedy(pairs, children_new, children_old, old, new, old_words, new_words)
    return pairs


def _whole_words(provisions: list[Provision]) -> list[list[str]]:
    """Each provision's heading and text with its descendants' text, as words."""
    words = [f"{p.heading} {p.text}".split() for p in provisions]
    index = {p.id: n for n, p in enumerate(provisions)}
    for n in range(len(provisions) - 1, -1, -1):  # children come after their parents
        parent = index.get(provisions[n].parent_id or -1)
        if parent is not None:
            words[parent] = words[parent] + words[n]
    return words


def _greedy(
    pairs: dict[int, int],
    new_candidates: list[int],
    old_candidates: list[int],
    old: list[Provision],
    new: list[Provision],
    old_words: list[list[str]],
    new_words: list[list[str]],
) -> None:
    scored = []
    for n in new_candidates:
        for o in old_candidates:
            if new[n].kind != old[o].kind:
                continue
            matcher = difflib.SequenceMatcher(None, old_words[o], new_words[n], autojunk=False)
            if matcher.real_quick_ratio() < SAME_ENOUGH or matcher.quick_ratio() < SAME_ENOUGH:
                continue
            score = matcher.ratio() + (0.01 if new[n].number == old[o].number else 0)
            if score >= SAME_ENOUGH:
                scored.append((score, n, o))
    taken: set[int] = set()
    for _, n, o in sorted(scored, reverse=True):
        if n not in pairs and o not in taken:
            pairs[n] = o
            taken.add(o)


@dataclass(frozen=True)
class Change:
    """One provision compared across two versions; `pieces` are (op, words) with op "=", "-" or "+"."""

    old: Provision | None
    new: Provision | None
    status: str  # unchanged, changed, renumbered, added, removed
    pieces: tuple[tuple[str, str], ...] = ()


def compare(old_version: DraftVersion, new_version: DraftVersion) -> list[Change]:
    """Provision by provision in the new version's order, removed ones after the one they followed."""
    old_by_id = {p.id: p for p in old_version.provisions}
    matched = {p.previous_id for p in new_version.provisions if p.previous_id}
    removed_after: dict[int | None, list[Provision]] = {}
    last_kept: int | None = None
    for provision in old_version.provisions:
        if provision.id in matched:
            last_kept = provision.id
        else:
            removed_after.setdefault(last_kept, []).append(provision)
    changes = [Change(p, None, "removed") for p in removed_after.get(None, [])]
    for provision in new_version.provisions:
        before = old_by_id.get(provision.previous_id) if provision.previous_id else None
        changes.append(_change(before, provision))
        if before is not None:
            changes += [Change(p, None, "removed") for p in removed_after.get(before.id, [])]
    return changes


def _change(old: Provision | None, new: Provision) -> Change:
    if old is None:
        return Change(None, new, "added")
    old_words, new_words = f"{old.heading} {old.text}".split(), f"{new.heading} {new.text}".split()
    if old_words == new_words:
        return Change(old, new, "unchanged" if old.citation == new.citation else "renumbered")
    pieces: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, old_words, new_words, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            pieces.append(("=", " ".join(old_words[a1:a2])))
            continue
        if a2 > a1:
            pieces.append(("-", " ".join(old_words[a1:a2])))
        if b2 > b1:
            pieces.append(("+", " ".join(new_words[b1:b2])))
    return Change(old, new, "changed", tuple(pieces))
