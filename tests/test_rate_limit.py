"""The web server's per-client rate limit on the chat proxy (bot.web.ratelimit, config/web.yml `rate_limit_*`):
through Flask's test client, with a stand-in for Rasa on a local port so allowed messages get a real answer."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from bot.core.settings import web_settings
from bot.web.app import create_app
from bot.web.ratelimit import TokenBuckets

WEBHOOK = "/webhooks/rest/webhook"
ANSWER = [{"recipient_id": "x", "text": "an answer"}]


@pytest.fixture(scope="module")
def fake_rasa() -> Iterator[str]:
    """Answers every webhook POST with ANSWER, as Rasa's REST channel would."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the http.server API)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.dumps(ANSWER).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def client(tmp_path: Path, fake_rasa: str) -> FlaskClient:
    settings = {**web_settings(), "database_url": f"sqlite:///{tmp_path / 'store.db'}",
                "secret_key_file": str(tmp_path / "secret"), "rasa_url": fake_rasa,
                "rate_limit_per_minute": 6, "rate_limit_burst": 3}  # slow refill: the test cannot outrun it
    return create_app(settings).test_client()


def send(client: FlaskClient, address: str, sender: str) -> Any:
    return client.post(WEBHOOK, json={"sender": sender, "message": "hello"}, environ_base={"REMOTE_ADDR": address})


def test_a_flooding_client_gets_the_calm_429_and_the_others_are_answered(client: FlaskClient) -> None:
    flood = [send(client, "10.0.0.1", "flooder") for _ in range(10)]
    assert [r.status_code for r in flood[:3]] == [200] * 3
    refused = [r for r in flood if r.status_code == 429]
    assert len(refused) >= 6  # 3 in the burst, at most one refilled meanwhile
    for response in refused:
        body = response.get_json()
        assert isinstance(body, list) and body[0]["recipient_id"] == "flooder"
        assert "911" in body[0]["text"] and "988" in body[0]["text"]
        assert int(response.headers["Retry-After"]) >= 1
    for address in ("10.0.0.2", "10.0.0.3"):  # other families are not affected
        answers = [send(client, address, f"family-{address}") for _ in range(3)]
        assert [r.status_code for r in answers] == [200] * 3
        assert answers[0].get_json() == ANSWER


def test_the_bucket_refills_at_the_configured_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(per_minute=60, burst=2, clock=lambda: now[0])
    assert buckets.take("a") == 0 and buckets.take("a") == 0
    assert buckets.take("a") == pytest.approx(1.0)  # empty: one token a second
    now[0] = 0.5
    assert buckets.take("a") == pytest.approx(0.5)
    now[0] = 1.0
    assert buckets.take("a") == 0
    assert buckets.take("b") == 0  # another client has its own bucket


def test_off_when_the_rate_is_zero() -> None:
    buckets = TokenBuckets(per_minute=0, burst=1)
    assert all(buckets.take("a") == 0 for _ in range(100))


def test_full_buckets_are_forgotten_when_many_clients_came_by() -> None:
    now = [0.0]
    buckets = TokenBuckets(per_minute=60, burst=1, clock=lambda: now[0], max_clients=3)
    for key in "abc":
        buckets.take(key)
    now[0] = 10.0  # all three refilled
    buckets.take("d")
    assert set(buckets._buckets) == {"d"}
