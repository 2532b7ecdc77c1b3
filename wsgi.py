"""The WSGI entry point: `gunicorn --threads 32 wsgi:app` (threads serve the live inbox sockets)."""

from app import create_app

app = create_app()
