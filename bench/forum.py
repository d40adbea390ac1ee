"""The forum's pages at scale: a group page, a 200-post thread and search, against /health in the same run.

    .venv/bin/python bench/forum.py [--posts 1000000] [--database-url postgresql://…/DB] [--keep] [--reuse]

Fills a fresh database (a temporary SQLite file by default; a PostgreSQL database that does not exist yet
is created, and dropped at the end unless --keep; --reuse measures a database kept from an earlier run
without filling it again) with N posts in N/10 threads over 50 groups, written
by 20,000 people, in Vietnamese made from word lists. Then it measures each page through the WSGI app
(Flask's test client: p50 and p95 over 200 requests of each kind, interleaved; fewer for a page slow
enough to take two minutes, with the count given) and under gunicorn with 2 workers (requests/s from a
few HTTP clients on loopback, 10 s per page, with the answers other than 200 counted).

The fill time goes to stderr, one JSON line to stdout. The p95 targets (50 ms for the group and thread
pages, 150 ms for search) are set for 1,000,000 posts on PostgreSQL.
"""

from __future__ import annotations

import argparse
import bisect
import gc
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # ahead of bench/, so `forum` is the package, not this file

import psycopg  # noqa: E402
from flask import Flask  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from psycopg import sql  # noqa: E402
from sqlalchemy import Connection, event, func, insert, select  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402

from models import Group, Membership, Organisation, Person, Post, Thread, db, utcnow  # noqa: E402
from models.entities import MembershipSource, MembershipState, OrganisationKind, PostState  # noqa: E402
from models.groups import PostPolicy  # noqa: E402
from models.services import seeding  # noqa: E402
from models.services.search import search_text, words  # noqa: E402
from models.services.threads import subject_key  # noqa: E402
from wiring import create_app, load_settings  # noqa: E402

MEASURED = 200  # posts in the thread whose page is measured
PEOPLE = 20_000
SPAN = timedelta(days=3 * 365)
ROUNDS, WARMUP, BUDGET = 200, 3, 120.0  # requests per kind, and seconds at most (see latencies)
SECONDS, CLIENTS = 10.0, 4
TARGETS_MS = {"group": 50, "thread": 50, "search": 150}
CHUNK = 2_000  # threads generated, sorted by time and written together
COMMIT_EVERY = 100_000  # posts per transaction
POST_COLUMNS = tuple(column.name for column in Post.__table__.columns)

