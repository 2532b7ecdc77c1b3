"""The web server `make run` starts: Werkzeug's threaded server, without its banner.

Werkzeug's request handler names itself and the exact Python version in every `Server`
header, which tells an attacker which published flaws to try. The handler here answers with
the product's name only; `gunicorn.conf.py` does the same for gunicorn in production.
"""

from __future__ import annotations

import sys

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

SERVER_BANNER = "Sutra Notify"


class BannerlessRequestHandler(WSGIRequestHandler):
    def version_string(self) -> str:
        """What the `Server` header says."""
        return SERVER_BANNER


def make_web_server(app: Flask, host: str, port: int) -> BaseWSGIServer:
    """A threaded server (one thread per open inbox socket) for `app`; port 0 picks a free one."""
    return make_server(host, port, app, threaded=True, request_handler=BannerlessRequestHandler)


def main(argv: list[str]) -> None:
    """`python -m app.webserver PORT`: serve the app from the environment on 127.0.0.1."""
    from app import create_app

    server = make_web_server(create_app(), "127.0.0.1", int(argv[0]) if argv else 5000)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
