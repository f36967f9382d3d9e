"""Errors as clients see them: userErrors in payloads, or GraphQL errors with a code.

Unexpected errors are masked: the client gets "Unexpected error." and a request id, the log
gets the traceback under the same id (design principle 6). A database or event feed that is
away is no mystery: UNAVAILABLE, retry shortly.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError

from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.errors import UserError as DomainUserError
from marketing_contacts.schema.context import Info
from marketing_contacts.schema.limits import MAX_TOKENS, too_complex
from marketing_contacts.services.subscriptions import FeedUnavailable

T = TypeVar("T")
log = logging.getLogger(__name__)
DATABASE_UNAVAILABLE = "the database is unavailable right now; retry shortly"
UNEXPECTED_ERROR = "Unexpected error."
# graphql-core's own words when the parser stops at MaxTokensLimiter's bound (a parse option, so
# no extension sees it fail): matched exactly, built from our bound, to give it the shape of the
# other limits.
TOKEN_LIMIT_REACHED = (
    f"Syntax Error: Document contains more than {MAX_TOKENS} tokens. Parsing aborted."
)
#: how graphql-core ends a message that suggests names (its did_you_mean): from here to the end
SUGGESTION = re.compile(r" ?Did you mean .*\?$", re.DOTALL)


@strawberry.type(
    description="An expected failure: its code, what went wrong and the input field at fault. "
    "In a payload, the mutation applied nothing it was asked for; in a bulk operation's errors, "
    "it accounts for contacts the operation left unchanged."
)
class UserError:
    field: list[str] = strawberry.field(
        description='Path to the input field at fault, e.g. ["input", "email"]; empty when no '
        "field is at fault."
    )
    code: ErrorCode = strawberry.field(description="What kind of failure it is.")
    message: str = strawberry.field(description="What went wrong, for a person to read.")

    @classmethod
    def of(cls, error: DomainUserError, info: Info | None = None) -> UserError:
        return cls(field=field_path(error.field, info), code=error.code, message=error.message)


def user_errors(errors: Sequence[DomainUserError], info: Info | None = None) -> list[UserError]:
    return [UserError.of(error, info) for error in errors]


async def attempt(info: Info, call: Awaitable[T]) -> T | list[UserError]:
    """The call's result, or the userErrors of the rules it broke, at their GraphQL paths."""
    try:
        return await call
    except DomainError as error:
        return user_errors(error.errors, info)


def field_path(field: Sequence[str], info: Info | None = None) -> list[str]:
    """Where the domain's field is in the request: the rules name what is at fault in their own
    words (`("selection", "list_id")`), the schema says where it was sent. Each name is the
    field's camelCase name; a path that does not start with one of the resolved field's own
    arguments (`id` of `updateContact`) is inside its `input` argument, when it has one."""
    path = [_camel(name) for name in field]
    if (
        info is not None
        and field
        and info.get_argument_definition(field[0]) is None
        and info.get_argument_definition("input") is not None
    ):
        path.insert(0, "input")
    return path


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


#: whether an exception means the database did not answer (the storage adapter knows its
#: driver's exceptions; the composition root passes its test to the schema)
Unavailable = Callable[[BaseException], bool]


def client_error(error: GraphQLError, unavailable: Unavailable) -> GraphQLError:
    """The error as the client may see it."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return request_error(error)
    if isinstance(original, FeedUnavailable) or unavailable(original):
        return GraphQLError(
            str(original) if isinstance(original, FeedUnavailable) else DATABASE_UNAVAILABLE,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "UNAVAILABLE"},
        )
    if isinstance(original, DomainError):
        first = original.errors[0]
        return GraphQLError(
            str(original),
            nodes=error.nodes,
            path=error.path,
            extensions={"code": first.code.value, "field": field_path(first.field)},
        )
    request_id = logged_request_id(original, error.path)
    return GraphQLError(
        UNEXPECTED_ERROR,
        nodes=error.nodes,
        path=error.path,
        extensions={"code": "INTERNAL", "requestId": request_id},
    )


def logged_request_id(error: BaseException, where: object) -> str:
    """A new request id, under which the log gets the error's traceback; the client gets only
    the id (masking, design principle 6)."""
    request_id = uuid.uuid4().hex
    log.error("unexpected error %s at %s", request_id, where, exc_info=error)
    return request_id


def request_error(error: GraphQLError) -> GraphQLError:
    """An error of the request's own making (parsing, validation, variable coercion, the
    limits): with its code, INVALID when it came without one."""
    if error.message == TOKEN_LIMIT_REACHED:
        return too_complex("tokens", MAX_TOKENS)
    if error.extensions and "code" in error.extensions:
        return error
    return _remade(error, error.message, {**(error.extensions or {}), "code": "INVALID"})


def _remade(error: GraphQLError, message: str, extensions: dict[str, Any] | None) -> GraphQLError:
    """The error with this message and these extensions, where it was."""
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


def without_suggestions(error: GraphQLError) -> GraphQLError:
    """The error without the names graphql-core suggests ("Cannot query field 'contactz' on
    type 'Query'. Did you mean 'contact' or 'contacts'?"): in production a token holder learns
    the schema from no message (introspection is refused too)."""
    message = SUGGESTION.sub("", error.message)
    return error if message == error.message else _remade(error, message, error.extensions)