FAMILY = (
    "Nguyễn Nguyễn Nguyễn Trần Trần Lê Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý".split()
)
MIDDLE = "Văn Thị Minh Thu Ngọc Hữu Đức Thanh Quốc Hoài Xuân Kim Bảo Gia Thành".split()
GIVEN = (
    "Hùng Lan Hà Bình Dũng Hương Mai Tuấn Trang Nam Linh Sơn Hải Phương Thảo Long Hạnh Quang Yến Khoa "
    "Hòa Nga Tâm Vinh Châu Hiền Thủy Cường Nhung Trung Lộc Vân Đạt Huyền Phúc Loan Tùng Oanh Khánh Giang"
).split()
PROVINCES = (
    "Hà Nội,TP. Hồ Chí Minh,Hải Phòng,Đà Nẵng,Cần Thơ,Hà Giang,Cao Bằng,Bắc Kạn,Tuyên Quang,Lào Cai,"
    "Điện Biên,Lai Châu,Sơn La,Yên Bái,Hòa Bình,Thái Nguyên,Lạng Sơn,Quảng Ninh,Bắc Giang,Phú Thọ,"
    "Vĩnh Phúc,Bắc Ninh,Hải Dương,Hưng Yên,Thái Bình,Hà Nam,Nam Định,Ninh Bình,Thanh Hóa,Nghệ An,Hà Tĩnh,"
    "Quảng Bình,Quảng Trị,Thừa Thiên Huế,Quảng Nam,Quảng Ngãi,Bình Định,Phú Yên,Khánh Hòa,Ninh Thuận,"
    "Bình Thuận,Kon Tum,Gia Lai,Đắk Lắk,Đắk Nông,Lâm Đồng,Bình Phước,Tây Ninh,Bình Dương,Đồng Nai,"
    "Bà Rịa - Vũng Tàu,Long An,Tiền Giang,Bến Tre,Trà Vinh,Vĩnh Long,Đồng Tháp,An Giang,Kiên Giang,"
    "Hậu Giang,Sóc Trăng,Bạc Liêu,Cà Mau"
).split(",")
DISTRICTS = (
    "Ba Đình,Hoàn Kiếm,Cầu Giấy,Đống Đa,Thủ Đức,Sơn Tây,Mộc Châu,Sa Pa,Hội An,Phú Quốc,Đà Lạt,Vinh,"
    "Hạ Long,Mỹ Tho,Long Xuyên,Cẩm Phả,Bắc Hà,Mèo Vạc,Đồng Văn,Tam Đảo,Cát Hải,Côn Đảo,Ninh Hải,Krông Pắc"
).split(",")
NAMESAKES = (
    "Chu Văn An,Lê Quý Đôn,Nguyễn Trãi,Trần Phú,Phan Bội Châu,Lê Hồng Phong,Nguyễn Du,Quang Trung,"
    "Trần Hưng Đạo,Lý Thường Kiệt,Nguyễn Huệ,Hùng Vương,Nguyễn Bỉnh Khiêm,Võ Thị Sáu,Kim Đồng,Lê Lợi,"
    "Nguyễn Thị Minh Khai,Phan Chu Trinh,Hoàng Hoa Thám,Ngô Quyền,Lương Thế Vinh,Tô Hiệu,Giảng Võ,Thăng Long"
).split(",")
LEVELS = ["Tiểu học", "THCS", "THPT", "Mầm non", "THPT chuyên", "Tiểu học và THCS"]
UNITS = ["GDTrH", "GDTH", "GDMN", "CNTT", "NGCBQLGD", "KHTC", "QLCL", "GDTC", "GDĐH", "VP"]
SUBJECTS = (
    "Toán,Ngữ văn,Tiếng Anh,Vật lí,Hóa học,Sinh học,Lịch sử,Địa lí,Giáo dục công dân,Tin học,Công nghệ,"
    "Giáo dục thể chất,Âm nhạc,Mĩ thuật,Hoạt động trải nghiệm"
).split(",")
TOPICS = (
    "chương trình giáo dục phổ thông 2018,sách giáo khoa lớp 5,tuyển sinh lớp 10,kỳ thi tốt nghiệp THPT,"
    "đánh giá học sinh tiểu học,bồi dưỡng giáo viên cốt cán,chuyển đổi số trong giáo dục,học bạ điện tử,"
    "kế hoạch năm học,dạy thêm học thêm,an toàn trường học,kiểm định chất lượng giáo dục,giáo dục STEM,"
    "dạy học ngoại ngữ,y tế trường học,sáp nhập điểm trường,định mức giáo viên,phụ cấp ưu đãi nhà giáo,"
    "hội thi giáo viên dạy giỏi,cơ sở dữ liệu ngành giáo dục,phòng chống đuối nước,tổ chức bán trú,"
    "miễn giảm học phí,giáo dục hướng nghiệp,thời khóa biểu,kiểm tra cuối học kỳ,chuẩn hiệu trưởng,"
    "thư viện trường học,giáo dục địa phương,tuyển dụng giáo viên,thi đua khen thưởng,bữa ăn học đường,"
    "giáo dục kỹ năng sống,phổ cập giáo dục,giáo dục hòa nhập,ứng dụng trí tuệ nhân tạo,sổ điểm điện tử"
).split(",")
AUDIENCES = (
    "các Sở GD&ĐT,các Phòng GD&ĐT,các trường THPT,quý thầy cô,các đồng chí hiệu trưởng,các thành viên nhóm,"
    "Cục Công nghệ thông tin,Vụ Giáo dục Trung học,ban giám hiệu các trường"
).split(",")
PHRASES = (
    "học sinh,người học,cơ sở giáo dục,nhà trường,giáo viên chủ nhiệm,tổ chuyên môn,ban giám hiệu,"
    "cha mẹ học sinh,hồ sơ điện tử,sổ sách giấy,đơn vị chủ trì,thời hạn báo cáo"
).split(",")
VERBS = ["bổ sung", "làm rõ", "điều chỉnh", "bỏ", "giữ nguyên", "hướng dẫn cụ thể", "xem xét lại"]
DOCUMENTS = ["thông tư", "nghị định", "quyết định", "hướng dẫn", "kế hoạch", "công văn"]
SUBJECT_LINES = (
    "Góp ý dự thảo thông tư về {topic}",
    "Góp ý dự thảo {document} quy định {topic}",
    "Hướng dẫn {topic} năm học {years}",
    "Công văn số {number}/BGDĐT-{unit} về {topic}",
    "Hỏi về {topic} tại {province}",
    "Kế hoạch {topic} của Sở GD&ĐT {province}",
    "Thông báo: {topic}",
    "Báo cáo {topic} học kỳ {term}",
    "Trao đổi kinh nghiệm {topic} môn {subject}",
)
SENTENCES = (
    "Về {topic}, {school} đề nghị {verb} nội dung tại Điều {article} khoản {clause}.",
    "Tại Điều {article} khoản {clause} điểm {letter} của dự thảo, đề nghị sửa cụm từ “{phrase}” "
    "thành “{phrase}”.",
    "Theo Công văn số {number}/BGDĐT-{unit} ngày {day}/{month}/{year}, các đơn vị gửi báo cáo về {topic} "
    "trước ngày {day}/{month}.",
    "{school} đã triển khai {topic} cho {count} học sinh khối {grade}.",
    "Đề nghị Sở GD&ĐT {province} tổng hợp ý kiến về {topic} và gửi về Bộ.",
    "Giáo viên môn {subject} ở {school} còn thiếu tài liệu hướng dẫn {topic}.",
    "Kế hoạch năm học {years} cần bổ sung nội dung {topic}.",
    "Tôi đồng ý với ý kiến của {title} {name} về {topic}.",
    "Xin hỏi {topic} có áp dụng cho các điểm trường ở vùng khó khăn như {province} không?",
    "Nhiều trường ở {province} chưa có đủ kinh phí cho {topic}.",
    "Chúng tôi xin gửi kèm số liệu của {count} trường trên địa bàn huyện {district}.",
    "Mong Bộ sớm ban hành {document} hướng dẫn chi tiết về {topic}.",
    "Xin cảm ơn các thầy cô đã quan tâm góp ý.",
)
QUERIES = (  # as people type them: without diacritics
    "gop y du thao,dieu 5,ke hoach nam hoc,thong tu,tuyen sinh lop 10,sach giao khoa,"
    "chuong trinh giao duc pho thong 2018,boi duong giao vien,chuyen doi so,hoc ba dien tu,"
    "thi tot nghiep thpt,nguyen van hung,chu van an,ha giang,dieu 12 khoan 3,cong van,"
    "mien giam hoc phi,day them hoc them,phong chong duoi nuoc,giao duc stem,dinh muc giao vien,"
    "thoi khoa bieu,kiem dinh chat luong,tin hoc,bao cao,so gd dt nghe an,hieu truong,tieng anh,"
    "phu cap uu dai,hoc sinh"
).split(",")


