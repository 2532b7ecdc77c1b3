"""A local HTTP endpoint that records whatever is posted to it, for webhook senders' tests."""

from __future__ import annotations

from typing import Any

from tests.fakes.httpserver import FakeHttpServer, FakeRequest, FakeResponse


class WebhookSink(FakeHttpServer):
    """Answers 204 to every request and records {"method", "path", "headers", "body"}."""

    def handle(self, request: FakeRequest) -> FakeResponse | None:
        entry: dict[str, Any] = {
            "method": request.method,
            "path": request.path,
            "headers": dict(request.headers.items()),
            "body": request.body,
        }
        return self.respond(None, lambda: self._accept(entry))

    def error_response(self, kind: str, options: dict[str, Any], recipient: str) -> FakeResponse:
        return FakeResponse(options.get("status", 429 if kind == "rate_limited" else 500))

    def _accept(self, entry: dict[str, Any]) -> FakeResponse:
        self.record(entry)
        return FakeResponse(204)
