"""The staff console: review the stored conversations, flag what the bot got wrong, export it as NLU data.

bot.web.app calls init_app(app); everything is served under /staff.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

from bot.staff import index
from bot.staff.config import StaffSettings, staff_settings
from bot.staff.db import engine

logger = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Migrate the staff_ tables, switch CSRF on for the console only, register the /staff blueprint."""
    from bot.staff import admin, alert_views, auth, exports, live_views, views  # noqa: F401  (routes register on the blueprint)
    from bot.staff.blueprint import bp, csrf
    from bot.staff.migrate import upgrade

    settings = staff_settings(app.config.get("SETTINGS"))
    upgrade(settings.database_url)
    app.extensions["staff"] = settings
    # CSRF is checked by the blueprint for its own forms; the family chat proxy (a JSON API) is left alone.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config["WTF_CSRF_TIME_LIMIT"] = settings.session_hours * 3600
    csrf.init_app(app)
    app.register_blueprint(bp)
    # Build the conversation index in the background so the first visit to a large store is quick.
    threading.Thread(target=_warm_up, args=(settings,), name="staff-index", daemon=True).start()


def _warm_up(settings: StaffSettings) -> None:
    try:
        index.refresh(engine(settings.database_url), settings.low_confidence)
    except Exception:  # the first page view retries; never take the web server down for this
        logger.exception("could not build the staff conversation index")
