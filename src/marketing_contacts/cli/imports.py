"""`marketing-contacts import FILE --token T`: a CSV file imported through the API (I1-I5).

Unlike the admin commands it talks to a running API over HTTP, as any client does: it sends
the file as startImport's GraphQL multipart upload (operations, map and the file part, the
file streamed from disk, never read whole), then polls `import(id)` about twice a second,
drawing a progress bar on stderr, until the import ends. It prints the final counts and the
first row errors (I4); with --json, no bar and one JSON object, the import's final state.

Exit codes: 0 the import COMPLETED (its rows that failed are in the counts); 1 it FAILED or
was CANCELLED, or the API could not be reached or answered with an error; 2 a request refused
as the user's mistake (a missing file, a token refused with 401, startImport's userErrors).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any, BinaryIO, NoReturn

import httpx
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from marketing_contacts.settings import get_settings

START = """mutation ($file: Upload!, $marketing: MarketingStatus) {
  startImport(input: {file: $file, marketingStatus: $marketing}) {
    import { id status fileName } userErrors { code field message } } }"""
STATE = """query ($id: ID!) { import(id: $id) { id status fileName rows processed created updated
  unchanged failed progress failureReason } }"""
FINAL = """query ($id: ID!, $errors: Int!) { import(id: $id) { id status fileName rows processed
  created updated unchanged failed progress failureReason
  errors(first: $errors) { edges { node { row column code message } } } } }"""
ENDED = ("COMPLETED", "FAILED", "CANCELLED")
#: how often the import's state is read while it runs
POLL_SECONDS = 0.5
#: row errors shown at the end
FIRST_ERRORS = 10
#: consecutive failed polls (the API restarting, a network hiccup) before giving up
POLL_TOLERANCE = 20
EXIT_FAILED = 1
EXIT_REFUSED = 2
FALLBACK_URL = "http://127.0.0.1:8000"
Row = dict[str, Any]


class ApiError(Exception):
    """The API refused a request or could not be reached: one line for the user, an exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def default_url() -> str:
    """The API the settings describe (HOST/PORT), as a client on this machine reaches it."""
    try:
        settings = get_settings()
    except Exception:  # settings for a server: a client may run without valid ones
        return FALLBACK_URL
    host = settings.host
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def fail(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _message(response: httpx.Response) -> str:
    """The first GraphQL error's message of a refusal, or its status line."""
    try:
        errors = response.json().get("errors") or []
        return str(errors[0]["message"])
    except Exception:
        return f"HTTP {response.status_code} {response.reason_phrase}".strip()


def _data(response: httpx.Response) -> Row:
    """The `data` of a GraphQL answer; ApiError for a refusal or an error."""
    if response.status_code == 401:
        raise ApiError(f"the token was refused (401): {_message(response)}", EXIT_REFUSED)
    if response.status_code != 200:
        raise ApiError(f"the API answered {response.status_code}: {_message(response)}")
    try:
        body = response.json()
    except ValueError:
        raise ApiError("the API's answer is not JSON: is --url the API's address?") from None
    if body.get("errors"):
        raise ApiError(f"the API answered with an error: {body['errors'][0].get('message')}")
    data: Row = body.get("data") or {}
    return data


def start(client: httpx.Client, file: BinaryIO, file_name: str, marketing: bool) -> tuple[str, str]:
    """startImport as the multipart request spec sends it; the import's id and status."""
    operations = {
        "query": START,
        "variables": {"file": None, "marketing": "MARKETING" if marketing else None},
    }
    response = client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (file_name, file, "text/csv")},  # httpx streams a file object's parts
    )
    payload = _data(response)["startImport"]
    if payload["userErrors"]:
        lines = [
            f"{'.'.join(map(str, e['field'] or []))}: {e['code']}: {e['message']}"
            for e in payload["userErrors"]
        ]
        raise ApiError("startImport refused the file: " + "; ".join(lines), EXIT_REFUSED)
    imported = payload["import"]
    return str(imported["id"]), str(imported["status"])


def read(client: httpx.Client, query: str, **variables: Any) -> Row:
    """The import's state; ApiError when it is gone."""
    response = client.post("/graphql", json={"query": query, "variables": variables})
    row: Row | None = _data(response).get("import")
    if row is None:
        raise ApiError(f"import {variables['id']} was not found")
    return row


