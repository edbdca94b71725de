"""Build the English spaCy pipeline used by Rasa (SpacyNLP) and by the safety net.

Models cannot be downloaded here, so the pipeline is spacy.blank("en") plus the lookup lemmatizer, whose tables
come from the spacy-lookups-data package. Run: python -m tools.spacy_pipeline
"""

from __future__ import annotations

import sys
from pathlib import Path

import spacy

from bot.core.settings import setting_path


def build(target: Path) -> Path:
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    nlp.meta["name"] = "family"
    nlp.meta["description"] = "spacy.blank('en') + lookup lemmatizer (spacy-lookups-data)"
    target.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(target)
    return target


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else setting_path("spacy_pipeline")
    print(f"spaCy pipeline written to {build(out)}")
