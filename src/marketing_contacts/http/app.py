"""The ASGI application: GraphQL at /graphql, health at /health."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute, request_response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from marketing_contacts.http.auth import (
    MAX_BODY_BYTES,
    RETRY_AFTER_SECONDS,
    RequireToken,
    bearer_token,
    caller_of,
)
from marketing_contacts.http.graphiql import GRAPHQL_PATH, asset_route, ide_page
from marketing_contacts.http.rate_limits import RateLimited
from marketing_contacts.http.refusals import EXCEPTION_HANDLERS, error_response, refusal
from marketing_contacts.http.socket_limits import LimitedTransportWSHandler, SocketSlots
from marketing_contacts.runtime import Runtime, event_feed, open_runtime, schema_for
from marketing_contacts.schema.context import RequestContext
from marketing_contacts.settings import Settings, get_settings

HEALTH_TIMEOUT_SECONDS = 2.0
#: the methods strawberry serves GraphQL over (its is_request_allowed)
GRAPHQL_METHODS = "GET, POST"


class GraphQLApp(GraphQL[RequestContext, None]):
    graphql_transport_ws_handler_class = LimitedTransportWSHandler
    #: our GraphiQL page (strawberry's loads its files from a CDN); None: no IDE
    ide_html: str | None = None

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self.ide_html)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """strawberry answers the requests it refuses in plain text; here they get the JSON
        error of every other refusal, with its code (and Allow on a 405)."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as error:
            allow = {"Allow": GRAPHQL_METHODS} if error.status_code == 405 else None
            response = refusal(error.status_code, error.reason, allow)
        await response(scope, receive, send)

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        """A result that is nothing but UNAVAILABLE errors (the database did not answer in
        time) is 503 with Retry-After, as a refused request is: clients and balancers retry."""
        if isinstance(response_data, dict) and only_unavailable(response_data):
            sub_response.status_code = 503
            sub_response.headers["Retry-After"] = RETRY_AFTER_SECONDS
        return super().create_response(response_data, sub_response)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        runtime: Runtime = request.app.state.runtime
        if isinstance(request, WebSocket):  # authenticated by connection_init
            return RequestContext(services=runtime.services, hub=request.app.state.hub)
        return RequestContext(services=runtime.services, authenticated=caller_of(request))

    def decode_json(self, data: str | bytes) -> object:
        """JSON of a body or a WebSocket message: bytes that are not UTF-8, nesting too deep
        to decode, or an integer too long to convert (ValueError, like the first) are malformed
        JSON like any other (400 over HTTP, 4400 on a socket)."""
        try:
            return json.loads(data)
        except (ValueError, RecursionError) as error:
            raise json.JSONDecodeError(type(error).__name__, "", 0) from error

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """A POST carries JSON, or (I1) a multipart/form-data upload of the GraphQL multipart
        request spec that carries a file (RequireToken bounds it to IMPORT_MAX_BYTES): any
        other body is 415 (strawberry answers 400)."""
        media_type, _ = parse_content_type(request.content_type or "")
        if request.method == "POST" and media_type == "multipart/form-data":
            return await super().parse_http_body(request)
        if request.method == "POST" and "application/json" not in media_type:
            raise HTTPException(
                415, "the request body must be application/json (or a multipart upload)"
            )
        return await super().parse_http_body(request)

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, str]:
        """I1: a multipart request carries at least one file in its map; its other parts are
        small (the multipart parser bounds each to 1 MB)."""
        try:
            form = await request.get_form_data()
        except ValueError as error:
            raise HTTPException(400, "the multipart body is not readable") from error
        files_map = form.form.get("map", "{}")
        parsed = self.parse_json(files_map) if isinstance(files_map, str | bytes) else files_map
        if not isinstance(parsed, dict) or not parsed:
            raise HTTPException(400, "a multipart request carries a file: its map is empty")
        return await super().parse_multipart(request)

    def parse_json(self, data: str | bytes) -> object:
        """An HTTP body is one JSON object (a list reaches the batching check, which refuses
        it); RequireToken has bounded its size already."""
        body = super().parse_json(data)
        if not isinstance(body, dict | list):
            raise HTTPException(400, "the request body must be a JSON object")
        return body

    async def on_ws_connect(self, context: RequestContext) -> UnsetType | dict[str, object] | None:
        """graphql-transport-ws: the token comes in the connection_init payload; a missing or
        wrong one closes the socket with 4403."""
        params = context.connection_params or {}
        header = params.get("Authorization", params.get("authorization"))
        token = bearer_token(header if isinstance(header, str) else None)
        caller = None if token is None else await context.services.tokens.authenticate(token)
        if caller is None:
            raise ConnectionRejectionError()
        context.authenticated, context.token_secret = caller, token
        return None


