"""Alembic's environment, run through Flask-Migrate (`nhomthu db …`, `nhomthu init`)."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from models.search_schema import is_search_object

config = context.config
# Keep the application's loggers: `nhomthu init` runs migrations inside a process that logs.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

migrate = current_app.extensions["migrate"]
engine = migrate.db.engine
config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
target_metadata = migrate.db.metadata


def skip_empty_revisions(migration_context, revision, directives):
    """`nhomthu db migrate` with no change in the models writes no empty revision."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def run_migrations_offline():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    arguments = {
        "process_revision_directives": skip_empty_revisions,
        "include_object": is_search_object,
        **migrate.configure_args,
    }
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, **arguments)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
