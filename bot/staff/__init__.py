"""The staff console: review the stored conversations, flag what the bot got wrong, export it as NLU data.

bot.web.app calls init_app(app); everything is served under /staff.
"""

from __future__ import annotations

from flask import Flask

from bot.staff.config import staff_settings
from bot.staff.migrate import upgrade


def init_app(app: Flask) -> None:
    """Migrate the staff_ tables, switch CSRF on for the console only, register the /staff blueprint."""
    from bot.staff import admin, auth, exports, views  # noqa: F401  (routes register on the blueprint)
    from bot.staff.blueprint import bp, csrf

    settings = staff_settings(app.config.get("SETTINGS"))
    upgrade(settings.database_url)
    app.extensions["staff"] = settings
    # CSRF is checked by the blueprint for its own forms; the family chat proxy (a JSON API) is left alone.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config["WTF_CSRF_TIME_LIMIT"] = settings.session_hours * 3600
    csrf.init_app(app)
    app.register_blueprint(bp)
