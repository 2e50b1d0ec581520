"""The checkpoint's metadata: ``termcorpus.json`` beside the weights, one model for every reader.

The train stage writes it (what was trained, from which corpus, how far, with which params) and
adds the MLflow run and registered version; the serving settings the registered pyfunc uses
(``prompt_style``, ``max_new_tokens``) are recorded there too. evaluate reads it to find its base
model and version, tracking to tag the version and move the champion alias, and the lineage
report reads it at any Git revision. Unknown keys are kept (a newer writer never loses data to an
older reader); the known ones are type-checked, and a bad file is one line naming it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from termcorpus.errors import DataError

META_FILE = "termcorpus.json"
META_SCHEMA = "1"


class CheckpointMeta(BaseModel):
    """The known fields of ``termcorpus.json`` (all optional: files grow field by field)."""

    model_config = ConfigDict(extra="allow")

    schema_version: str = META_SCHEMA
    base_model: str | None = Field(None, description="'tiny' (trained from scratch) or the checkpoint fine-tuned")
    corpus_digest: str | None = Field(None, description="DVC md5 of the corpus directory trained on")
    step: int | None = Field(None, description="optimizer steps taken")
    n_params: int | None = Field(None, description="model parameters")
    vocab_size: int | None = Field(None, description="tokenizer vocabulary")
    final_loss: float | None = Field(None, description="training loss at the last step")
    val_loss: float | None = Field(None, description="loss on the validation split: the champion criterion")
    n_train_episodes: int | None = Field(None, description="episodes trained on")
    dropped_too_long: int | None = Field(None, description="episodes longer than train.max_seq_len")
    num_processes: int | None = Field(None, description="data-parallel processes")
    params: dict[str, Any] | None = Field(None, description="the train params section")
    # MLflow, added after registration
    run_id: str | None = Field(None, description="the MLflow training run")
    model_version: str | int | None = Field(None, description="the registered model version (MLflow 3 reports an int)")
    registered_model: str | None = Field(None, description="the registered model name")
    # how the registered pyfunc prompts and decodes
    prompt_style: str | None = Field(None, description="execute.prompt_style the corpus was rendered with")
    max_new_tokens: int | None = Field(None, description="evaluate.max_new_tokens, the reply budget")


def parse_meta(text: str, where: str) -> dict[str, Any]:
    """The metadata in ``text`` as a dict (keys as written), checked against ``CheckpointMeta``."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"invalid JSON ({e})", where=where) from None
    if not isinstance(data, dict):
        raise DataError("expected a JSON object", where=where)
    _check(data, where)
    return data


def _check(data: dict[str, Any], where: str) -> None:
    """Raise a one-line DataError naming the first known field of ``data`` of the wrong type."""
    try:
        CheckpointMeta.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise DataError(f"field '{field}': {err['msg']}", where=where) from None


def read_meta(model_dir: Path) -> dict[str, Any]:
    """The checkpoint's metadata, or {} when it has none."""
    path = Path(model_dir) / META_FILE
    if not path.exists():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"invalid JSON ({e})", where=str(path)) from None
    return parse_meta(text, str(path))


def write_meta(model_dir: Path, meta: dict[str, Any]) -> None:
    """Write ``termcorpus.json`` (checked; sorted keys, so the same metadata gives the same bytes)."""
    from termcorpus.records import write_json

    path = Path(model_dir) / META_FILE
    _check(meta, str(path))
    write_json(path, meta)


def update_meta(model_dir: Path, **fields: Any) -> None:
    """Add or replace keys of the checkpoint's metadata (e.g. its MLflow run and version)."""
    write_meta(model_dir, {**read_meta(model_dir), **fields})


__all__ = ["META_FILE", "META_SCHEMA", "CheckpointMeta", "parse_meta", "read_meta", "update_meta", "write_meta"]
