"""Expected failures, as data (design principle 6)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    DUPLICATE = "DUPLICATE"
    FORBIDDEN = "FORBIDDEN"
    TIER_LIMIT_REACHED = "TIER_LIMIT_REACHED"
    TOO_MANY = "TOO_MANY"
    CONFLICT = "CONFLICT"
    CONFIRMATION_MISMATCH = "CONFIRMATION_MISMATCH"


@dataclass(frozen=True)
class UserError:
    """One problem with a caller's input; `field` is the path to the input field at fault."""

    code: ErrorCode
    message: str
    field: tuple[str, ...] = ()


class DomainError(Exception):
    """A request the rules refuse; nothing has been changed when it is raised."""

    def __init__(self, *errors: UserError) -> None:
        super().__init__("; ".join(error.message for error in errors))
        self.errors: tuple[UserError, ...] = errors


def refuse(code: ErrorCode, message: str, *field: str) -> DomainError:
    """Build the error for a single refused field: `raise refuse(ErrorCode.INVALID, ...)`."""
    return DomainError(UserError(code=code, message=message, field=field))


#: ids a caller names (a form's, an integration's, an idempotency key) are short
MAX_ID_LENGTH = 200


def check_length(value: str | None, limit: int, *field: str) -> None:
    """Free text a client sends is bounded: past `limit` characters it is INVALID."""
    if value is not None and len(value) > limit:
        raise refuse(ErrorCode.INVALID, f"{field[-1]} has at most {limit} characters", *field)
