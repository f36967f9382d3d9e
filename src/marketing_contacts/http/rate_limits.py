"""P5 at the HTTP edge: a token past its rate limit is answered 429 before GraphQL runs.

`RateLimited` sits between the token check (RequireToken, which names the caller) and the
GraphQL app: every request of a token counts once against the limit the API processes share on
Redis (limits.rates); past it the answer is 429 with Retry-After (whole seconds, at least 1) and
the refusal shape of every other refusal, code RATE_LIMITED. The GraphiQL page, which loads
without a token, is not counted. WebSocket subscribe messages count against the same limit
(http.socket_limits).
"""

from __future__ import annotations

from graphql import GraphQLError
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from marketing_contacts.domain.errors import ErrorCode
from marketing_contacts.domain.rate_limits import Admission
from marketing_contacts.http.auth import caller_of
from marketing_contacts.http.refusals import error_response
from marketing_contacts.runtime import Runtime


def rate_limited_message(runtime: Runtime, admission: Admission) -> str:
    settings = runtime.settings
    return (
        f"the token made more than {settings.rate_limit_requests} requests in "
        f"{settings.rate_limit_window_seconds:g} s; retry after {admission.retry_after} s"
    )


def too_many_requests(runtime: Runtime, admission: Admission) -> JSONResponse:
    return error_response(
        429,
        rate_limited_message(runtime, admission),
        ErrorCode.RATE_LIMITED.value,
        {"Retry-After": str(admission.retry_after)},
        retryAfter=admission.retry_after,
    )


def rate_limited_error(runtime: Runtime, admission: Admission) -> GraphQLError:
    """The error of a WebSocket operation refused by the rate limit."""
    return GraphQLError(
        rate_limited_message(runtime, admission),
        extensions={"code": ErrorCode.RATE_LIMITED.value, "retryAfter": admission.retry_after},
    )


class RateLimited:
    """Counts each request of a token; one past the limit gets 429 and reaches nothing else."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        connection = HTTPConnection(scope)
        caller = caller_of(connection)
        if caller is not None:
            runtime: Runtime = connection.app.state.runtime
            admission = await runtime.rate_limiter.admit(caller.token_id)
            if not admission.admitted:
                await too_many_requests(runtime, admission)(scope, receive, send)
                return
        await self.app(scope, receive, send)