class Author(NamedTuple):
    id: int
    name: str
    domain: str
    organisation: str


@dataclass(frozen=True)
class Plan:
    id: int
    group_id: int
    start: datetime
    size: int
    gap_seconds: float  # the mean time between posts


class _Slots(dict[str, str]):
    """str.format_map fills only the slots a template names, each with a fresh choice."""

    def __init__(self, makers: dict[str, Callable[[], str]]) -> None:
        super().__init__()
        self.makers = makers

    def __missing__(self, key: str) -> str:
        return self.makers[key]()


class Corpus:
    """Names, subject lines and mail bodies made from the word lists, reproducibly."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        pick, number = rng.choice, rng.randint
        self.slots = _Slots(
            {
                "topic": lambda: pick(TOPICS),
                "province": lambda: pick(PROVINCES),
                "district": lambda: pick(DISTRICTS),
                "subject": lambda: pick(SUBJECTS),
                "school": lambda: f"Trường {pick(LEVELS)} {pick(NAMESAKES)}",
                "name": self.name,
                "article": lambda: str(int(1 + 40 * rng.random() ** 2)),
                "clause": lambda: str(number(1, 6)),
                "letter": lambda: pick("abcdđe"),
                "number": lambda: str(number(100, 9999)),
                "unit": lambda: pick(UNITS),
                "day": lambda: str(number(1, 28)),
                "month": lambda: str(number(1, 12)),
                "year": lambda: str(number(2022, 2025)),
                "years": self.school_year,
                "grade": lambda: str(number(1, 12)),
                "count": lambda: str(number(3, 1500)),
                "verb": lambda: pick(VERBS),
                "phrase": lambda: pick(PHRASES),
                "term": lambda: pick("I II".split()),
                "document": lambda: pick(DOCUMENTS),
                "title": lambda: pick(("thầy", "cô")),
            }
        )

    def school_year(self) -> str:
        year = self.rng.randint(2021, 2025)
        return f"{year}-{year + 1}"

    def name(self) -> str:
        pick = self.rng.choice
        return f"{pick(FAMILY)} {pick(MIDDLE)} {pick(GIVEN)}"

    def subject(self) -> str:
        return self.rng.choice(SUBJECT_LINES).format_map(self.slots)

    def body(self, author: Author) -> str:
        sentences = [self.rng.choice(SENTENCES).format_map(self.slots) for _ in range(self.rng.randint(2, 6))]
        middle = len(sentences) // 2
        paragraphs = " ".join(sentences[:middle]) + "\n\n" + " ".join(sentences[middle:])
        greeting = f"Kính gửi {self.rng.choice(AUDIENCES)},"
        return f"{greeting}\n\n{paragraphs.strip()}\n\nTrân trọng,\n{author.name}\n{author.organisation}"

    def thread(self, plan: Plan, people: list[Author], now: datetime, may_hold: bool) -> list[dict[str, Any]]:
        """A thread's posts, oldest first; a reply answers the post before it, the first post or any other."""
        rng, subject, at, posts = self.rng, self.subject(), plan.start, []
        for n in range(plan.size):
            parent = self.parent_among(posts)
            author = people[int(len(people) * rng.random() ** 2.5)]  # a few people write much of it
            held = may_hold and parent is not None and rng.random() < 0.005
            posts.append(self.post(plan, n, subject, parent, author, at, held))
            at = min(at + timedelta(seconds=rng.expovariate(1 / plan.gap_seconds)), now)
        return posts

    def parent_among(self, posts: list[dict[str, Any]]) -> dict[str, Any] | None:
        """None for the first post; then mostly the post before, often the first, sometimes any."""
        roll = self.rng.random()
        if not posts:
            return None
        return posts[-1] if roll < 0.6 else posts[0] if roll < 0.85 else self.rng.choice(posts)

    def post(
        self,
        plan: Plan,
        n: int,
        subject: str,
        parent: dict[str, Any] | None,
        author: Author,
        at: datetime,
        held: bool,
    ) -> dict[str, Any]:
        rng, body = self.rng, self.body(author)
        if parent is not None:
            subject = rng.choice(("Re: ", "Re: ", "RE: ", "Trả lời: ")) + subject
        quoted = ""
        if parent is not None and rng.random() < 0.6:
            lead = parent["text"].split("\n\n")[1][:200]
            when = f"{parent['created_at']:%H:%M ngày %d/%m/%Y}"
            quoted = f"Vào lúc {when}, {parent['author_name']} đã viết:\n> {lead}"
        return {
            "group_id": plan.group_id,
            "thread_id": plan.id,
            "parent": parent,
            "parent_message_id": parent["message_id"] if parent else None,
            "message_id": f"<{plan.id}.{n}.{rng.getrandbits(40):010x}@{author.domain}>",
            "inbound_id": None,
            "author_id": author.id,
            "author_name": author.name,
            "subject": subject,
            "text": body,
            "quoted": quoted,
            "html": None,
            "search_text": search_text(subject, body),
            "sent_at": at - timedelta(seconds=rng.randint(5, 900)),
            "created_at": at,
            "state": PostState.HELD if held else PostState.VISIBLE,
            "state_reason": "người gửi chưa là thành viên nhóm (sender is not a member)" if held else None,
        }


