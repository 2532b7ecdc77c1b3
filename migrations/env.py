"""Alembic environment: migrations run against the app's own engine and metadata."""

import logging

from alembic import context
from flask import current_app

logger = logging.getLogger("alembic.env")
config = context.config
db = current_app.extensions["migrate"].db
config.set_main_option("sqlalchemy.url", db.engine.url.render_as_string(hide_password=False).replace("%", "%%"))


def run_migrations_offline():
    """Emit SQL to stdout (`flask db upgrade --sql`) instead of running it."""
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=db.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def next_revision_id() -> str:
    """The number after the head's, so files read 0006_name.py in order instead of random hex."""
    head = context.script.get_current_head()
    return f"{int(head) + 1:04d}" if head else "0001"


def run_migrations_online():
    def number_new_revisions(context, revision, directives):
        script = directives[0]
        # `flask db migrate` with no model changes writes no file.
        if getattr(config.cmd_opts, "autogenerate", False) and script.upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")
            return
        if getattr(config.cmd_opts, "rev_id", None) is None:
            script.rev_id = next_revision_id()

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", number_new_revisions)
    with db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=db.metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
