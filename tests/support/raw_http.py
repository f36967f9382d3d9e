"""HTTP/1.1 over a raw socket, for what an HTTP client library will not do: keep streaming a
chunked body while watching for the server's early answer."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes
    body_bytes_sent: int  # of the request's body, when the answer became readable


def chunked(piece: bytes, count: int) -> Iterator[bytes]:
    """`count` chunks of `piece` in chunked transfer coding, then the last chunk."""
    frame = b"%x\r\n" % len(piece) + piece + b"\r\n"
    for _ in range(count):
        yield frame
    yield b"0\r\n\r\n"


def stream_until_answered(
    host: str, port: int, head: bytes, frames: Iterator[bytes], within: float
) -> RawResponse:
    """Send `head` (request line and headers) and the body's frames while the socket is
    writable, stop writing as soon as an answer is readable, and read that answer.

    The answer is read from what the server sent even if it closed the connection after it.
    `within` is a deadline for the whole exchange, not a wait."""
    deadline = time.monotonic() + within
    with socket.create_connection((host, port), timeout=within) as connection:
        connection.setblocking(False)
        sent = _send_until_readable(connection, head, frames, deadline)
        raw = _read_answer(connection, deadline)
    return _parse(raw, sent)


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    assert left > 0, "the server did not answer before the deadline"
    return left


def _send_until_readable(
    connection: socket.socket, head: bytes, frames: Iterator[bytes], deadline: float
) -> int:
    """Bytes of the body (framing included) sent before the answer became readable."""
    pending = memoryview(head)
    sent = 0
    while True:
        if not pending:
            pending = memoryview(next(frames, b""))
        writers = [connection] if pending else []
        readable, writable, _ = select.select([connection], writers, [], _remaining(deadline))
        if readable:
            break
        if writable:
            try:
                count = connection.send(pending)
            except (BrokenPipeError, ConnectionResetError):
                break  # closed after answering: the answer is buffered
            pending = pending[count:]
            sent += count
    return max(sent - len(head), 0)


def _read_answer(connection: socket.socket, deadline: float) -> bytes:
    """Everything up to the end of the answer's body (Content-Length) or the connection."""
    received = bytearray()
    while not _complete(received):
        readable, _, _ = select.select([connection], [], [], _remaining(deadline))
        if not readable:
            continue  # the deadline passed: _remaining says so
        try:
            data = connection.recv(65536)
        except ConnectionResetError:
            break  # reset after the answer: what was received before it is kept
        if not data:
            break
        received += data
    return bytes(received)


def _complete(received: bytearray) -> bool:
    head, separator, body = bytes(received).partition(b"\r\n\r\n")
    if not separator:
        return False
    length = _headers(head).get("content-length")
    return length is not None and len(body) >= int(length)


def _headers(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines)
    }


def _parse(raw: bytes, sent: int) -> RawResponse:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return RawResponse(status=status, headers=_headers(head), body=body, body_bytes_sent=sent)