# The fill


def add_groups(session: Any) -> list[Group]:
    """The eleven standard groups, and 39 more: one per school subject and one per common topic."""
    ministry = seeding.ensure_ministry(session, "bench@nhomthu.test")
    groups = seeding.ensure_standard_groups(session, ministry)
    names = [f"Giáo viên {subject}" for subject in SUBJECTS] + [t[0].upper() + t[1:] for t in TOPICS]
    for name in names[: 50 - len(groups)]:
        slug = "-".join(words(name))[:57]
        group = Group(
            slug=slug,
            name_vi=name,
            registration_local=f"dangky-{slug}",
            owner=ministry,
            post_policy=PostPolicy.MEMBERS,
        )
        session.add(group)
        groups.append(group)
    session.flush()
    return groups


def add_people(connection: Connection, corpus: Corpus, now: datetime) -> list[Author]:
    """Sở, Phòng and schools in every province, and 20,000 people working in them."""
    rng, first = corpus.rng, (connection.scalar(select(func.max(Organisation.id))) or 0) + 1
    organisations: list[dict[str, Any]] = []
    for province in PROVINCES:
        office = {
            "id": first + len(organisations),
            "name": f"Sở GD&ĐT {province}",
            "kind": OrganisationKind.PROVINCE,
        }
        organisations.append(office)
        for _ in range(20):
            kind = OrganisationKind.SCHOOL if rng.random() < 0.8 else OrganisationKind.DISTRICT
            name = (
                f"Trường {rng.choice(LEVELS)} {rng.choice(NAMESAKES)}"
                if kind == OrganisationKind.SCHOOL
                else f"Phòng GD&ĐT {rng.choice(DISTRICTS)}"
            )
            organisations.append(
                {
                    "id": first + len(organisations),
                    "name": f"{name}, {province}",
                    "kind": kind,
                    "parent_id": office["id"],
                }
            )
    rows = [{"parent_id": None, "public_email": None, "created_at": now - SPAN} | o for o in organisations]
    connection.execute(insert(Organisation.__table__), rows)
    people, rows, first = [], [], (connection.scalar(select(func.max(Person.id))) or 0) + 1
    for number in range(first, first + PEOPLE):
        organisation = rng.choice(organisations)
        place = "".join(words(organisation["name"].split(", ")[-1]))
        person = Author(number, corpus.name(), f"{place}.edu.vn", organisation["name"])
        people.append(person)
        rows.append(
            {
                "id": number,
                "email": f"{''.join(words(person.name))}{number}@{person.domain}",
                "name": person.name,
                "organisation_id": organisation["id"],
                "position": None,
                "locale": "vi",
                "created_at": now - SPAN * rng.random(),
            }
        )
    connection.execute(insert(Person.__table__), rows)
    return people


