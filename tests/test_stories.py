"""Test stories (tests/test_stories.yml) through the trained model, with the served path's patches (bot.rasa.cli):
every topic, the journeys, emergencies."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.servers import BIN, MODEL, ROOT, base_env


def test_stories_have_no_prediction_errors(model: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            str(BIN / "python"), "-m", "bot.rasa.cli", "test", "core", "--model", str(MODEL),
            "--stories", "tests/test_stories.yml", "--out", str(tmp_path), "--fail-on-prediction-errors", "--no-plot",
        ],
        cwd=ROOT, env=base_env(), capture_output=True, text=True,
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, details[-4000:] or (result.stdout[-2000:] + result.stderr[-2000:])
