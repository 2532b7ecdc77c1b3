"""The web server `make run` starts: Werkzeug's threaded server, without its banner, with an
access log fit for a service that holds patient data.

Werkzeug's request handler names itself and the exact Python version in every `Server`
header, which tells an attacker which published flaws to try. The handler here answers with
the product's name only; `gunicorn.conf.py` does the same for gunicorn in production.

Werkzeug's access log also writes each request line whole, so filter links put patients'
names (typed into Monitor or the delivery log) into the terminal, and htmx polls add a line
every few seconds per open page. Here a line holds the method, the path without its query
string, the status and the size; successful polls and static files are logged at DEBUG only.
"""

from __future__ import annotations

import sys
from urllib.parse import quote, urlsplit

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

SERVER_BANNER = "Sutra Notify"


# Characters a logged path shows as they are; anything else (control characters too) is %-escaped.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


class ProductRequestHandler(WSGIRequestHandler):
    def version_string(self) -> str:
        """What the `Server` header says."""
        return SERVER_BANNER

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        method = getattr(self, "command", None) or "-"
        path = quote(urlsplit(getattr(self, "path", None) or "").path, safe=_PATH_SAFE) or "-"
        level = "debug" if self._routine(method, path, str(code)) else "info"
        self.log(level, '"%s %s" %s %s', method, path, code, size)

    def _routine(self, method: str, path: str, status: str) -> bool:
        """A successful htmx GET (a poll, a live fragment) or static file: nothing anyone did."""
        if method != "GET" or status[:1] not in {"2", "3"}:
            return False
        return self.headers.get("HX-Request") == "true" or path.startswith("/static/")


def make_web_server(app: Flask, host: str, port: int) -> BaseWSGIServer:
    """A threaded server (one thread per open inbox socket) for `app`; port 0 picks a free one."""
    return make_server(host, port, app, threaded=True, request_handler=ProductRequestHandler)


def main(argv: list[str]) -> None:
    """`python -m app.webserver PORT`: serve the app from the environment on 127.0.0.1."""
    from app import create_app

    server = make_web_server(create_app(), "127.0.0.1", int(argv[0]) if argv else 5000)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
