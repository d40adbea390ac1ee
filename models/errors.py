"""Domain errors. The edge (an email reply, a page, a bot message) turns each into words for the user."""


class DomainError(Exception):
    """Something the user asked for that the rules do not allow; `code` names it for the edge."""

    code = "domain_error"


class UnknownGroup(DomainError):
    code = "unknown_group"


class TokenInvalid(DomainError):
    code = "token_unknown"


class TokenExpired(TokenInvalid):
    code = "token_expired"


class TokenUsed(TokenInvalid):
    code = "token_used"


class NotAMember(DomainError):
    code = "not_member"


class InvalidAddress(DomainError):
    code = "invalid_address"
