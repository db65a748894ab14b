"""Alembic, driven from Python: `portal migrate`, the tests and `make` all use this."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from portal import ROOT


def alembic_config(engine: sa.Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    # env.py runs on this engine instead of building one from a URL (keeps passwords out of argv).
    config.attributes["engine"] = engine
    return config


def migrate(engine: sa.Engine, revision: str = "head") -> None:
    """Upgrade (or downgrade, for a relative/older revision) the schema to ``revision``."""
    config = alembic_config(engine)
    current = current_revision(engine)
    if revision.startswith("-") or (revision not in ("head", "heads") and _is_older(config, current, revision)):
        command.downgrade(config, revision)
    else:
        command.upgrade(config, revision)


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _is_older(config: Config, current: str | None, target: str) -> bool:
    from alembic.script import ScriptDirectory

    if current is None or target == "base":
        return target == "base" and current is not None
    script = ScriptDirectory.from_config(config)
    return any(rev.revision == target for rev in script.iterate_revisions(current, "base"))
