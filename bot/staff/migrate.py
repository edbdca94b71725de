"""python -m bot.staff.migrate: create or upgrade the staff console's tables (Alembic) in DATABASE_URL."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_lock = threading.Lock()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the staff_ tables to the latest revision (idempotent)."""
    from bot.staff.db import engine

    with _lock, engine(url).begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="default: database_url of config/web.yml (env DATABASE_URL)")
    args = parser.parse_args()
    from bot.staff.config import resolve_sqlite_path, staff_settings

    url = resolve_sqlite_path(args.database_url) if args.database_url else staff_settings().database_url
    upgrade(url)
    from bot.staff import index
    from bot.staff.db import engine

    updated = index.refresh(engine(url), staff_settings().low_confidence)
    print(f"staff tables are up to date; {updated} conversations indexed")


if __name__ == "__main__":
    main()
