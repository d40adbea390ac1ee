"""LOG_FORMAT=json: one JSON object per line, Vietnamese kept readable, extra fields and errors included."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from wiring import ConfigError, load_settings
from wiring.logs import JsonFormatter


def test_a_log_line_is_one_json_object_with_its_fields():
    record = logging.LogRecord("nhomthu", logging.WARNING, __file__, 1, "nhóm %s: %d thư", ("thpt", 3), None)
    record.job = "remind_due"

    line = json.loads(JsonFormatter().format(record))

    assert line["message"] == "nhóm thpt: 3 thư" and line["level"] == "WARNING"
    assert line["logger"] == "nhomthu" and line["job"] == "remind_due" and "time" in line


def test_an_exception_is_kept_in_the_line():
    try:
        raise RuntimeError("máy chủ thư không trả lời")
    except RuntimeError:
        record = logging.LogRecord("nhomthu", logging.ERROR, __file__, 1, "lỗi", (), sys.exc_info())
    line = json.loads(JsonFormatter().format(record))
    assert "máy chủ thư không trả lời" in line["exception"]


def test_an_unknown_log_format_stops_the_process_at_start(tmp_path):
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        load_settings({"DATA_DIR": str(tmp_path), "LOG_FORMAT": "xml"})
