"""Citations in comments, read as the drafting unit would: every form of the issue, and the fixture set."""

from __future__ import annotations

import pytest

from mailgate.summary import summarise
from models.services.citations import find_provisions
from tests.drafts import citation_cases
from tests.factories import make_mail

CASES = citation_cases()


@pytest.mark.parametrize(("sentence", "expected"), CASES, ids=[s[:40] for s, _ in CASES])
def test_citation_is_read_canonically(sentence, expected):
    assert find_provisions(sentence) == expected


def test_the_issue_forms_name_the_same_provision():
    assert find_provisions("điểm a khoản 2 Điều 5") == find_provisions("Điều 5, khoản 2, điểm a")
    assert find_provisions("Đ5 K2") == ["khoản 2 Điều 5"]
    assert find_provisions("khoản 3 Điều 12") == find_provisions("Tại Điều 12, đề nghị bỏ khoản 3")


def test_smallest_first_then_in_the_drafts_order():
    text = "Điều 9 nên bỏ; khoản 1 Điều 7 sửa lại; điểm a khoản 2 Điều 5 viết rõ."
    assert find_provisions(text) == ["điểm a khoản 2 Điều 5", "khoản 1 Điều 7", "Điều 9"]


def test_accuracy_on_the_fixture_set(capsys):
    right = sum(find_provisions(sentence) == expected for sentence, expected in CASES)
    with capsys.disabled():
        print(f"\ncitation anchoring: {right}/{len(CASES)} sentences exactly right")
    assert right == len(CASES)


def test_mail_parse_lists_the_provisions_of_what_the_person_wrote():
    body = (
        "Kính gửi Vụ GDTrH,\n\n1. Tại khoản 2 Điều 5, đề nghị sửa điểm a.\n2. Bỏ khoản 1 Điều 7.\n\n"
        "Trân trọng.\n\n> Điều 9. Trách nhiệm của sở (quoted, not cited)\n"
    )
    summary = summarise(make_mail("so@hanoi.edu.vn", "so@nhomthu.test", "Re: Dự thảo", body), "nhomthu.test")
    assert summary["provisions"] == ["điểm a khoản 2 Điều 5", "khoản 1 Điều 7"]
