"""The read-only JSON API: what a school's own site or an app would read, and what it must never see."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta

import pytest

from models import Organisation, Person, Post, db
from models.notices import Notice, NoticeKind
from models.people import OrganisationKind
from models.posts import PostState
from models.roles import RoleName
from models.services.memberships import find_group
from models.services.notices import NoticeDraft, publish_notice
from models.services.posts import NewAttachment
from models.services.roles import grant
from tests.conftest import BASE_URL, DOMAIN
from tests.factories import make_member, make_post

START = datetime(2026, 9, 5, 7, 30, tzinfo=UTC)
PLAN = "Kế hoạch tuyển sinh lớp 10 năm học 2026–2027"
HELD = "Bí mật: bài chờ duyệt"


def write_post(
    author: Person,
    subject: str,
    text: str,
    *,
    at: datetime,
    reply_to: Post | None = None,
    state: PostState = PostState.VISIBLE,
    slug: str = "thpt",
    attachments: tuple[NewAttachment, ...] = (),
) -> Post:
    """A post as the mail gateway records it: a new topic, or a reply to `reply_to`."""
    return make_post(
        text,
        subject=subject,
        reply_to=reply_to,
        author=author,
        slug=slug,
        state=state,
        at=at,
        message_id=f"<{at.timestamp()}.{author.id}@truong.edu.vn>",
        attachments=attachments,
    )


@pytest.fixture
def client(make_app):
    return make_app().test_client()


@pytest.fixture
def discussion(client) -> dict[str, Post]:
    """An, of a school, asks; Bình answers with a file; a stranger's reply and topic wait for a moderator."""
    an, binh, stranger = make_member("An"), make_member("Binh"), make_member("Khach", slug="maugiao")
    an.organisation = Organisation(name="Trường THPT Chu Văn An", kind=OrganisationKind.SCHOOL)
    binh.name = "Bình"
    question = write_post(an, PLAN, f"Xin hỏi về {PLAN}.", at=START)
    form = NewAttachment("Biểu mẫu đăng ký.pdf", "application/pdf", b"%PDF-1.4 mau")
    answer = write_post(
        binh,
        f"Re: {PLAN}",
        "Đã gửi biểu mẫu.",
        at=START + timedelta(hours=1),
        reply_to=question,
        attachments=(form,),
    )
    held_reply = write_post(
        stranger,
        f"Re: {PLAN}",
        HELD,
        at=START + timedelta(hours=2),
        reply_to=question,
        state=PostState.HELD,
    )
    held_topic = write_post(stranger, HELD, HELD, at=START + timedelta(hours=3), state=PostState.HELD)
    return {"question": question, "answer": answer, "held_reply": held_reply, "held_topic": held_topic}


def test_groups_are_listed_with_their_addresses_and_active_members(client):
    make_member("An")
    response = client.get("/api/groups")
    assert response.status_code == 200
    assert response.content_type == "application/json; charset=utf-8"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    groups = {group["slug"]: group for group in response.get_json()["groups"]}
    assert len(groups) == 11
    thpt = groups["thpt"]
    assert thpt["registration_address"] == f"dangky-THPT@{DOMAIN}"
    assert thpt["member_count"] == 1 and groups["maugiao"]["member_count"] == 0
    assert thpt["url"] == f"{BASE_URL}/nhom/thpt"
    assert client.get(thpt["threads_url"].removeprefix(BASE_URL)).status_code == 200
    assert client.get(thpt["feed_url"].removeprefix(BASE_URL)).status_code == 200


def test_vietnamese_comes_back_readable_and_in_nfc(client, discussion):
    raw = client.get(f"/api/threads/{discussion['question'].thread_id}").get_data()
    assert PLAN.encode() in raw  # UTF-8 as written, not \u escapes
    assert b"\\u" not in raw
    text = raw.decode()
    assert unicodedata.is_normalized("NFC", text)
    assert "Trường THPT Chu Văn An" in text


