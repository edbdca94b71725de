"""A Rasa process serving a model without TensorFlow components does not load TensorFlow.

Rasa 3.6 imports TensorFlow (and, through it, Keras, TensorBoard and JAX) at the top of many modules that every
server imports, whatever the model: about 350 MB of the 650 MB of one of our Rasa servers, for a pipeline (config.yml)
whose components never call it. Here, before Rasa is imported, `tensorflow` and `keras` are placeholder modules: the
names Rasa's modules take from them at import time (base classes, decorators, constants) exist but do nothing.

This is done only when it is safe: for `run`, `shell` and `test`, when every component of the model being served
(the predict graph in the model file's metadata.json) is in `tensorflow_free` of config/patches.yml, a list of
components known not to use TensorFlow (checked by tests/test_without_tensorflow.py). A model with any other
component (DIET, TED, ResponseSelector, ...) gets the real TensorFlow, as does `skip_tensorflow: false`.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import logging
import sys
import tarfile
import types
from pathlib import Path
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Set

from bot.core.settings import load_yaml

CONFIG = "config/patches.yml"
COMMANDS = ("run", "shell", "test")
PLACEHOLDERS = ("tensorflow", "keras", "tensorflow_addons", "tensorflow_hub", "tensorflow_text")
# Optional imports whose absence the importer handles (an ImportError is what it expects when they are missing):
# spaCy's thinc looks for tensorflow.experimental.dlpack to decide whether TensorFlow is there.
MISSING = ("tensorflow.experimental", "jax")
logger = logging.getLogger(__name__)


class _Anything(type):
    """A placeholder class: every attribute is another placeholder, calling it gives one, decorating returns the
    function unchanged, subclassing it gives a plain class."""

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _placeholder(name)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return args[0]
        return _placeholder("result")

    def __iter__(cls) -> Any:
        return iter(())

    def __bool__(cls) -> bool:
        return False

    def __getitem__(cls, item: Any) -> Any:
        return cls

    def __or__(cls, other: Any) -> Any:
        return cls

    def __ror__(cls, other: Any) -> Any:
        return cls

    def __mro_entries__(cls, bases: Any) -> Any:
        return (object,)


def _placeholder(name: str) -> Any:
    return _Anything(name, (), {})


class _Module(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _placeholder(name)


class _Placeholders(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Optional[importlib.machinery.ModuleSpec]:
        if any(fullname == name or fullname.startswith(name + ".") for name in MISSING):
            raise ImportError(f"{fullname} is not loaded in this process (bot.rasa.without_tensorflow)")
        if fullname.split(".")[0] in PLACEHOLDERS:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = _Module(spec.name)
        module.__path__ = []  # a package: its submodules are placeholders too
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def model_components(model: Path) -> Set[str]:
    """The classes of the model's predict graph (metadata.json in the model file)."""
    with tarfile.open(model) as archive:
        member = archive.extractfile("metadata.json")
        if member is None:
            raise ValueError(f"{model} has no metadata.json")
        metadata = json.load(member)
    return {node["uses"] for node in metadata["predict_schema"]["nodes"].values()}


def served_model(argv: Sequence[str]) -> Optional[Path]:
    """The model file `rasa run/shell/test` loads: --model/-m (a file, or the newest in a directory), else models/."""
    args = list(argv)
    model = Path("models")
    for flag in ("--model", "-m"):
        if flag in args[:-1]:
            model = Path(args[args.index(flag) + 1])
    if model.is_dir():
        models = sorted(model.glob("*.tar.gz"), key=lambda path: path.stat().st_mtime)
        return models[-1] if models else None
    return model if model.is_file() else None


def needs_tensorflow(components: Iterable[str], free: Iterable[str]) -> List[str]:
    """The components not known to be TensorFlow-free."""
    return sorted(set(components) - set(free))


def applies(argv: Sequence[str], settings: Optional[Mapping[str, Any]] = None) -> bool:
    """Whether this `rasa` command line can run without TensorFlow (config/patches.yml, the model's components)."""
    settings = load_yaml(CONFIG) if settings is None else settings
    if not settings.get("skip_tensorflow") or len(argv) < 2 or argv[1] not in COMMANDS:
        return False
    model = served_model(argv[2:])
    if model is None:
        return False
    others = needs_tensorflow(model_components(model), settings.get("tensorflow_free", []))
    if others:
        logger.warning("%s has components not known to be TensorFlow-free (%s): TensorFlow is loaded", model,
                       ", ".join(others))
    return not others


def install() -> None:
    """Placeholders for TensorFlow and Keras, before anything imports them."""
    loaded = [name for name in sys.modules if name.split(".")[0] in PLACEHOLDERS]
    if loaded:
        raise RuntimeError(f"TensorFlow is already imported ({loaded[0]}): install() must run before Rasa is imported")
    if not any(isinstance(finder, _Placeholders) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Placeholders())


def active() -> bool:
    """TensorFlow was replaced by placeholders in this process."""
    return isinstance(sys.modules.get("tensorflow"), _Module)