def add_memberships(
    connection: Connection, rng: random.Random, people: list[Author], group_ids: list[int], now: datetime
) -> None:
    rows = []
    for person in people:
        for group_id in rng.sample(group_ids, 1 + (rng.random() < 0.3) + (rng.random() < 0.1)):
            state = rng.choices(list(MembershipState)[:3], weights=(3, 92, 5))[0]  # pending, active, left
            at = now - SPAN * rng.random()
            rows.append(
                {
                    "person_id": person.id,
                    "group_id": group_id,
                    "state": state,
                    "source": MembershipSource.IMPORT,
                    "unsubscribe_nonce": f"{rng.getrandbits(64):016x}",
                    "requested_at": at,
                    "confirmed_at": None if state == MembershipState.PENDING else at,
                    "left_at": now if state == MembershipState.LEFT else None,
                    "updated_at": at,
                }
            )
    connection.execute(insert(Membership.__table__), rows)


def plan_threads(
    rng: random.Random, posts: int, groups: list[Group], now: datetime
) -> tuple[list[Plan], int]:
    """N/10 threads of skewed sizes over skewed groups, started over three years; the one of exactly 200
    posts in group thpt, started 90 days ago, its posts spread over some 60 days."""
    count = posts // 10
    weights = [min(rng.paretovariate(1.6), 60.0) for _ in range(count - 1)]
    spare, total = posts - MEASURED - (count - 1), sum(weights)
    sizes = [1 + int(spare * w / total) for w in weights]
    for i in rng.sample(range(count - 1), posts - MEASURED - sum(sizes)):
        sizes[i] += 1
    starts = sorted(now - SPAN * rng.random() for _ in range(count))
    measured = bisect.bisect(starts, now - timedelta(days=90))
    sizes.insert(measured, MEASURED)
    owners = rng.choices(
        [g.id for g in groups], weights=[1 / (n + 1) ** 0.7 for n in range(len(groups))], k=count
    )
    owners[measured] = next(g.id for g in groups if g.slug == "thpt")
    gaps = [6 * 3600.0] * count
    gaps[measured] = 60 * 86400 / MEASURED
    first = 1
    return [Plan(first + n, owners[n], starts[n], sizes[n], gaps[n]) for n in range(count)], first + measured