def test_a_thread_shows_its_visible_posts_in_order_with_their_files(client, discussion):
    question, answer = discussion["question"], discussion["answer"]
    thread = client.get(f"/api/threads/{question.thread_id}").get_json()
    assert thread["group"] == "thpt" and thread["subject"] == PLAN
    assert thread["post_count"] == 2
    assert [post["id"] for post in thread["posts"]] == [question.id, answer.id]
    first, reply = thread["posts"]
    assert first["parent_id"] is None and reply["parent_id"] == question.id
    assert first["author_name"] == "An" and first["organisation"] == "Trường THPT Chu Văn An"
    assert reply["organisation"] is None
    assert reply["created_at"] == "2026-09-05T08:30:00+00:00"
    assert thread["last_post_at"] == reply["created_at"]
    assert reply["url"] == f"{BASE_URL}/chu-de/{question.thread_id}#bai-{answer.id}"
    [form] = reply["attachments"]
    assert form["filename"] == "Biểu mẫu đăng ký.pdf" and form["size"] == len(b"%PDF-1.4 mau")
    download = client.get(form["url"].removeprefix(BASE_URL))
    assert download.status_code == 200 and download.data == b"%PDF-1.4 mau"


def test_held_posts_never_appear_anywhere(client, discussion):
    thread_id = discussion["question"].thread_id
    answers = [
        client.get("/api/groups/thpt/threads"),
        client.get("/api/groups/maugiao/threads"),
        client.get(f"/api/threads/{thread_id}"),
        client.get("/api/search?q=chờ duyệt"),
        client.get("/api/search?q=Bí mật"),
    ]
    for response in answers:
        assert response.status_code == 200
        assert HELD.encode() not in response.get_data()
    assert client.get("/api/search?q=chờ duyệt").get_json()["results"] == []
    assert client.get("/api/groups/maugiao/threads").get_json()["threads"] == []
    [listed] = client.get("/api/groups/thpt/threads").get_json()["threads"]
    assert listed["id"] == thread_id and listed["post_count"] == 2
    missing = client.get(f"/api/threads/{discussion['held_topic'].thread_id}")
    assert missing.status_code == 404 and missing.get_json() == {"error": "không tìm thấy"}


def test_a_reply_to_a_held_post_shows_without_a_parent(client, discussion):
    binh = discussion["answer"].author
    held = discussion["held_reply"]
    write_post(binh, f"Re: {PLAN}", "Trả lời bài chưa duyệt", at=START + timedelta(hours=4), reply_to=held)
    posts = client.get(f"/api/threads/{held.thread_id}").get_json()["posts"]
    assert [post["parent_id"] for post in posts] == [None, discussion["question"].id, None]
    assert held.id not in {post["id"] for post in posts}


def test_threads_come_newest_activity_first_fifty_to_a_page(client):
    an = make_member("An")
    topics = [write_post(an, f"Chủ đề {n}", "Nội dung", at=START + timedelta(minutes=n)) for n in range(51)]
    write_post(an, "Re: Chủ đề 0", "Trả lời muộn", at=START + timedelta(days=1), reply_to=topics[0])
    first = client.get("/api/groups/thpt/threads").get_json()
    assert first["page"] == 1 and first["prev"] is None
    assert len(first["threads"]) == 50
    assert [t["subject"] for t in first["threads"][:3]] == ["Chủ đề 0", "Chủ đề 50", "Chủ đề 49"]
    assert first["next"] == f"{BASE_URL}/api/groups/thpt/threads?page=2"
    second = client.get(first["next"].removeprefix(BASE_URL)).get_json()
    assert [t["subject"] for t in second["threads"]] == ["Chủ đề 1"]
    assert second["next"] is None and second["prev"] == f"{BASE_URL}/api/groups/thpt/threads?page=1"


@pytest.mark.parametrize("page", ["0", "-1", "hai", "1.5", "9999999999999999999999"])
def test_a_page_that_is_not_a_positive_number_is_a_json_error(client, page):
    response = client.get(f"/api/groups/thpt/threads?page={page}")
    assert response.status_code == 400
    assert response.content_type == "application/json; charset=utf-8"
    assert "page" in response.get_json()["error"]