class Poller:
    """Reads the import's state until it ends, tolerating a short outage of the API."""

    def __init__(self, client: httpx.Client, import_id: str) -> None:
        self.client = client
        self.import_id = import_id
        self.misses = 0

    def next(self) -> Row | None:
        """The state now; None when this read failed but the next may not."""
        try:
            row = read(self.client, STATE, id=self.import_id)
        except (httpx.TransportError, ApiError) as error:
            retryable = isinstance(error, httpx.TransportError) or (
                error.code == EXIT_FAILED and "not found" not in str(error)
            )
            self.misses += 1
            if not retryable or self.misses > POLL_TOLERANCE:
                raise
            return None
        self.misses = 0
        return row

    def final(self) -> Row:
        return read(self.client, FINAL, id=self.import_id, errors=FIRST_ERRORS)


def watch(poller: Poller, file_name: str, with_bar: bool) -> None:
    """Until the import ends: a bar on stderr (or nothing), fed by a read every POLL_SECONDS."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rows]} rows, {task.fields[failed]} failed"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not with_bar,
    )
    with progress:
        task = progress.add_task(file_name, total=1.0, rows=0, failed=0)
        while True:
            row = poller.next()
            if row is not None:
                progress.update(
                    task,
                    completed=float(row["progress"]),
                    rows=f"{row['processed']:,}",
                    failed=f"{row['failed']:,}",
                    description=f"{file_name} {row['status']}",
                )
                if row["status"] in ENDED:
                    return
            time.sleep(POLL_SECONDS)  # a CLI's poll interval


def summary(row: Row) -> str:
    lines = [
        f"import {row['id']} {row['status']}: {row['rows']:,} rows",
        f"created {row['created']:,}, updated {row['updated']:,}, "
        f"unchanged {row['unchanged']:,}, failed {row['failed']:,}",
    ]
    if row.get("failureReason"):
        lines.append(f"reason: {row['failureReason']}")
    errors = row["errors"]["edges"]
    if errors:
        more = " (the first ones)" if row["failed"] > len(errors) else ""
        lines.append(f"row errors{more}:")
        lines.extend(
            f"  row {e['row']}{'' if e['column'] is None else ', ' + e['column']}: "
            f"{e['code']}: {e['message']}"
            for e in (edge["node"] for edge in errors)
        )
    return "\n".join(lines)


def flattened(row: Row) -> Row:
    """The final state for scripts: the errors as a plain list."""
    return {**row, "errors": [edge["node"] for edge in row["errors"]["edges"]]}


def import_file(
    file: Annotated[Path, typer.Argument(help="The CSV file: UTF-8, a header row, RFC 4180.")],
    token: Annotated[str, typer.Option(help="An API token (Bearer) of the account.")],
    url: Annotated[
        str | None,
        typer.Option(help=f"The API's base URL; default: HOST:PORT's ({FALLBACK_URL})."),
    ] = None,
    marketing: Annotated[
        bool,
        typer.Option("--marketing", help="I3: set created and matched contacts as marketing."),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="No progress bar; one JSON object at the end.")
    ] = False,
) -> None:
    """Import a CSV file through the API (startImport) and follow it to its end: a progress
    bar, then the counts and the first row errors. Exit 0 when it COMPLETED, 1 when it FAILED
    or was CANCELLED, 2 when the file or the token is refused."""
    if not file.is_file():
        fail(f"{file}: no such file", EXIT_REFUSED)
    base = (url or default_url()).rstrip("/")
    headers = {"Authorization": f"Bearer {token}"}
    timeout = httpx.Timeout(60.0, connect=10.0)
    import_id = None
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=timeout) as client:
            with file.open("rb") as body:
                import_id, _ = start(client, body, file.name, marketing)
            poller = Poller(client, import_id)
            watch(poller, file.name, with_bar=not as_json)
            final = poller.final()
    except OSError as error:  # the file unreadable
        fail(f"{file}: {error.strerror or error}", EXIT_REFUSED)
    except httpx.TransportError as error:
        fail(f"cannot reach the API at {base} ({type(error).__name__}): set --url", EXIT_FAILED)
    except ApiError as error:
        fail(str(error), error.code)
    except KeyboardInterrupt:
        if import_id is None:
            fail("interrupted before the import started", 130)
        fail(f"stopped watching: import {import_id} goes on (read it with import(id))", 130)
    if as_json:
        typer.echo(json.dumps(flattened(final)))
    else:
        typer.echo(summary(final))
    raise typer.Exit(0 if final["status"] == "COMPLETED" else EXIT_FAILED)


def register(app: typer.Typer) -> None:
    app.command("import")(import_file)