def chunk_rows(
    corpus: Corpus, plans: list[Plan], people: list[Author], first_post: int, measured: int, now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Threads and their posts; posts are numbered in the order they arrived, as the gateway numbers them."""
    threads, posts = [], []
    for plan in plans:
        drafted = corpus.thread(plan, people, now, may_hold=plan.id != measured)
        visible = [p["created_at"] for p in drafted if p["state"] == PostState.VISIBLE]
        threads.append(
            {
                "id": plan.id,
                "group_id": plan.group_id,
                "subject": drafted[0]["subject"],
                "subject_key": subject_key(drafted[0]["subject"]),
                "started_at": drafted[0]["created_at"],
                "last_post_at": max(visible),
                "post_count": len(visible),
            }
        )
        posts += drafted
    posts.sort(key=lambda p: p["created_at"])  # stable: a parent stays before its replies
    for number, post in enumerate(posts, first_post):
        post["id"] = number
    for post in posts:
        parent = post.pop("parent")
        post["parent_id"] = parent["id"] if parent else None
    return threads, posts


def write_posts(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """COPY on PostgreSQL, executemany on SQLite (where the trigger fills the FTS5 table)."""
    if connection.dialect.name != "postgresql":
        connection.execute(insert(Post.__table__), rows)
        return
    with connection.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
        with cursor.copy(f"COPY post ({', '.join(POST_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_as_stored(row[column]) for column in POST_COLUMNS])


def _as_stored(value: Any) -> Any:
    """What UtcDateTime and the enum columns store: naive UTC datetimes, the enum's value."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return value.value if isinstance(value, PostState) else value


def add_threads(
    connection: Connection,
    corpus: Corpus,
    people: list[Author],
    groups: list[Group],
    posts: int,
    now: datetime,
) -> tuple[int, int]:
    plans, measured = plan_threads(corpus.rng, posts, groups, now)
    written = 0
    for start in range(0, len(plans), CHUNK):
        threads, rows = chunk_rows(corpus, plans[start : start + CHUNK], people, written + 1, measured, now)
        connection.execute(insert(Thread.__table__), threads)
        write_posts(connection, rows)
        if (written + len(rows)) // COMMIT_EVERY > written // COMMIT_EVERY:
            connection.commit()
        written += len(rows)
    connection.commit()
    return len(plans), measured


@contextmanager
def fast_writes(connection: Connection) -> Iterator[None]:
    """No waiting for the disk, during the fill only: SQLite's synchronous=OFF, PostgreSQL's async commit."""
    sqlite = connection.dialect.name == "sqlite"
    before = connection.exec_driver_sql("PRAGMA synchronous").scalar() if sqlite else None
    connection.exec_driver_sql("PRAGMA synchronous=OFF" if sqlite else "SET synchronous_commit = off")
    connection.commit()
    try:
        yield
    finally:
        connection.rollback()
        connection.exec_driver_sql(f"PRAGMA synchronous={before}" if sqlite else "RESET synchronous_commit")
        connection.commit()


def settle(connection: Connection) -> None:
    """Statistics and tidy indexes, as a database that has lived a while has them."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("INSERT INTO post_fts(post_fts) VALUES('optimize')")
        connection.commit()
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.commit()
        return
    for table in ("organisation", "person", "membership", "thread", "post"):
        connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
    connection.commit()
    # VACUUM as autovacuum soon would after a million inserts (it also empties the GIN index's pending list),
    # so that it does not run during the measurements; with ANALYZE.
    connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM (ANALYZE)")


def fill(app: Flask, posts: int, rng: random.Random) -> dict[str, Any]:
    with app.app_context():
        upgrade()
        if db.session.scalar(select(func.count(Post.id))) or db.session.scalar(select(func.count(Group.id))):
            raise SystemExit("bench/forum.py needs a fresh database: this one has groups or posts")
        started, now, corpus = time.perf_counter(), utcnow(), Corpus(rng)
        groups = add_groups(db.session)
        db.session.commit()
        with db.engine.connect() as connection:
            with fast_writes(connection):
                people = add_people(connection, corpus, now)
                add_memberships(connection, rng, people, [g.id for g in groups], now)
                threads, measured = add_threads(connection, corpus, people, groups, posts, now)
            settle(connection)
        seconds = time.perf_counter() - started
        shown = db.session.get(Thread, measured)
        assert shown is not None and shown.post_count == MEASURED
        slugs = [g.slug for g in groups]
    print(f"filled {posts:,} posts in {threads:,} threads in {seconds:.1f} s", file=sys.stderr)
    return {"threads": threads, "thread_id": measured, "slugs": slugs, "seconds": seconds}


def filled_before(app: Flask) -> dict[str, Any]:
    """What `fill` returned, read back from a database an earlier run kept (--keep, then --reuse)."""
    with app.app_context():
        upgrade()
        measured = db.session.scalar(select(Thread.id).where(Thread.post_count == MEASURED).limit(1))
        if measured is None:
            raise SystemExit("--reuse: this database was not filled by bench/forum.py")
        slugs = list(db.session.scalars(select(Group.slug).order_by(Group.id)))
        threads = db.session.scalar(select(func.count(Thread.id)))
    return {"threads": threads, "thread_id": measured, "slugs": slugs, "seconds": None}


# The measurements


def pages(slugs: list[str], thread_id: int) -> dict[str, Callable[[random.Random], str]]:
    return {
        "group": lambda rng: f"/nhom/{rng.choice(slugs)}",
        "thread": lambda rng: f"/chu-de/{thread_id}",
        "search": lambda rng: "/tim-kiem?" + urlencode({"q": rng.choice(QUERIES)}),
        "health": lambda rng: "/health",
    }


def check(status: int, path: str) -> None:
    if status != 200:
        raise SystemExit(f"GET {path}: {status}, not 200")


class StatementCount:
    """The SQL statements sent for each kind of page, counted as SQLAlchemy sends them."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.kind, self.counts = engine, "", Counter[str]()

    def __enter__(self) -> StatementCount:
        event.listen(self.engine, "before_cursor_execute", self.count)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self.count)

    def count(self, *_: object) -> None:
        self.counts[self.kind] += 1


