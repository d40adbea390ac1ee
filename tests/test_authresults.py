"""Authentication-Results read as RFC 8601 writes them: clauses, not a pattern over the whole field."""

from mailgate.authresults import parse_auth_results


def test_a_field_with_several_methods():
    found = parse_auth_results(
        "mx.nhomthu.test 1; spf=pass smtp.mailfrom=so.edu.vn;\r\n dkim=pass (2048-bit key)"
        " header.d=so.edu.vn header.s=mail; dmarc=pass (p=reject dis=none) header.from=So.Edu.VN"
    )
    assert found is not None and found.authserv_id == "mx.nhomthu.test"
    assert [r.method for r in found.results] == ["spf", "dkim", "dmarc"]
    assert found.passed("dmarc", "header.from", "so.edu.vn")
    assert found.results[1].properties == {"header.d": "so.edu.vn", "header.s": "mail"}


def test_a_pass_inside_a_quoted_value_or_a_comment_is_only_a_value():
    value = (
        'mx.nhomthu.test; dmarc=fail header.from=so.edu.vn; spf=pass smtp.mailfrom="a;dmarc=pass'
        ' header.from=so.edu.vn" (dmarc=pass header.from=so.edu.vn; x)'
    )
    found = parse_auth_results(value)
    assert found is not None and not found.passed("dmarc", "header.from", "so.edu.vn")
    assert [r.method for r in found.results] == ["dmarc", "spf"]


def test_none_and_nonsense():
    assert parse_auth_results("mx.nhomthu.test; none").results == ()
    assert parse_auth_results("") is None
    assert parse_auth_results("mx; dmarc pass").results == ()
