"""Drafts split into their provisions (text, DOCX, PDF), and replies read as comments on them."""

from __future__ import annotations

import pytest

from models.services.anchoring import Passage, read_reply, segments
from models.services.documents import draft_text
from models.services.provisions import split_provisions
from tests.drafts import LIBREOFFICE, docx_draft, draft, to_pdf


def citations(text: str) -> list[str]:
    return [piece.citation.text for piece in split_provisions(text).pieces]


def test_a_circular_is_split_into_chapters_sections_articles_clauses_and_points():
    split = split_provisions(draft("danh_gia_hoc_sinh_v1"))
    by_citation = {piece.citation.text: piece for piece in split.pieces}
    assert split.preamble.startswith("BỘ GIÁO DỤC VÀ ĐÀO TẠO") and "Căn cứ Luật Giáo dục" in split.preamble
    assert by_citation["Chương II"].heading == "ĐÁNH GIÁ KẾT QUẢ RÈN LUYỆN VÀ HỌC TẬP"
    assert by_citation["Mục 1 Chương II"].heading == "ĐÁNH GIÁ KẾT QUẢ RÈN LUYỆN"
    assert by_citation["Điều 5a"].heading.startswith("Đánh giá học sinh học chương trình")
    point = by_citation["điểm đ khoản 2 Điều 5"]
    assert point.anchor == "dieu-5-khoan-2-diem-dd" and point.label == "đ)"
    assert by_citation["điểm d khoản 2 Điều 5"].anchor == "dieu-5-khoan-2-diem-d", "đ and d stay two points"
    assert split.pieces[point.parent].citation.text == "khoản 2 Điều 5"
    assert "điểm e khoản 2 Điều 5" in by_citation and "khoản 3 Điều 5" in by_citation
    assert by_citation["khoản 2 Điều 10"].text == "Thông tư này thay thế Thông tư số 22/2021/TT-BGDĐT."
    assert not any("Nơi nhận" in piece.text or "BỘ TRƯỞNG" in piece.text for piece in split.pieces)
    kinds = [piece.kind.value for piece in split.pieces]
    assert (kinds.count("chuong"), kinds.count("muc"), kinds.count("dieu")) == (3, 2, 11)


def test_subsections_and_inserted_articles():
    found = citations(draft("thu_dien_tu"))
    assert "Tiểu mục 2 Mục 2 Chương II" in found and "khoản 2 Điều 3a" in found
    assert found.index("khoản 3 Điều 3") < found.index("Điều 3a") < found.index("Mục 2 Chương II")


def test_a_docx_draft_splits_like_its_text():
    assert citations(draft_text("du-thao.docx", docx_draft("thu_dien_tu"))) == citations(draft("thu_dien_tu"))


@pytest.mark.skipif(LIBREOFFICE is None, reason="needs libreoffice-writer (make system-packages)")
def test_a_pdf_draft_splits_like_its_text(tmp_path):
    source = tmp_path / "du-thao.docx"
    source.write_bytes(docx_draft("thu_dien_tu"))
    pdf = to_pdf(source)
    assert citations(draft_text(pdf.name, pdf.read_bytes())) == citations(draft("thu_dien_tu"))


PASSAGES = [
    Passage(piece.citation.text, f"{piece.heading} {piece.text}".strip())
    for piece in split_provisions(draft("danh_gia_hoc_sinh_v1")).pieces
]


def test_a_reply_with_numbered_comments_is_one_comment_per_provision():
    reply = (
        "Kính gửi Vụ Giáo dục Trung học,\n"
        "Sở GD&ĐT Hà Nội góp ý dự thảo như sau:\n\n"
        "1. Tại điểm a khoản 2 Điều 5, đề nghị làm rõ thế nào là biểu hiện nổi bật.\n"
        "2. Điều 8, khoản 2: thời gian 90 phút là quá dài đối với trung học cơ sở.\n"
        "3. Đề nghị bổ sung quy định chuyển tiếp cho năm học 2026-2027, vì nhiều trường chưa kịp tập huấn "
        "giáo viên về cách đánh giá mới; việc áp dụng ngay từ đầu năm học sẽ gây khó khăn cho các trường.\n\n"
        "Trân trọng.\nNguyễn Văn A\nPhòng GDTrH"
    )
    readings = read_reply(reply, PASSAGES)
    assert [(r.citation, r.is_sure) for r in readings] == [
        ("điểm a khoản 2 Điều 5", True),
        ("khoản 2 Điều 8", True),
        ("", True),
    ], "the greeting and the signature are not comments; the third is a general one"
    assert readings[1].text.startswith("2. Điều 8, khoản 2")


def test_comments_under_an_article_heading_take_that_article():
    reply = "Góp ý Điều 7:\n- khoản 1: bổ sung hình thức trắc nghiệm.\n- điểm c khoản 2: nên là 05 điểm."
    assert [(r.citation, r.is_sure) for r in read_reply(reply, PASSAGES)] == [
        ("khoản 1 Điều 7", True),
        ("điểm c khoản 2 Điều 7", True),
    ]


def test_a_quoted_passage_anchors_a_comment_that_cites_nothing():
    reply = 'Đề nghị sửa câu "chưa đáp ứng được yêu cầu cần đạt về phẩm chất" cho nhẹ nhàng hơn.'
    [reading] = read_reply(reply, PASSAGES)
    assert reading.citation == "điểm d khoản 2 Điều 5" and reading.is_sure and reading.cited == ""


def test_unsure_readings_wait_for_the_drafting_unit():
    [clause_alone] = read_reply("Đề nghị bỏ khoản 3 vì trùng lặp.", PASSAGES)
    assert clause_alone.cited == "khoản 3" and not clause_alone.is_sure
    [missing] = read_reply("Điểm g khoản 2 Điều 5 cần bỏ.", PASSAGES)
    assert missing.citation == "khoản 2 Điều 5" and not missing.is_sure, "the nearest provision that exists"
    [nowhere] = read_reply("Điều 40 không có trong dự thảo.", PASSAGES)
    assert nowhere.citation == "" and not nowhere.is_sure


def test_segments_are_the_numbered_items():
    assert segments("Ý kiến:\n1. Một.\n2. Hai.\n\nTrân trọng,\nAn") == ["Ý kiến:", "1. Một.", "2. Hai."]
