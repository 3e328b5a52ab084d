"""A lean HTTP/1.1 keep-alive client on asyncio streams, for the portal's load generator.

httpx costs a few hundred microseconds of Python per request; on a 2-core box that CPU comes
out of the server being measured. This client writes the request in one piece, reads the
headers in one call and the body by Content-Length (or chunks), and keeps the cookies a
browser would send back. Enough for the portal, not a general client.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from urllib.parse import urlencode

_MAX_HEADERS = 64 * 1024
_MAX_BODY = 16 * 1024 * 1024
USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 13; cautiva-bench) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"
)


class HttpError(RuntimeError):
    """The server's answer could not be read as HTTP/1.1."""


@dataclass(frozen=True, slots=True)
class Reply:
    """A response: status, headers (names lower-cased), body, and the header block's size."""

    status: int
    headers: dict[str, str]
    body: bytes
    header_bytes: int


@dataclass(slots=True)
class Connection:
    """One keep-alive connection with a cookie jar, as one phone's browser has."""

    host: str
    port: int
    timeout: float
    accept_language: str = "es-419,es;q=0.9"
    cookies: dict[str, str] = field(default_factory=dict)
    _reader: asyncio.StreamReader | None = None
    _writer: asyncio.StreamWriter | None = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self._reader, self._writer

    def close(self) -> None:
        """Drop the connection (the cookies stay)."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
        self._reader = self._writer = None

    async def get(self, target: str) -> Reply:
        """GET `target` (path and query)."""
        return await self.request("GET", target)

    async def post_form(self, target: str, fields: list[tuple[str, str]]) -> Reply:
        """POST an application/x-www-form-urlencoded form."""
        body = urlencode(fields).encode()
        return await self.request("POST", target, body, "application/x-www-form-urlencoded")

    async def request(
        self, method: str, target: str, body: bytes = b"", content_type: str | None = None
    ) -> Reply:
        """Send one request and read its response; close the connection on any failure."""
        try:
            return await asyncio.wait_for(
                self._exchange(method, target, body, content_type), self.timeout
            )
        except BaseException:
            self.close()
            raise

    async def _exchange(
        self, method: str, target: str, body: bytes, content_type: str | None
    ) -> Reply:
        reader, writer = await self._open()
        lines = [
            f"{method} {target} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"User-Agent: {USER_AGENT}",
            "Accept: text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8",
            f"Accept-Language: {self.accept_language}",
            "Accept-Encoding: gzip, deflate",
        ]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if method != "GET":
            lines.append(f"Content-Length: {len(body)}")
            if content_type:
                lines.append(f"Content-Type: {content_type}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        reply = await self._read(reader)
        if reply.headers.get("connection", "").lower() == "close":
            self.close()
        return reply

    async def _read(self, reader: asyncio.StreamReader) -> Reply:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError as exc:
            raise HttpError("response headers too long") from exc
        if len(head) > _MAX_HEADERS:
            raise HttpError("response headers too long")
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise HttpError(f"not an HTTP/1.1 status line: {status_line[:80]!r}")
        headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            key, value = name.strip().lower(), value.strip()
            if key == "set-cookie":
                self._keep_cookie(value)
            elif key in headers:
                headers[key] += ", " + value
            else:
                headers[key] = value
        if "content-length" in headers:
            length = int(headers["content-length"])
            if length > _MAX_BODY:
                raise HttpError(f"body of {length} bytes")
            body = await reader.readexactly(length)
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            body = await _read_chunks(reader)
        else:
            raise HttpError("response without Content-Length or chunked encoding")
        return Reply(int(parts[1]), headers, body, len(head))

    def _keep_cookie(self, value: str) -> None:
        pair, _, attributes = value.partition(";")
        name, _, cookie = pair.strip().partition("=")
        expired = "max-age=0" in attributes.lower().replace(" ", "")
        if expired or not cookie:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = cookie


async def _read_chunks(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    for _ in range(1_000_000):
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass  # trailers
            return b"".join(parts)
        total += size
        if total > _MAX_BODY:
            raise HttpError(f"chunked body over {_MAX_BODY} bytes")
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
    raise HttpError("too many chunks")
