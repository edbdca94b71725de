"""python -m bot.web [--port N]: serve the web app with waitress (a production WSGI server)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from waitress import serve

from bot.core.settings import web_settings
from bot.web.app import create_app


def waitress_options(settings: dict[str, Any]) -> dict[str, Any]:
    """waitress removes X-Forwarded-* headers unless told not to: with trusted proxies they reach the app, where
    ProxyFix (bot.web.app.trust_proxies) believes only the last `trusted_proxies` values of each.

    waitress stops accepting connections at `connection_limit` open ones (100 by default), idle keep-alive ones
    included: behind nginx at 100 concurrent conversations nginx then got refused and answered 502 (make bench).
    Waiting requests cost a socket each, not a thread; the 16 threads still bound the work."""
    return {"threads": 16, "connection_limit": 1000, "ident": "family-support",
            "clear_untrusted_proxy_headers": not int(settings.get("trusted_proxies") or 0)}


def main() -> None:
    settings = web_settings()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=settings["host"])
    parser.add_argument("--port", type=int, default=settings["port"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    serve(create_app(settings), host=args.host, port=args.port, **waitress_options(settings))


if __name__ == "__main__":
    main()
