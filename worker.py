"""Start a delivery worker: `python worker.py`. Run as many as needed, on as many hosts.

Each worker listens to the high, default and low queues (in that order) and runs a scheduler
thread; whichever worker holds the scheduler lock puts work on its queue when its time comes
(scheduled sends, retries) and sweeps for lost work, and another takes over if it dies.
"""

from __future__ import annotations

from app import create_app
from app.tasks.worker import build_worker


def main() -> None:
    app = create_app()
    with app.app_context():
        build_worker(app).work()


if __name__ == "__main__":
    main()
