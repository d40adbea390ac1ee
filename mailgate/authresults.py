"""Authentication-Results header fields read as RFC 8601 writes them, not searched with a pattern.

    Authentication-Results: mx.example; dkim=pass header.d=so.edu.vn;
        dmarc=pass (p=reject) header.from=so.edu.vn

An authserv-id, then resinfo clauses separated by ";": a method, "=", a result, an optional
"reason=", then ptype.property=value pairs. Comments in parentheses and quoted strings are values,
never clauses: a `smtp.mailfrom="dmarc=pass header.from=x"` proves nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_SPECIALS = ";="


@dataclass(frozen=True)
class MethodResult:
    method: str  # lower case: "dkim", "spf", "dmarc", …
    result: str  # lower case: "pass", "fail", …
    properties: dict[str, str] = field(default_factory=dict)  # "header.from" → value (as written)


@dataclass(frozen=True)
class AuthResults:
    authserv_id: str
    results: tuple[MethodResult, ...]

    def passed(self, method: str, prop: str, value: str) -> bool:
        """Whether `method` passed for this property value (compared without case)."""
        return any(
            found.method == method
            and found.result == "pass"
            and found.properties.get(prop, "").lower() == value.lower()
            for found in self.results
        )


def parse_auth_results(value: str) -> AuthResults | None:
    """The header field's meaning, or None when it is not one (no authserv-id)."""
    clauses = _clauses(_tokens(value))
    if not clauses or not clauses[0]:
        return None
    authserv_id = clauses[0][0].lower()
    results = tuple(result for clause in clauses[1:] if (result := _method_result(clause)))
    return AuthResults(authserv_id, results)


def _tokens(value: str) -> list[str]:
    """Words, quoted strings (unquoted) and the specials ";" and "=", with comments dropped."""
    tokens: list[str] = []
    word: list[str] = []
    depth, quoted, escaped = 0, False, False
    for char in value:
        if escaped:
            word.append(char)
            escaped = False
        elif char == "\\" and (quoted or depth):
            escaped = True
        elif quoted:
            if char == '"':
                quoted = False
                tokens.append("".join(word))
                word = []
            else:
                word.append(char)
        elif depth:
            depth += {"(": 1, ")": -1}.get(char, 0)
        elif char in '"(' or char in _SPECIALS or char.isspace():
            if word:
                tokens.append("".join(word))
                word = []
            quoted = char == '"'
            depth = 1 if char == "(" else 0
            if char in _SPECIALS:
                tokens.append(char)
        else:
            word.append(char)
    if word and not quoted and not depth:
        tokens.append("".join(word))
    return tokens


def _clauses(tokens: list[str]) -> list[list[str]]:
    clauses: list[list[str]] = [[]]
    for token in tokens:
        if token == ";":
            clauses.append([])
        else:
            clauses[-1].append(token)
    return clauses


def _method_result(clause: list[str]) -> MethodResult | None:
    """`method = result [reason = value] ptype.prop = value …`; None for anything else."""
    if len(clause) < 3 or clause[1] != "=" or "=" in (clause[0], clause[2]):
        return None
    method = clause[0].lower().split("/", 1)[0]  # "dkim/1": a method version
    properties: dict[str, str] = {}
    rest = clause[3:]
    for at in range(0, len(rest) - 2, 3):
        name, equals, value = rest[at : at + 3]
        if equals != "=":
            return None
        properties[name.lower()] = value
    return MethodResult(method, clause[2].lower(), properties)
