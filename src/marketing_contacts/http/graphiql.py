"""GraphiQL in development, served whole by the API: its page, and the files the page loads
from the project's own installation of them (`make setup` runs `npm ci` in graphiql/), so that
no request leaves the machine. The page opens with the development token in its headers, or
says how to get one."""

from __future__ import annotations

import html
import json
from importlib.resources import files
from pathlib import Path
from string import Template

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from marketing_contacts.http.refusals import error_response
from marketing_contacts.settings import Settings

GRAPHQL_PATH = "/graphql"
ASSETS_PATH = "/graphiql"
#: the files the page loads, by the name it loads them under, and where npm installs them
ASSETS = {
    "react.production.min.js": "react/umd/react.production.min.js",
    "react-dom.production.min.js": "react-dom/umd/react-dom.production.min.js",
    "graphiql.min.js": "graphiql/graphiql.min.js",
    "graphiql.min.js.map": "graphiql/graphiql.min.js.map",
    "graphiql.min.css": "graphiql/graphiql.min.css",
    "graphiql.min.css.map": "graphiql/graphiql.min.css.map",
}
#: what the page loads, in order (the maps only a browser's developer tools ask for)
STYLESHEETS = ("graphiql.min.css",)
SCRIPTS = ("react.production.min.js", "react-dom.production.min.js", "graphiql.min.js")
FIRST_QUERY = """\
# Ctrl-Enter (or ▶) runs a document.
# The book on the left opens the schema's
# documentation.
{
  usage {
    marketingContacts
    tierLimit
    percentOfTier
    nextUpdateDate
  }
}
"""
NO_TOKEN = (
    "No token in the headers yet: open an account with "
    "<code>marketing-contacts accounts create --name Demo</code> in a terminal, then put its "
    'token in the Headers tab below as <code>{"Authorization": "Bearer &lt;token&gt;"}</code>; '
    "the ⟳ button (bottom left) then loads the schema's documentation."
)
NOT_INSTALLED = (
    "GraphiQL's files are not installed in {directory}: run <code>make setup</code> "
    "(it installs them with npm), then reload this page."
)


def missing_assets(directory: Path) -> list[str]:
    """The files of ASSETS that are not installed in `directory`."""
    return [name for name, path in ASSETS.items() if not (directory / path).is_file()]


def ide_page(settings: Settings) -> str:
    """The GraphiQL page; the token of GRAPHIQL_TOKEN is in its headers (development only:
    production serves no page)."""
    installed = not missing_assets(settings.graphiql_assets_dir)
    token = settings.graphiql_token
    headers = None if token is None else {"Authorization": f"Bearer {token.get_secret_value()}"}
    config = {
        "path": GRAPHQL_PATH,
        "query": FIRST_QUERY,
        "headers": None if headers is None else json.dumps(headers, indent=2),
    }
    notice: str | None = None
    if not installed:
        notice = NOT_INSTALLED.format(directory=html.escape(str(settings.graphiql_assets_dir)))
    elif headers is None:
        notice = NO_TOKEN
    return Template(files(__package__).joinpath("graphiql.html").read_text()).substitute(
        assets=_asset_tags() if installed else "",
        notice="" if notice is None else f'<p id="notice" role="status">{notice}</p>',
        # JSON in a <script> element: a "</script>" inside a string must not end the element
        config=json.dumps(config).replace("<", "\\u003c"),
    )


def asset_route(directory: Path) -> Route:
    """GET /graphiql/{name}: one of ASSETS, from where npm installed it."""

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        path = directory / ASSETS[name] if name in ASSETS else None
        if path is None or not path.is_file():
            return error_response(404, f"no GraphiQL file {name[:40]!r} here", "NOT_FOUND")
        return FileResponse(path)

    return Route(f"{ASSETS_PATH}/{{name}}", asset, methods=["GET"])


def _asset_tags() -> str:
    styles = [f'<link rel="stylesheet" href="{ASSETS_PATH}/{name}" />' for name in STYLESHEETS]
    scripts = [f'<script src="{ASSETS_PATH}/{name}"></script>' for name in SCRIPTS]
    return "\n    ".join(styles + scripts)
