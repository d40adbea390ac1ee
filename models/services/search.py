"""Search over posts, insensitive to diacritics and case: "gop y" finds "góp ý", "dieu 5" finds "Điều 5".

Text is folded once, in Python, when a post is stored (`Post.search_text`): the same folding on every
engine, đ → d included (so PostgreSQL needs no `unaccent`). SQLite ranks with FTS5 (an external-content
table kept by triggers), PostgreSQL with its full-text search over a stored `tsvector` of the folded text
(a generated column with a GIN index); both are created by the migrations.

Vietnamese syllables are few and common: "hoc sinh" is in half the posts of a busy forum. PostgreSQL
therefore ranks within the newest `RANKED` matches, not all of them (ranking reads every row it ranks),
looked for first among the newest `WINDOW` posts (see `_postgresql`). The last word of a query is a
prefix only from three letters on, so "gop y" does not widen to every word starting with y.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from models.posts import Post, PostState

_WORD = re.compile(r"[0-9a-z]+")
LIMIT = 50
RANKED = 1_000  # on PostgreSQL, how many of the newest matches are ranked
WINDOW = 20_000  # on PostgreSQL, how many of the newest posts are searched first
PREFIX_FROM = 3  # letters the last word needs to be searched as a prefix


def fold(value: str) -> str:
    """Lower-case ASCII-ish text: diacritics and tone marks removed, đ made d."""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def search_text(subject: str, body: str) -> str:
    return fold(f"{subject}\n{body}")


def words(query: str) -> list[str]:
    return _WORD.findall(fold(query))[:12]


@dataclass(frozen=True)
class Filters:
    group_id: int | None = None
    author_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    kind: str | None = None  # a NoticeKind value: posts in the threads of notices of that kind


@dataclass(frozen=True)
class Hit:
    post: Post
    excerpt: str


def search(
    session: Session, query: str, filters: Filters = Filters(), limit: int = LIMIT, offset: int = 0
) -> list[Hit]:
    terms = words(query)
    if not terms:
        return []
    where, params = _filters(filters)
    params |= {"visible": PostState.VISIBLE.value, "limit": limit, "offset": offset}
    prefix = len(terms[-1]) >= PREFIX_FROM
    if session.get_bind().dialect.name == "sqlite":
        ids = _sqlite(session, terms, prefix, where, params)
    else:
        ids = _postgresql(session, terms, prefix, where, params | {"ranked": RANKED, "window": WINDOW})
    posts = {post.id: post for post in session.scalars(select(Post).where(Post.id.in_(ids)))} if ids else {}
    return [Hit(posts[i], excerpt(posts[i].text, terms)) for i in ids if i in posts]


def _sqlite(
    session: Session, terms: list[str], prefix: bool, where: str, params: dict[str, object]
) -> list[int]:
    sql = (
        "SELECT post.id FROM post_fts JOIN post ON post.id = post_fts.rowid "
        f"WHERE post_fts MATCH :match AND post.state = :visible{where} "
        "ORDER BY bm25(post_fts), post.id DESC LIMIT :limit OFFSET :offset"
    )
    match = " ".join(f'"{t}"' for t in terms) + ("*" if prefix else "")
    return [row[0] for row in session.execute(text(sql), params | {"match": match})]


def _postgresql(
    session: Session, terms: list[str], prefix: bool, where: str, params: dict[str, object]
) -> list[int]:
    """Rank the newest matches among the newest posts; among all posts when those are too few.

    The query is written into the statement, not bound: its words are [0-9a-z]+ (see `words`), and
    PostgreSQL plans better seeing them. Walking the newest `WINDOW` posts costs the same whatever the
    words; it answers common words (most searches), whose matches the GIN index would have to fetch by
    the hundred thousand. Rare words fall through to the index, which then has few rows to fetch.
    """
    assert all(_WORD.fullmatch(term) for term in terms)
    match = " & ".join(terms[:-1] + [terms[-1] + (":*" if prefix else "")])
    tsquery = f"to_tsquery('simple', '{match}')"
    ranked = (
        "SELECT newest.id FROM (SELECT post.id, post.search_vector FROM post "
        f"WHERE MATCHING AND post.state = :visible{where} ORDER BY post.id DESC LIMIT :ranked) AS newest "
        f"ORDER BY ts_rank(newest.search_vector, {tsquery}) DESC, newest.id DESC LIMIT :limit OFFSET :offset"
    )
    # "IS TRUE" keeps the planner from the GIN index here: the point is to read the newest rows only.
    recent = f"post.id > (SELECT max(id) FROM post) - :window AND (post.search_vector @@ {tsquery}) IS TRUE"
    ids = [row[0] for row in session.execute(text(ranked.replace("MATCHING", recent)), params)]
    if len(ids) < params["limit"]:  # type: ignore[operator]
        anywhere = f"post.search_vector @@ {tsquery}"
        ids = [row[0] for row in session.execute(text(ranked.replace("MATCHING", anywhere)), params)]
    return ids


def _filters(filters: Filters) -> tuple[str, dict[str, object]]:
    clauses: list[str] = []
    params: dict[str, object] = {}
    for column, name, value, operator in (
        ("post.group_id", "group_id", filters.group_id, "="),
        ("post.author_id", "author_id", filters.author_id, "="),
        ("post.created_at", "since", filters.since, ">="),
        ("post.created_at", "until", filters.until, "<="),
    ):
        if value is not None:
            clauses.append(f" AND {column} {operator} :{name}")
            params[name] = value.replace(tzinfo=None) if isinstance(value, datetime) else value
    if filters.kind is not None:
        notices = "SELECT notice.thread_id FROM notice WHERE notice.kind = :kind"
        clauses.append(f" AND post.thread_id IN ({notices})")
        params["kind"] = filters.kind
    return "".join(clauses), params


def excerpt(body: str, terms: list[str], width: int = 160) -> str:
    """The part of the text around the first word found (positions agree: folding keeps lengths for NFC text
    except for rare compatibility characters, so a miss falls back to the start)."""
    folded = fold(body)
    found = min((i for i in (folded.find(t) for t in terms) if i >= 0), default=0)
    start = max(found - width // 3, 0)
    snippet = body[start : start + width].strip()
    return ("…" if start else "") + snippet + ("…" if start + width < len(body) else "")