@pytest.mark.parametrize("path", ["/api/groups/khong-co/threads", "/api/threads/999999"])
def test_unknown_groups_and_threads_are_json_404s(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.content_type == "application/json; charset=utf-8"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.get_data(as_text=True) == '{"error": "không tìm thấy"}'


@pytest.fixture
def notices(client) -> dict[str, Notice]:
    """An invitation to the Sở group from the ministry's office, and a request for a report to two groups."""
    publisher = make_member("VanPhongBo", "so")
    groups = find_group(db.session, "so"), find_group(db.session, "phong")
    for group in groups:
        grant(db.session, publisher, RoleName.PUBLISHER, group=group)
    unit = Organisation(name="Văn phòng Bộ", kind=OrganisationKind.MINISTRY_UNIT)
    meeting = NoticeDraft(
        kind=NoticeKind.INVITATION,
        title="Giấy mời họp giao ban",
        body="Kính mời.",
        groups=groups[:1],
        meeting_start=START + timedelta(days=3),
        meeting_place="Phòng họp A",
    )
    report = NoticeDraft(
        kind=NoticeKind.REPORT_REQUESTED,
        title="Báo cáo tổng kết",
        body="Đề nghị báo cáo.",
        groups=groups,
        deadline=START + timedelta(days=10),
        answer_required=True,
    )
    published = {
        draft.kind.value: publish_notice(db.session, draft, publisher, unit=unit, domain=DOMAIN, now=START)
        for draft in (meeting, report)
    }
    db.session.commit()
    return published


def test_notices_come_newest_first_with_their_kind_groups_and_dates(client, notices):
    listed = client.get("/api/notices").get_json()["notices"]
    assert [n["title"] for n in listed] == ["Báo cáo tổng kết", "Giấy mời họp giao ban"]
    report, meeting = listed
    assert report["kind"] == "yeu_cau_bao_cao" and report["kind_label_vi"] == "Yêu cầu báo cáo"
    assert report["groups"] == ["phong", "so"] and report["unit"] == "Văn phòng Bộ"
    assert report["answer_required"] is True
    assert report["deadline"] == (START + timedelta(days=10)).isoformat()
    assert meeting["meeting_place"] == "Phòng họp A" and meeting["deadline"] is None
    assert report["url"] == f"{BASE_URL}/chu-de/{notices['yeu_cau_bao_cao'].thread_id}"
    only_phong = client.get("/api/notices?group=PHONG").get_json()["notices"]
    assert [n["title"] for n in only_phong] == ["Báo cáo tổng kết"]
    meetings = client.get("/api/notices?kind=giay_moi").get_json()["notices"]
    assert [n["title"] for n in meetings] == ["Giấy mời họp giao ban"]
    assert client.get("/api/notices?kind=hop").status_code == 400
    assert client.get("/api/notices?group=khong-co").status_code == 404
    found = client.get("/api/search?q=bao cao&kind=yeu_cau_bao_cao").get_json()["results"]
    assert [hit["subject"] for hit in found] == ["Báo cáo tổng kết"]
    assert client.get("/api/search?q=giao ban&group=phong").get_json()["results"] == []


def test_search_finds_visible_posts_by_subject_or_text(client, discussion):
    question, answer = discussion["question"], discussion["answer"]
    found = client.get("/api/search?q=LOP 10").get_json()["results"]  # the subjects say "lớp 10"
    assert {hit["id"] for hit in found} == {answer.id, question.id}  # the held reply not
    assert {hit["group"] for hit in found} == {"thpt"}
    assert "Đã gửi biểu mẫu." in {hit["excerpt"] for hit in found}
    assert client.get("/api/search?q=%25").get_json()["results"] == []  # "%" is a character, not a wildcard
    assert client.get("/api/search?q=_").get_json()["results"] == []


@pytest.mark.parametrize("query", ["", "q=", "q=%20%20", "q=" + "a" * 201])
def test_search_without_words_is_a_json_error(client, query):
    response = client.get(f"/api/search?{query}")
    assert response.status_code == 400 and "q" in response.get_json()["error"]


# The OpenAPI document


def documented(client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_document_describes_every_route_and_only_those(client):
    app = client.application
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            routes[path] = {method.lower() for method in rule.methods - {"HEAD", "OPTIONS"}}
    paths = documented(client)["paths"]
    assert set(routes) == set(paths)
    for path, methods in routes.items():
        assert set(paths[path]) - {"parameters"} == methods, path
        for operation in methods:
            declared = {p["name"] for p in paths[path][operation].get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), path


def test_the_document_is_openapi_3_1_with_every_reference_resolved(client):
    document = documented(client)
    assert document["openapi"].startswith("3.1.")
    assert document["info"]["title"] and document["info"]["version"]
    assert document["servers"] == [{"url": BASE_URL}]
    for path, item in document["paths"].items():
        assert path.startswith("/api/")
        for method, operation in item.items():
            assert operation["responses"], f"{method} {path} has no responses"
            assert all(re.fullmatch(r"[1-5]\d\d|default", code) for code in operation["responses"])
    for ref in references(document):
        assert resolve(document, ref) is not None, ref


def references(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for item in node.values() for r in references(item)]
    if isinstance(node, list):
        return [r for item in node for r in references(item)]
    return []


def test_every_answer_matches_its_documented_schema(client, discussion, notices):
    document = documented(client)
    thread_id = discussion["question"].thread_id
    calls = [
        ("/api/groups", "/api/groups"),
        ("/api/groups/{slug}/threads", "/api/groups/thpt/threads"),
        ("/api/groups/{slug}/threads", "/api/groups/thpt/threads?page=0"),
        ("/api/groups/{slug}/threads", "/api/groups/khong-co/threads"),
        ("/api/threads/{thread_id}", f"/api/threads/{thread_id}"),
        ("/api/threads/{thread_id}", "/api/threads/999999"),
        ("/api/notices", "/api/notices"),
        ("/api/notices", "/api/notices?group=so&kind=giay_moi"),
        ("/api/notices", "/api/notices?kind=hop"),
        ("/api/search", "/api/search?q=bao cao&kind=yeu_cau_bao_cao&group=phong"),
        ("/api/search", "/api/search?q=biểu mẫu"),
        ("/api/search", "/api/search?q="),
    ]
    for template, url in calls:
        response = client.get(url)
        answer = document["paths"][template]["get"]["responses"][str(response.status_code)]
        answer = resolve(document, answer["$ref"]) if "$ref" in answer else answer
        schema = answer["content"]["application/json"]["schema"]
        assert conforms(response.get_json(), schema, document) == [], url


def resolve(document: dict, ref: str) -> dict:
    node = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


JSON_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "boolean": bool,
    "null": type(None),
}


def conforms(value: object, schema: dict, document: dict, where: str = "$") -> list[str]:
    """The ways `value` breaks `schema`: the part of JSON Schema the document uses, no more."""
    if "$ref" in schema:
        return conforms(value, resolve(document, schema["$ref"]), document, where)
    if "oneOf" in schema:
        matching = [s for s in schema["oneOf"] if not conforms(value, s, document, where)]
        return [] if len(matching) == 1 else [f"{where}: matches {len(matching)} of oneOf"]
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if types and not any(is_json_type(value, name) for name in types):
        return [f"{where}: {value!r} is not {types}"]
    if schema.get("format") == "date-time" and isinstance(value, str):
        if datetime.fromisoformat(value).tzinfo is None:
            return [f"{where}: {value} has no offset"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {value!r} is not one of {schema['enum']}"]
    if "const" in schema and value != schema["const"]:
        return [f"{where}: {value!r} is not {schema['const']!r}"]
    if isinstance(value, list):
        if len(value) > schema.get("maxItems", len(value)):
            return [f"{where}: too many items"]
        return [p for i, item in enumerate(value) for p in conforms(item, schema["items"], document, where)]
    if isinstance(value, dict):
        return object_problems(value, schema, document, where)
    return []


def object_problems(value: dict, schema: dict, document: dict, where: str) -> list[str]:
    properties = schema.get("properties", {})
    problems = [f"{where}: no {name}" for name in schema.get("required", []) if name not in value]
    if schema.get("additionalProperties") is False:
        problems += [f"{where}: undocumented {name}" for name in value if name not in properties]
    for name, item in value.items():
        if name in properties:
            problems += conforms(item, properties[name], document, f"{where}.{name}")
    return problems


def is_json_type(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return name == "boolean"
    return isinstance(value, JSON_TYPES[name])
