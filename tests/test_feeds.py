"""The Atom feeds a feed reader subscribes to: well-formed, complete, and only what is visible."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest

from models.posts import PostState
from tests.conftest import BASE_URL, DOMAIN
from tests.factories import make_member
from tests.test_api import START, write_post

NS = {"a": "http://www.w3.org/2005/Atom"}
ATOM_TYPE = "application/atom+xml; charset=utf-8"


@pytest.fixture
def client(make_app):
    return make_app().test_client()


def read_feed(client, path: str) -> ET.Element:
    response = client.get(path)
    assert response.status_code == 200
    assert response.content_type == ATOM_TYPE
    assert response.get_data().startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    feed = ET.fromstring(response.get_data())
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    return feed


def text(element: ET.Element, path: str) -> str:
    found = element.find(path, NS)
    assert found is not None, f"no {path}"
    return found.text or ""


def assert_instant(value: str) -> None:
    assert value.endswith("Z") and datetime.fromisoformat(value).tzinfo is not None


def assert_feed_head(feed: ET.Element, self_path: str) -> None:
    """What RFC 4287 4.1.1 requires of a feed, and the self link it recommends."""
    assert text(feed, "a:id") and text(feed, "a:title")
    assert_instant(text(feed, "a:updated"))
    assert text(feed, "a:author/a:name")
    assert feed.find("a:link[@rel='self']", NS).get("href") == BASE_URL + self_path


def test_a_group_feed_has_an_entry_per_visible_post_newest_first(client):
    an, binh = make_member("An"), make_member("Binh")
    binh.name = "Trần Thị Bình"
    question = write_post(an, "Lịch thi học kỳ I", "Xin hỏi lịch thi.", at=START)
    answer = write_post(
        binh, "Re: Lịch thi học kỳ I", "Thi từ ngày 20/12.", at=START + timedelta(hours=1), reply_to=question
    )
    write_post(binh, "Chờ duyệt", "Bài bị giữ lại", at=START + timedelta(hours=2), state=PostState.HELD)
    feed = read_feed(client, "/nhom/thpt/atom.xml")
    assert_feed_head(feed, "/nhom/thpt/atom.xml")
    assert text(feed, "a:title") == "Trường THPT"
    assert text(feed, "a:updated") == "2026-09-05T08:30:00Z"  # the newest visible post, not the held one
    assert feed.find("a:link[@rel='alternate']", NS).get("href") == f"{BASE_URL}/nhom/thpt"
    entries = feed.findall("a:entry", NS)
    assert [text(e, "a:title") for e in entries] == ["Re: Lịch thi học kỳ I", "Lịch thi học kỳ I"]
    newest = entries[0]
    assert text(newest, "a:id") == f"tag:{DOMAIN},2026-09-05:bai/{answer.id}"
    assert text(newest, "a:updated") == text(newest, "a:published") == "2026-09-05T08:30:00Z"
    assert text(newest, "a:author/a:name") == "Trần Thị Bình"
    href = newest.find("a:link[@rel='alternate']", NS).get("href")
    assert href == f"{BASE_URL}/chu-de/{question.thread_id}#bai-{answer.id}"
    content = newest.find("a:content", NS)
    assert content.get("type") == "text" and content.text == "Thi từ ngày 20/12."


def test_held_posts_and_addresses_never_reach_the_feed(client):
    an = make_member("An")
    an.name = ""
    write_post(an, "Công khai", "Ai cũng đọc được", at=START)
    write_post(an, "Bí mật", "Bài chờ duyệt", at=START + timedelta(minutes=1), state=PostState.HELD)
    write_post(an, "Bị từ chối", "Bài bị từ chối", at=START + timedelta(minutes=2), state=PostState.REJECTED)
    body = client.get("/nhom/thpt/atom.xml").get_data(as_text=True)
    assert "Ai cũng đọc được" in body
    assert "Bí mật" not in body and "Bị từ chối" not in body
    assert "@truong.edu.vn" not in body  # an author without a name shows as a member, never as an address
    [entry] = ET.fromstring(body).findall("a:entry", NS)
    assert text(entry, "a:author/a:name") == "Thành viên nhóm"


def test_markup_in_a_post_is_text_and_characters_xml_cannot_carry_are_dropped(client):
    an = make_member("An")
    write_post(an, "<b>Gấp</b> & quan trọng", "<script>alert(1)</script>\fTrang 2\x1b", at=START)
    raw = client.get("/nhom/thpt/atom.xml").get_data()
    assert b"<script>" not in raw and b"<b>" not in raw
    [entry] = ET.fromstring(raw).findall("a:entry", NS)  # parses: no form feed or escape left in it
    assert text(entry, "a:title") == "<b>Gấp</b> & quan trọng"
    assert text(entry, "a:content") == "<script>alert(1)</script>Trang 2"


def test_a_group_feed_holds_the_fifty_newest_posts(client):
    an = make_member("An")
    posts = [write_post(an, f"Chủ đề {n}", "Nội dung", at=START + timedelta(minutes=n)) for n in range(51)]
    entries = read_feed(client, "/nhom/thpt/atom.xml").findall("a:entry", NS)
    assert len(entries) == 50
    ids = [text(e, "a:id") for e in entries]
    assert len(set(ids)) == 50
    assert ids[0].endswith(f":bai/{posts[-1].id}") and not any(i.endswith(f":bai/{posts[0].id}") for i in ids)


def test_a_group_without_posts_has_a_valid_empty_feed(client):
    feed = read_feed(client, "/nhom/THPT/atom.xml")
    assert_feed_head(feed, "/nhom/thpt/atom.xml")
    assert feed.findall("a:entry", NS) == []


def test_the_notices_feed_is_valid_and_empty_until_notices_are_built(client):
    feed = read_feed(client, "/thong-bao/atom.xml")
    assert_feed_head(feed, "/thong-bao/atom.xml")
    assert text(feed, "a:title").startswith("Thông báo")
    assert feed.findall("a:entry", NS) == []


def test_an_unknown_group_has_no_feed(client):
    assert client.get("/nhom/khong-co/atom.xml").status_code == 404