def latencies(app: Flask, urls: dict[str, Callable[[random.Random], str]]) -> dict[str, dict[str, float]]:
    """p50 and p95 through the WSGI app: 200 requests of each kind, interleaved so noise falls on all alike,
    or fewer for a kind that has taken BUDGET seconds (a page that takes seconds would take hours)."""
    client, rng = app.test_client(), random.Random(7)
    times: dict[str, list[float]] = {kind: [] for kind in urls}
    spent: Counter[str] = Counter()
    with app.app_context():  # only to reach the engine: each request pushes its own context
        engine = db.engine
    with StatementCount(engine) as statements:
        for n in range(WARMUP + ROUNDS):
            for kind, url in urls.items():
                if spent[kind] > BUDGET and len(times[kind]) >= 5:
                    continue
                path, statements.kind = url(rng), kind if n >= WARMUP else ""
                start = time.perf_counter()
                check(client.get(path).status_code, path)
                elapsed = time.perf_counter() - start
                spent[kind] += elapsed
                if n >= WARMUP:
                    times[kind].append(elapsed * 1000)
    return {
        kind: _percentiles(values)
        | {"requests": len(values), "queries_per_request": round(statements.counts[kind] / len(values), 1)}
        for kind, values in times.items()
    }


def _percentiles(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50_ms": round(cuts[49], 2), "p95_ms": round(cuts[94], 2)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def gunicorn(env: dict[str, str], log: Path) -> Iterator[int]:
    """The Procfile's web process, 2 workers on a free loopback port; stopped with SIGTERM (graceful)."""
    port = free_port()
    options = f"-m gunicorn -w 2 -b 127.0.0.1:{port}".split()
    command = [sys.executable, *options, "wiring:create_web_app()"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            _wait_for_health(port, process, log)
            yield port
        except BaseException:
            sys.stderr.write(f"gunicorn's log:\n{log.read_text(errors='replace')[-5000:]}\n")
            raise
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for_health(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped:\n{log.read_text(errors='replace')}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        finally:
            connection.close()
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer /health within 60 s:\n{log.read_text(errors='replace')}")


def requests_per_second(port: int, url: Callable[[random.Random], str], seconds: float) -> tuple[float, int]:
    """Answers of 200 per second from CLIENTS clients for `seconds`, and the number of other outcomes."""
    start = time.perf_counter()
    deadline = start + seconds
    with ThreadPoolExecutor(CLIENTS) as pool:
        outcomes = list(pool.map(lambda seed: _client(port, url, deadline, seed), range(CLIENTS)))
    return sum(ok for ok, _ in outcomes) / (time.perf_counter() - start), sum(bad for _, bad in outcomes)


def _client(port: int, url: Callable[[random.Random], str], deadline: float, seed: int) -> tuple[int, int]:
    """One HTTP/1.1 client (gunicorn's sync workers close each connection; http.client reconnects).
    An answer other than 200, or a dropped connection (a worker killed at gunicorn's 30 s timeout),
    counts as failed."""
    rng, ok, failed = random.Random(seed), 0, 0
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        while time.perf_counter() < deadline:
            try:
                connection.request("GET", url(rng))
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                failed += 1
                continue
            ok, failed = (ok + 1, failed) if response.status == 200 else (ok, failed + 1)
    finally:
        connection.close()
    return ok, failed


def throughput(
    env: dict[str, str], urls: dict[str, Callable[[random.Random], str]], log: Path
) -> dict[str, tuple[float, int]]:
    with gunicorn(env, log) as port:
        for url in urls.values():  # each worker compiles its templates and fills its caches
            requests_per_second(port, url, 1.0)
        return {kind: requests_per_second(port, url, SECONDS) for kind, url in urls.items()}


def report(
    database: str,
    posts: int,
    filled: dict[str, Any],
    timing: dict[str, dict[str, float]],
    served: dict[str, tuple[float, int]],
) -> dict[str, Any]:
    rates = {kind: rate for kind, (rate, _) in served.items()}
    result: dict[str, Any] = {
        "database": database,
        "posts": posts,
        "threads": filled["threads"],
        "groups": len(filled["slugs"]),
        "fill_seconds": round(filled["seconds"], 1) if filled["seconds"] is not None else None,
    }
    for kind in ("group", "thread", "search", "health"):
        figures = timing[kind] | {"rps_gunicorn": round(rates[kind], 1), "failed_gunicorn": served[kind][1]}
        if kind in TARGETS_MS:
            figures |= {
                "p50_vs_health": round(figures["p50_ms"] / timing["health"]["p50_ms"], 1),
                "p95_vs_health": round(figures["p95_ms"] / timing["health"]["p95_ms"], 1),
                "rps_vs_health": round(rates[kind] / rates["health"], 3),
                "p95_target_ms": TARGETS_MS[kind],
                "meets_target": figures["p95_ms"] <= TARGETS_MS[kind],
            }
        result[kind] = figures
    return result


# PostgreSQL: a database of our own


def admin_url(url: str) -> str:
    return (
        make_url(url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    )


def create_database(url: str) -> bool:
    """Create the database the URL names when it does not exist; True when created here."""
    name = make_url(url).database
    with psycopg.connect(admin_url(url), autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True


def drop_database(url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(admin_url(url), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--posts", type=int, default=1_000_000)
    options.add_argument("--database-url", default="")
    options.add_argument("--keep", action="store_true", help="keep the PostgreSQL database it created")
    options.add_argument("--reuse", action="store_true", help="measure a database kept by --keep, unfilled")
    args = options.parse_args()
    if args.posts < 1000:
        raise SystemExit("--posts: at least 1000")
    work = Path(tempfile.mkdtemp(prefix="nhomthu-forum-"))
    url = args.database_url or f"sqlite:///{work / 'forum.db'}"
    created = url.startswith("postgresql") and create_database(url)
    settings = {
        "DATA_DIR": str(work),
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-secret-key-0123456789",
        "LOG_LEVEL": "ERROR",
    }
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ} | settings
    app = create_app(load_settings(settings))
    try:
        reusing = args.reuse and not created
        filled = filled_before(app) if reusing else fill(app, args.posts, random.Random(60))
        urls = pages(filled["slugs"], filled["thread_id"])
        gc.collect()
        gc.freeze()  # as wiring.create_web_app does in each gunicorn worker, once the app is built
        timing = latencies(app, urls)
        served = throughput(env, urls, work / "gunicorn.log")
        database = "postgresql" if url.startswith("postgresql") else "sqlite"
        print(json.dumps(report(database, args.posts, filled, timing, served)))
    finally:
        with app.app_context():
            db.engine.dispose()
        if created and not args.keep:
            drop_database(url)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
