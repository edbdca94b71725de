"""Timed training: python -m tools.training [CONFIG] trains models/benzo-family.tar.gz and records how long it took
(models/benzo-family.train.json, read by `make eval`)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Tuple

from bot.core.settings import PROJECT_ROOT

MODEL_NAME = "benzo-family"


def train(config: Path, out: Path, name: str, nlu_only: bool = False, nlu: str = "data") -> Tuple[Path, float]:
    """rasa train with the given config; the model path and the wall-clock seconds it took. `nlu` is the NLU data
    (a file or directory) of an NLU-only training, e.g. one cross-validation fold."""
    command = [str(Path(sys.executable).parent / "rasa"), "train"] + (["nlu"] if nlu_only else [])
    command += ["--config", str(config), "--out", str(out), "--fixed-model-name", name, "--quiet"]
    # --force: no reuse of cached components, so the recorded time is a whole training run
    command += ["--nlu", nlu] if nlu_only else ["--force"]
    start = time.perf_counter()
    subprocess.run(command, cwd=PROJECT_ROOT, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    model = out / f"{name}.tar.gz"
    model.with_suffix("").with_suffix(".train.json").write_text(json.dumps({"seconds": seconds}))
    return model, seconds


if __name__ == "__main__":
    config = Path(sys.argv[1]) if len(sys.argv) > 1 else PROJECT_ROOT / "config.yml"
    model, seconds = train(config, PROJECT_ROOT / "models", MODEL_NAME)
    print(f"trained {model} in {seconds:.0f} s")
