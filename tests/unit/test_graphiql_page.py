"""The GraphiQL page and its files: every file from this API, the development token in its
headers, and a line saying what to do when something is missing. (tests/e2e: the page in a
browser, and none of it in production.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from marketing_contacts.http.graphiql import ASSETS, ASSETS_PATH, asset_route, ide_page
from marketing_contacts.http.refusals import EXCEPTION_HANDLERS
from marketing_contacts.settings import Settings

TOKEN = "mc_development-token"


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    """An installation of GraphiQL's files, as npm lays them out."""
    for name, path in ASSETS.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(f"/* {name} */")
    return tmp_path


def page_of(assets: Path, token: str | None = TOKEN) -> str:
    settings = Settings(
        graphiql_assets_dir=assets, graphiql_token=None if token is None else SecretStr(token)
    )
    return ide_page(settings)


def config_of(page: str) -> dict[str, object]:
    found = re.search(r'<script id="graphiql-config" type="application/json">(.*?)</script>', page)
    assert found is not None, page
    config: dict[str, object] = json.loads(found.group(1))
    return config


def test_the_page_opens_with_the_token_in_its_headers_and_loads_only_our_files(
    assets: Path,
) -> None:
    page = page_of(assets)

    headers = config_of(page)["headers"]
    assert isinstance(headers, str)
    assert json.loads(headers) == {"Authorization": f"Bearer {TOKEN}"}
    assert 'id="notice"' not in page
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources == [f"{ASSETS_PATH}/graphiql.min.css"] + [
        f"{ASSETS_PATH}/{name}"
        for name in ("react.production.min.js", "react-dom.production.min.js", "graphiql.min.js")
    ]


def test_without_a_token_the_page_says_how_to_open_an_account(assets: Path) -> None:
    page = page_of(assets, token=None)

    assert config_of(page)["headers"] is None
    assert "marketing-contacts accounts create --name Demo" in page


def test_a_token_cannot_end_the_script_element_that_carries_it(assets: Path) -> None:
    hostile = "x</script><script>alert(1)</script>"
    page = page_of(assets, token=hostile)

    assert "<script>alert(1)" not in page
    headers = config_of(page)["headers"]
    assert isinstance(headers, str) and hostile in headers


def test_when_the_files_are_not_installed_the_page_says_to_run_make_setup(tmp_path: Path) -> None:
    page = page_of(tmp_path / "nothing")

    assert "make setup" in page
    assert "<script src=" not in page


async def test_the_files_are_served_from_the_installation_and_nothing_else(assets: Path) -> None:
    (assets / "graphiql" / "package.json").write_text("{}")
    app = Starlette(routes=[asset_route(assets)], exception_handlers=EXCEPTION_HANDLERS)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as http:
        served = await http.get(f"{ASSETS_PATH}/graphiql.min.js")
        assert served.status_code == 200
        assert served.text == "/* graphiql.min.js */"
        for name in ("package.json", "..%2Fgraphiql%2Fpackage.json", "index.js"):
            refused = await http.get(f"{ASSETS_PATH}/{name}")
            assert refused.status_code == 404
            assert refused.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        (assets / ASSETS["react.production.min.js"]).unlink()
        assert (await http.get(f"{ASSETS_PATH}/react.production.min.js")).status_code == 404
