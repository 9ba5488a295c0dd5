"""Guards every request passes before a route sees it, and headers every answer carries.

A plain ASGI middleware (not Starlette's ``BaseHTTPMiddleware``, which buffers streams)
so server-sent events pass through untouched.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException

#: Where a page may load from and connect to: this server only, no inline script. Workers may
#: also start from a blob: ReDoc (/redoc) builds its search worker from its own bundle's text.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data: blob:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
                           "base-uri 'self'; form-action 'self'; frame-ancestors 'self'")
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"SAMEORIGIN"),
]
#: What a multipart upload carries besides its file: boundaries, part headers, form fields.
MULTIPART_OVERHEAD = 64 * 1024


class RequestGuard:
    """Refuses request bodies past their limit with 413 before they are parsed (by the
    Content-Length header, or by counting a chunked body as it arrives), and adds the
    security headers to every response.

    JSON bodies may be ``max_body_bytes`` long; multipart uploads ``max_upload_bytes``
    (plus their framing), the limit the upload routes check their file against."""

    def __init__(self, app, *, max_body_bytes: int, max_upload_bytes: int):
        self.app = app
        self.max_body_bytes, self.max_upload_bytes = max_body_bytes, max_upload_bytes

    def _limit(self, headers: dict[bytes, bytes]) -> tuple[int, str]:
        if headers.get(b"content-type", b"").startswith(b"multipart/"):
            return self.max_upload_bytes + MULTIPART_OVERHEAD, "MLP_MAX_UPLOAD_BYTES"
        return self.max_body_bytes, "MLP_MAX_BODY_BYTES"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        limit, variable = self._limit(headers)
        refusal = f"the request body is over the {limit}-byte limit ({variable}): send less"
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            return await _send_json(send, 413, refusal)
        received = 0

        async def counted_receive():  # a chunked body states no length: count it
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, refusal)  # FastAPI lets it through body parsing as it is
            return message

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, counted_receive, send_with_headers)


async def _send_json(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               *SECURITY_HEADERS]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
