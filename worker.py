"""Start a delivery worker: `python worker.py`. Run as many as needed, on as many hosts.

Each worker listens to the high, default and low queues (in that order), runs RQ's scheduler
(so scheduled sends and retries move to their queues on time), and sweeps for lost work.
"""

from __future__ import annotations

from app import create_app
from app.tasks.worker import build_worker


def main() -> None:
    app = create_app()
    with app.app_context():
        build_worker(app).work(with_scheduler=True)


if __name__ == "__main__":
    main()
