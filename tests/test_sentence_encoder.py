"""bot.core.sentence_encoder: all-MiniLM-L6-v2 in NumPy gives the model's own vectors (files from make setup)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.core.sentence_encoder import CachedEncoder, SentenceEncoder, WordPiece, load_safetensors
from bot.core.settings import setting_path

MODEL = setting_path("sentence_model")
pytestmark = pytest.mark.skipif(not (MODEL / "model.safetensors").exists(), reason="run `make setup` first")


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder(MODEL)


def test_the_tokenizer_is_berts_uncased_word_piece() -> None:
    pieces = WordPiece(MODEL / "vocab.txt")
    # [CLS] hello , isn ' t it cold - turkey ? ! [SEP]: accents stripped, lower-cased, punctuation split off
    assert pieces.encode("Héllo, isn't it COLD-turkey?!") == [101, 7592, 1010, 3475, 1005, 1056, 2009, 3147, 1011,
                                                               4977, 1029, 999, 102]
    ids = pieces.encode("klonopin")
    assert ids[0] == 101 and ids[-1] == 102 and len(ids) > 3  # a word the vocabulary lacks: word pieces, no [UNK]
    assert pieces.unk not in ids
    assert len(pieces.encode("word " * 500)) == 128  # cut to a chat message's length


def test_the_weights_load_with_their_shapes() -> None:
    weights = load_safetensors(MODEL / "model.safetensors")
    assert weights["embeddings.word_embeddings.weight"].shape == (30522, 384)
    assert weights["encoder.layer.5.intermediate.dense.weight"].shape == (1536, 384)


def test_the_vectors_are_the_models_own(encoder: SentenceEncoder) -> None:
    """The first numbers of sentence-transformers' all-MiniLM-L6-v2 for its documentation's example sentence."""
    vector = encoder.encode("This is an example sentence")
    assert vector.shape == (384,) and np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
    assert vector[:6] == pytest.approx([0.06766, 0.06350, 0.04871, 0.07931, 0.03745, 0.00265], abs=2e-4)


def test_paraphrases_are_closer_than_other_topics(encoder: SentenceEncoder) -> None:
    cold, quit_, dbt = encoder.encode_all([
        "is it safe for my son to stop his xanax cold turkey",
        "can he just quit the benzos all at once",
        "what is dialectical behavior therapy",
    ])
    assert cold @ quit_ > cold @ dbt + 0.2


def test_training_vectors_are_cached_by_text(tmp_path: Path) -> None:
    for name in ("model.safetensors", "vocab.txt"):
        (tmp_path / name).symlink_to(MODEL / name)
    first = CachedEncoder(tmp_path)
    vectors = first.encode_all(["my son takes xanax", "what is detox"])
    assert (tmp_path / "cache.npz").exists()
    again = CachedEncoder(tmp_path)
    assert set(again.cached) == {"my son takes xanax", "what is detox"}
    assert np.array_equal(again.encode_all(["what is detox", "my son takes xanax"]), vectors[::-1])
    (tmp_path / "cache.npz").write_bytes(b"damaged")
    assert CachedEncoder(tmp_path).cached == {}  # rebuilt, not a crash


def test_the_shared_encoder_keeps_blas_to_one_thread() -> None:
    from threadpoolctl import threadpool_info

    from bot.core.sentence_encoder import shared_encoder

    shared_encoder.cache_clear()
    shared_encoder(MODEL)
    assert all(pool["num_threads"] == 1 for pool in threadpool_info() if pool["user_api"] == "blas")
