"""Alembic, driven from code: `intake serve` and `intake db upgrade` call this."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from intake.paths import data_folder


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(data_folder("alembic")))
    # Percent signs in URLs would be read as interpolation by configparser.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    return config


def upgrade(engine: Engine) -> None:
    """Apply pending migrations on the given engine's database (idempotent)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
