"""An exception that reaches Starlette is masked like one inside GraphQL (design principle 6)."""

from __future__ import annotations

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from marketing_contacts.http.app import create_app
from marketing_contacts.settings import Settings


async def fails(request: Request) -> Response:
    raise RuntimeError("the secret detail of a bug")


async def test_an_unexpected_exception_is_a_json_500_whose_request_id_the_log_has(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app(Settings(environment="production"))
    app.add_route("/fails", fails)  # the real app's middleware, one route that raises
    # no lifespan, so no servers needed; the exception is answered, not raised into the test
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        response = await client.get("/fails")

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    [error] = response.json()["errors"]
    request_id = error["extensions"]["requestId"]
    assert error == {
        "message": "Unexpected error.",
        "extensions": {"code": "INTERNAL", "requestId": request_id},
    }
    assert "secret" not in response.text
    [record] = [r for r in caplog.records if request_id in r.getMessage()]
    assert record.exc_info is not None and "the secret detail" in str(record.exc_info[1])