def only_unavailable(response: GraphQLHTTPResponse) -> bool:
    errors: list[Any] = list(response.get("errors") or [])
    codes = {(error.get("extensions") or {}).get("code") for error in errors}
    return response.get("data") is None and codes == {"UNAVAILABLE"}


async def _check(probe: Awaitable[object]) -> str:
    try:
        await asyncio.wait_for(probe, HEALTH_TIMEOUT_SECONDS)
    except Exception as error:
        return f"down: {type(error).__name__}"
    return "ok"


async def health(request: Request) -> JSONResponse:
    """200 with the state of MongoDB and Redis; 503 when one is down."""
    runtime: Runtime = request.app.state.runtime
    mongo, redis = await asyncio.gather(
        _check(runtime.mongo.client.admin.command("ping")),
        _check(runtime.redis.ping()),
    )
    status = 200 if mongo == redis == "ok" else 503
    return JSONResponse({"mongodb": mongo, "redis": redis}, status_code=status)


async def export_file(request: Request) -> Response:
    """I6: an export's CSV, streamed from the database, to a user of its account who sees it
    (P3); 404 for one that is missing, another account's, not the caller's to see, not
    written yet or expired, alike. RequireToken answered 401 already without a valid token."""
    runtime: Runtime = request.app.state.runtime
    caller = caller_of(request)
    export_id = str(request.path_params["export_id"])
    exports = runtime.services.exports
    export = None if caller is None else await exports.downloadable(caller, export_id)
    if export is None:
        return error_response(404, f"export {export_id[:40]} has no file to download", "NOT_FOUND")
    return StreamingResponse(
        exports.file_of(export),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_runtime(settings) as runtime, event_feed(runtime) as feed:
            app.state.runtime = runtime
            app.state.hub = feed
            app.state.socket_slots = SocketSlots(settings.max_sockets_per_token)  # P5
            yield

    graphql = GraphQLApp(
        schema_for(settings.environment),
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        allowed_origins=settings.allowed_origins,
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
        multipart_uploads_enabled=True,  # I1: startImport's file; RequireToken bounds it
        max_subscriptions_per_connection=settings.max_subscriptions_per_socket,
    )
    limited = RateLimited(graphql)  # P5: after the token check, before any GraphQL work
    routes = [
        Route("/health", health, methods=["GET"]),
        Route(
            GRAPHQL_PATH,
            RequireToken(
                limited,
                ide_enabled=settings.graphiql_enabled,
                upload_max_bytes=settings.import_max_bytes + MAX_BODY_BYTES,  # I1: the envelope
            ),
        ),
        WebSocketRoute(GRAPHQL_PATH, graphql),
        # I6: an export's file, behind the token check and the rate limit as GraphQL is
        Route(
            "/exports/{export_id}/file",
            RequireToken(RateLimited(request_response(export_file)), ide_enabled=False),
            methods=["GET"],
        ),
    ]
    if settings.graphiql_enabled:  # development only: never in production
        graphql.ide_html = ide_page(settings)
        routes.append(asset_route(settings.graphiql_assets_dir))
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers=EXCEPTION_HANDLERS)
