"""Atom feeds (RFC 4287): one per group, and one for notices.

Built as an element tree, so every text is escaped; post texts go out as plain text, never HTML, so a
feed reader has nothing to run.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime

from flask import Blueprint, abort, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from forum.settings import web_settings
from models import Group, Post, db, links, utcnow
from models.errors import UnknownGroup
from models.posts import PostState
from models.services.memberships import find_group
from models.site import Site

blueprint = Blueprint("feeds", __name__)

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
CONTENT_TYPE = "application/atom+xml; charset=utf-8"
ENTRIES = 50
UNTITLED = "(không có tiêu đề)"
UNNAMED = "Thành viên nhóm"
# What XML 1.0 cannot carry at all, even escaped (a form feed or an escape in a mail body would otherwise
# make the whole feed unreadable).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@blueprint.get("/nhom/<slug>/atom.xml")
def group_feed(slug: str) -> Response:
    try:
        group = find_group(db.session, slug)
    except UnknownGroup:
        abort(404)
    site = web_settings().site
    posts = newest_posts(group)
    feed = new_feed(
        site,
        feed_id=tag(site, group.created_at, f"nhom/{group.slug}"),
        title=group.name_vi,
        updated=posts[0].created_at if posts else group.created_at,
        self_path=url_for("feeds.group_feed", slug=group.slug),
        page_path=links.group_path(group.slug),
    )
    if group.audience_vi:
        child(feed, "subtitle", group.audience_vi)
    for post in posts:
        add_entry(feed, site, post)
    return atom_response(feed)


@blueprint.get("/thong-bao/atom.xml")
def notices_feed() -> Response:
    """Notices come later: until then a valid feed with no entries."""
    site = web_settings().site
    path = url_for("feeds.notices_feed")
    feed = new_feed(
        site,
        feed_id=site.url(path),
        title=f"Thông báo · {site.name_vi}",
        updated=utcnow(),
        self_path=path,
        page_path=links.GROUPS,
    )
    return atom_response(feed)


def newest_posts(group: Group) -> Sequence[Post]:
    return db.session.scalars(
        select(Post)
        .where(Post.group_id == group.id, Post.state == PostState.VISIBLE)
        .order_by(Post.created_at.desc(), Post.id.desc())
        .limit(ENTRIES)
        .options(selectinload(Post.author))
    ).all()


def new_feed(
    site: Site, *, feed_id: str, title: str, updated: datetime, self_path: str, page_path: str
) -> ET.Element:
    """The feed's head; its author, the site, stands for entries without their own (RFC 4287 4.1.1)."""
    feed = ET.Element("feed", {"xmlns": ATOM, XML_LANG: "vi"})  # every element in Atom's namespace
    child(feed, "id", feed_id)
    child(feed, "title", title)
    child(feed, "updated", rfc3339(updated))
    child(child(feed, "author"), "name", site.name_vi)
    link(feed, "self", site.url(self_path), CONTENT_TYPE.split(";")[0])
    link(feed, "alternate", site.url(page_path), "text/html")
    child(feed, "generator", "nhomthu")
    return feed


def add_entry(feed: ET.Element, site: Site, post: Post) -> None:
    entry = child(feed, "entry")
    child(entry, "id", tag(site, post.created_at, f"bai/{post.id}"))
    child(entry, "title", post.subject.strip() or UNTITLED)
    child(entry, "updated", rfc3339(post.created_at))
    child(entry, "published", rfc3339(post.created_at))
    child(child(entry, "author"), "name", author_name(post))
    link(entry, "alternate", site.url(links.thread_path(post.thread_id, post.id)), "text/html")
    child(entry, "content", post.text).set("type", "text")


def author_name(post: Post) -> str:
    """The name the post was signed with; never the address, which a public feed must not show."""
    if post.author_name.strip():
        return post.author_name.strip()
    if post.author is not None and post.author.name.strip():
        return post.author.name.strip()
    return UNNAMED


def tag(site: Site, minted: datetime, specific: str) -> str:
    """A tag: URI (RFC 4151), dated the day the thing was made, when the site held its domain."""
    return f"tag:{site.domain},{minted.astimezone(UTC):%Y-%m-%d}:{specific}"


def rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def child(parent: ET.Element, name: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, name)
    if text is not None:
        element.text = _NOT_XML.sub("", text)
    return element


def link(parent: ET.Element, rel: str, href: str, media_type: str) -> None:
    ET.SubElement(parent, "link", {"rel": rel, "href": href, "type": media_type})


def atom_response(feed: ET.Element) -> Response:
    # Not default_namespace=ATOM: ElementTree then refuses the unqualified attributes Atom uses.
    body = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return Response(body, content_type=CONTENT_TYPE)
