"""Typed params: one pydantic dataclass per params.yaml section, read once at each stage's entry.

The models are the one source of every key's default (equal to params.yaml's value, checked by
tests/test_params.py), help text (``description``) and bounds (``ge`` / ``le``, ``Literal``
choices). Validation is pydantic's, in strict mode (no "3" for 3, no True for 1; an int is
widened to a float); a wrong key, type or range stops with one line naming
``params.yaml:section.key``. They are pydantic *dataclasses*, so ``dataclasses.replace`` /
``asdict`` keep working (and ``replace`` re-validates).
"""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.dataclasses import dataclass

from termcorpus.errors import ConfigError
from termcorpus.records import DOMAINS

T = TypeVar("T")

_CONFIG = ConfigDict(strict=True, extra="forbid")
Domain = Literal[DOMAINS]


@dataclass(config=_CONFIG)
class _Section:
    """Base of the section models: a bad value, also passed to the constructor in code, is a
    ConfigError naming ``section.key`` (never a raw pydantic ValidationError)."""

    @model_validator(mode="wrap")
    @classmethod
    def _name_the_key(cls, data: Any, handler: Any) -> Any:
        try:
            return handler(data)
        except ValidationError as e:
            raise ConfigError(_one_line(_SECTION_OF[cls], cls, e.errors()[0]), where="params.yaml") from None


def _default_adapters() -> list[AdapterSource]:
    return [AdapterSource(path="data/adapters/nl2bash_sample.jsonl", kind="nl2bash"),
            AdapterSource(path="data/adapters/programs_sample.jsonl", kind="program")]


@dataclass(config=_CONFIG)
class AdapterSource:
    """One dataset-adapter source of ``seed.adapters`` (tasks/adapters.py)."""

    path: str = Field(min_length=1, description="Local JSONL or Parquet file, a saved `datasets` directory, or a hub id (repo-relative paths).")
    kind: Literal["nl2bash", "program"] = Field("nl2bash", description="nl2bash: natural language -> shell pairs with starting files; program: a "
                             "program to write in /app, checked by unit tests.")
    format: Literal["", "jsonl", "parquet", "datasets", "hub"] = Field("", description="jsonl, parquet, datasets (save_to_disk dir) or hub; empty: from the path.")
    domain: Literal[("", *DOMAINS)] = Field("", description="Domain of the tasks when a record names none (empty: the kind's default).")


@dataclass(config=_CONFIG)
class SeedParams(_Section):
    strict: bool = Field(True, description="Stop on the first malformed seed or skill file instead of skipping it.")
    adapters: list[AdapterSource] = Field(default_factory=_default_adapters, description="Dataset adapter sources (the released corpus's `dataset_adapters` subset): a list of "
                           "{path, kind, format, domain}; each record becomes one task.")

    @field_validator("adapters", mode="before")
    @classmethod
    def _typed_adapters(cls, value: Any) -> Any:
        # Each entry is checked like a section, so an error names its index and key.
        if not isinstance(value, list):
            return value
        return [a if isinstance(a, AdapterSource) else parse_section(f"seed.adapters[{i}]", a, AdapterSource)
                for i, a in enumerate(value)]


@dataclass(config=_CONFIG)
class GenerateParams(_Section):
    seed: int = Field(1234, description="Random seed of the mutators; same seed, same bytes.")
    n_variants: int = Field(6, description="Training variants generated per seed task.", ge=1, le=100000)
    n_heldout_variants: int = Field(1, description="Fresh variants per family kept aside for evaluation.", ge=0, le=1000)
    skill_tasks: int = Field(1100, description="Skill-composed training tasks to generate (0 turns skill-based generation off).", ge=0)
    heldout_compositions: int = Field(80, description="Held-out composed tasks whose ordered skill sequence never occurs in training "
                                      "(eval_set heldout_compositions; needs skill_tasks > 0).", ge=0)
    heldout_novel_pairs: int = Field(40, description="Held-out composed tasks none of whose adjacent skill pairs occurs in training "
                                     "(eval_set heldout_compositions_novel_pairs).", ge=0)
    reserved_pair_pct: int = Field(10, description="Percent of adjacent skill pairs kept out of training chains (chosen by a hash of "
                                   "the pair and seed) so held-out compositions can use them.", ge=0, le=90)
    skill_singles: int = Field(0, description="One-skill training tasks: a composition's opening step alone ('1) <step>.'), "
                               "drawn after the held-out composition sets (which stay the same); family = the skill id.", ge=0)
    min_skills: int = Field(3, description="Fewest skills composed into one skill-based task.", ge=1, le=10)
    max_skills: int = Field(5, description="Most skills composed into one skill-based task.", ge=1, le=10)
    domains: list[Domain] = Field(default_factory=list, description="Restrict generation to these domains (empty: all).")
    max_seeds: int = Field(0, description="Use only N seeds, taken round-robin over the domains (0: all); for quick runs.", ge=0)
    heldout_families: int = Field(12, description="Seed families held out whole for the heldout_families set (chosen by a stable hash "
                                   "of the seed, round-robin over domains); none of their variants is in tasks.jsonl.", ge=0)
    heldout_family_variants: int = Field(6, description="Variants generated per held-out family.", ge=1, le=1000)
    novel_names: int = Field(80, description="Tasks of the novel_names set: variants of trained templates whose every name slot is a "
                             "made-up word no part of which occurs in any training text (evaluate keeps those whose family is in "
                             "the corpus train split, ~85% of them).", ge=0)
    seed_tasks: bool = Field(True, description="Put seed-based variants in the training pool (false + skill_tasks > 0: a skill-only "
                              "corpus; held-out variants are still made).")
    custom_skills: bool = Field(True, description="Render the task template of every custom skill (a skill file entry with "
                                  "`template:`, docs/SKILLS.md) like a seed, as family custom-<skill id>.")
    llm_base_url: str = Field("", description="OpenAI-compatible endpoint for LLM task synthesis, up to /v1 (empty: synthesis off).")
    llm_model: str = Field("", description="Model name sent to the synthesis endpoint (exactly as the server names it).")
    llm_tasks: int = Field(0, description="LLM-synthesized tasks to request (each kept only if oracle passes and null fails).", ge=0)
    llm_api_key_env: str = Field("OPENAI_API_KEY", description="Environment variable holding the synthesis endpoint's API key (unset: none sent).")
    llm_temperature: float = Field(0.0, description="Sampling temperature of synthesis (0: reproducible with a deterministic server).", ge=0.0, le=2.0)
    llm_max_tokens: int = Field(1024, description="Longest synthesized task answer, in tokens.", ge=16)


@dataclass(config=_CONFIG)
class ExecuteParams(_Section):
    teacher: Literal["oracle", "openai"] = Field("oracle", description="Teacher agent that solves the tasks.")
    sandbox: Literal["bwrap", "docker", "local"] = Field("bwrap", description="Sandbox backend.")
    workers: int = Field(4, description="Parallel worker processes (execute and the gate). Episodes wait on sandbox "
                         "start-up and teardown more than on the CPU: on 2 cores, 400 tasks executed at 11.7 "
                         "tasks/s with 2 workers, 19.8 with 4, 24.6 with 6; the gate, CPU-bound, at 13.7 / 14.6 / "
                         "12.8 (bench/RESULTS.md, \"workers\").", ge=1, le=256)
    max_turns: int = Field(16, description="Turns before an episode is cut off.", ge=1, le=200)
    timeout_sec: float = Field(20.0, description="Per-command time limit in seconds.", ge=0.1, le=3600)
    memory_mb: int = Field(1024, description="Per-task memory limit in MiB.", ge=32, le=65536)
    max_procs: int = Field(256, description="Per-task process limit.", ge=8, le=100000)
    max_output_bytes: int = Field(8192, description="Output kept per command; the rest is cut with a marker.", ge=256)
    verify_in_place: bool = Field(True, description="bwrap: run the verifier in the agent's own sandbox once every agent process is "
                                    "stopped (as Harbor does in the agent's container); false: a new sandbox over the same /app.")
    prompt_style: Literal["compact", "terminus2"] = Field("compact", description="Prompt of the first user message.")
    gate: bool = Field(True, description="Validity gate on every training and held-out task, in the configured sandbox: the oracle "
                         "passes, the null and shortcut agents fail. Failing training tasks leave the trajectories; "
                         "failing held-out tasks are recorded in gate.jsonl and skipped by evaluate.")
    executor: Literal["local", "ray"] = Field("local", description="Where episodes run: 'local' (process pool of `workers`) or 'ray' (a Ray cluster; "
                               "same bytes).")
    ray_address: str = Field("", description="Ray cluster to use with executor 'ray' ('ray://head:10001', 'auto'); empty: start a "
                             "local one with `workers` CPUs.")
    teacher_base_url: str = Field("", description="OpenAI-compatible endpoint of teacher 'openai', up to /v1 (e.g. http://127.0.0.1:8000/v1).")
    teacher_model: str = Field("", description="Model name sent to the teacher endpoint (exactly as the server names it).")
    teacher_api_key_env: str = Field("OPENAI_API_KEY", description="Environment variable holding the teacher's API key (unset: none sent).")
    teacher_max_retries: int = Field(4, description="Retries (exponential backoff) on connection errors, 429 and 5xx before giving up.", ge=0, le=20)
    teacher_temperature: float = Field(0.0, description="Sampling temperature of the teacher (0: greedy).", ge=0.0, le=2.0)
    teacher_max_tokens: int = Field(512, description="Most tokens per teacher turn.", ge=16)
    teacher_timeout_sec: float = Field(120.0, description="Time limit of one teacher request in seconds.", ge=1.0, le=3600)
    teacher_price_prompt_per_1k: float = Field(0.0, description="Price of 1000 prompt tokens (USD), for the cost estimate.", ge=0.0)
    teacher_price_completion_per_1k: float = Field(0.0, description="Price of 1000 completion tokens (USD), for the cost estimate.", ge=0.0)


@dataclass(config=_CONFIG)
class ValidateParams(_Section):
    max_record_chars: int = Field(60000, description="Longest allowed trajectory (characters of all messages).", ge=100)
    min_pass_rate: float = Field(0.5, description="Smallest share of passing trajectories accepted.", ge=0.0, le=1.0)
    max_turns: int = Field(64, description="Most turns allowed in one trajectory.", ge=1, le=10000)


@dataclass(config=_CONFIG)
class BalanceParams(_Section):
    seed: int = Field(0, description="Random seed of the split and the caps.")
    val_fraction: float = Field(0.15, description="Share of task families held out for validation/evaluation.", ge=0.0, le=0.9)
    per_domain_cap: int = Field(0, description="Most trajectories kept per domain (0: no cap).", ge=0)
    filter_failed: bool = Field(True, description="Drop trajectories whose verifier did not pass.")
    curriculum: bool = Field(True, description="Order the training split from single-step to multi-step.")
    fraction: float = Field(1.0, description="Share of each training family's trajectories kept (seeded, at least one per family); "
                             "for data-scale ablations.", ge=0.001, le=1.0)
    near_dup: bool = Field(True, description="Drop near-duplicate trajectories (MinHash LSH over instruction + keystrokes, digits "
                             "and whitespace normalized; different slot values never match); keep the first by id.")
    near_dup_threshold: float = Field(0.9, description="Jaccard similarity of word 3-gram shingles at which a trajectory is a "
                                       "near duplicate (LSH proposes, the exact similarity decides).", ge=0.05, le=1.0)
    near_dup_num_perm: int = Field(64, description="MinHash permutations of the LSH candidate search (more: fewer missed pairs, "
                                   "slower).", ge=8, le=1024)
    decontam_ngram: int = Field(14, description="Drop training trajectories sharing n-grams of whitespace tokens that reproduce a "
                                "held-out task's or validation trajectory's slot values (0: off).", ge=0, le=256)
    per_skill_cap: int = Field(0, description="Most training trajectories per skill; one counts for each of its skills (0: no cap).",
                           ge=0)
    upsample_min: int = Field(0, description="Repeat training trajectories of rarer skills until each skill has this many; "
                             "copies get ids '<id>#r1', ... (0: off).", ge=0)


@dataclass(config=_CONFIG)
class TrainParams(_Section):
    model: str = Field("tiny", description="Base model: 'tiny' (from scratch), 'smollm2-135m' (pretrained, offline), a local checkpoint path or a hub id (e.g. Qwen/Qwen3-8B).")
    seed: int = Field(0, description="Random seed of initialisation and batch order.")
    vocab_size: int = Field(1024, description="Tokenizer vocabulary size (trained on the corpus).", ge=300, le=200000)
    hidden_size: int = Field(128, description="Hidden size of the tiny preset.", ge=16)
    num_layers: int = Field(2, description="Transformer layers of the tiny preset.", ge=1)
    num_heads: int = Field(4, description="Attention heads of the tiny preset.", ge=1)
    num_kv_heads: int = Field(2, description="Key/value heads of the tiny preset.", ge=1)
    head_dim: int = Field(32, description="Head dimension of the tiny preset.", ge=8)
    intermediate_size: int = Field(768, description="MLP width of the tiny preset.", ge=16)
    max_seq_len: int = Field(1536, description="Longest training sequence in tokens.", ge=32, le=131072)
    batch_size: int = Field(2, description="Sequences per optimizer step per process.", ge=1)
    grad_accum: int = Field(1, description="Gradient accumulation steps.", ge=1)
    max_steps: int = Field(2000, description="Optimizer steps.", ge=1)
    lr: float = Field(3e-3, description="Peak learning rate (cosine decay).", ge=0.0, le=1.0)
    warmup_steps: int = Field(50, description="Linear warm-up steps.", ge=0)
    weight_decay: float = Field(0.1, description="AdamW weight decay on every matrix, embeddings included (not the norms).", ge=0.0)
    bf16: bool = Field(False, description="Use bf16 autocast.")
    log_every: int = Field(25, description="Steps between loss log points.", ge=1)
    packing: bool = Field(True, description="Pack episodes into each sequence (position ids restart per episode: block-diagonal attention) instead of padding each one.")
    fresh_names: float = Field(0.0, description="Share of training draws whose name-like slot values are replaced by fresh names "
                           "(the same episode, renamed everywhere): teaches copying names instead of memorising them.",
                           ge=0.0, le=1.0)
    subsets: list[str] = Field(default_factory=list, description="Corpus subsets the train split keeps (seed_based, skill_based, "
                               "dataset_adapters; empty: all). Same steps and batch whatever the subsets, so the paper's "
                               "seed-only / skill-only / mixed arms train on the same token budget; validation stays whole.")
    name_codec: bool = Field(True, description="Tiny model only: the chats' names (words that are mostly slot values in training, "
                             "and every word training never saw) become placeholders <n0>, <n1>... by first appearance; "
                             "the agent maps them back (train/names.py).")
    copy_episodes: float = Field(0.0, description="Per training chat, the chance that a copy episode made from it follows it in the "
                                 "train split: a short synthetic chat whose task is to write one of its slot values to a file "
                                 "(train/copy_episodes.py). Same steps and rows, so they take the place of real episodes.",
                                 ge=0.0, le=1.0)
    splice_episodes: float = Field(0.0, description="Per composed training chat, how many splice episodes cut from it follow it "
                                   "(a fraction: the chance of one): its steps before a random cut with their real turns, "
                                   "another training chain's step and reply at the cut, other chains' step words after it "
                                   "(train/splice.py). Same steps and rows, so they take the place of real episodes.",
                                   ge=0.0, le=4.0)
    prompt_loss: bool = Field(False, description="Train on every token of a chat (instructions and observations too), not only "
                              "the assistant's; the validation loss stays assistant-only (docs/EXPERIMENTS.md, \"loss on the prompt\").")
    register_model: bool = Field(True, description="Register the checkpoint as an MLflow model version.")
    save_every: int = Field(200, description="Steps between resumable step checkpoints in resume_dir (0: none, only the final model).", ge=0)
    keep_checkpoints: int = Field(2, description="Newest step checkpoints kept in resume_dir.", ge=1)
    resume_dir: str = Field("models/.resume/terminal-agent", description="Directory of step checkpoints a killed run resumes from; not a DVC out, so 'dvc repro' keeps it ('': no step checkpoints).",
    )


@dataclass(config=_CONFIG)
class EvaluateParams(_Section):
    max_tasks: int = Field(60, description="Held-out tasks per evaluation set (0: all).", ge=0)
    max_turns: int = Field(10, description="Turns per episode.", ge=1, le=100)
    max_parse_errors: int = Field(1, description="An episode ends after this many unparseable replies in a row, for every agent "
                                 "(0: never); counted as parse_ended.", ge=0, le=100)
    max_new_tokens: int = Field(320, description="Tokens generated per turn.", ge=8)
    temperature: float = Field(0.0, description="Sampling temperature (0: greedy).", ge=0.0, le=5.0)
    batch_size: int = Field(16, description="Episodes stepped together in one generate call (16 ran the default evaluation 12% faster than 32 and 3x faster than 96 on 2 CPU cores: long padded rows cost more than the calls saved).", ge=1)
    seed: int = Field(0, description="Random seed for task sampling and decoding.")
    sandbox_workers: int = Field(4, description="Threads that open, step and verify the batch's episodes in their sandboxes "
                                 "in parallel (they wait on sandboxed processes, not on this CPU; generation "
                                 "never overlaps them). Results do not depend on it.", ge=1, le=64)
    threads: int = Field(0, description="Torch CPU threads for generation (0: torch's default, one per core). Generation "
                         "and the sandbox alternate, so generation may use every core: 2 threads ran evaluation "
                         "21% faster than 1 on 2 cores, with identical results.", ge=0)
    trials: int = Field(1, description="Runs of each task when temperature > 0 (>= 3 recommended): success is the mean over runs "
                       "with its standard error; each run samples with its own seed. Greedy decoding runs once.",
                    ge=1, le=100)
    extra_tasks: list[str] = Field(default_factory=list, description="Harbor / Terminal-Bench task directories (or parents of many) evaluated as set "
                              "'extra'; paths relative to the repo root. Add them to the evaluate stage's deps in "
                              "dvc.yaml for DVC to rerun on their change.")


@dataclass(config=_CONFIG)
class TrackingParams(_Section):
    tracking_uri: str = Field("sqlite:///mlflow.db", description="MLflow tracking URI (MLFLOW_TRACKING_URI overrides).")
    experiment: str = Field("termcorpus", description="MLflow experiment name.")
    registered_model: str = Field("terminal-agent", description="Registered model name.")


SECTIONS: dict[str, type] = {
    "seed": SeedParams,
    "generate": GenerateParams,
    "execute": ExecuteParams,
    "validate": ValidateParams,
    "balance": BalanceParams,
    "train": TrainParams,
    "evaluate": EvaluateParams,
    "mlflow": TrackingParams,
}
_SECTION_OF = {cls: name for name, cls in SECTIONS.items()}


def describe(cls: type) -> dict[str, str]:
    """Each key of a params model with its help text, in declaration order."""
    return {name: f.description or "" for name, f in cls.__pydantic_fields__.items()}


def _choices(tp: Any) -> list[Any] | None:
    if typing.get_origin(tp) is list:
        tp = typing.get_args(tp)[0]
    return list(typing.get_args(tp)) if typing.get_origin(tp) is Literal else None


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    return getattr(origin or tp, "__name__", str(tp))


def _one_line(name: str, cls: type, error: dict[str, Any]) -> str:
    """The first pydantic error of a section as the one-line message that names its key."""
    loc = error["loc"]
    key = str(loc[0]) if loc else "?"
    tp = cls.__pydantic_fields__[key].annotation if key in cls.__pydantic_fields__ else None
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    where = f"'{name}.{key}'"
    if kind == "unexpected_keyword_argument":
        return f"unknown key '{name}.{key}'; known keys: {', '.join(sorted(cls.__pydantic_fields__))}"
    if kind in ("missing_argument", "missing", "string_too_short"):
        return f"{where} is required"
    if kind == "literal_error":
        if len(loc) > 1:  # an item of a list of choices
            return f"{where} items must be among {_choices(tp)}, got {value!r}"
        return f"{where} must be one of {_choices(tp)}, got {value!r}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"{where} must be >= {ctx.get('ge', ctx.get('gt'))}, got {value!r}"
    if kind in ("less_than_equal", "less_than"):
        return f"{where} must be <= {ctx.get('le', ctx.get('lt'))}, got {value!r}"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        if len(loc) > 1 and typing.get_origin(tp) is list:  # an item of a list
            where, tp = f"'{name}.{key}[{loc[1]}]'", typing.get_args(tp)[0]
        return f"{where} must be {_type_name(tp)}, got {type(value).__name__} {value!r}"
    return f"{where}: {error['msg']}, got {value!r}"


def parse_section(name: str, raw: Any, cls: type[T], where: str = "params.yaml") -> T:
    """Build the params model ``cls`` from a mapping, naming the key on any problem."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"section '{name}' must be a mapping, got {type(raw).__name__}", where=where)
    odd = sorted(str(k) for k in raw if not isinstance(k, str))
    if odd:
        raise ConfigError(f"unknown key '{name}.{odd[0]}'; known keys: {', '.join(sorted(cls.__pydantic_fields__))}",
                          where=where)
    try:
        return cls(**raw)
    except ValidationError as e:
        raise ConfigError(_one_line(name, cls, e.errors()[0]), where=where) from None
    except ConfigError as e:  # a section model names its own key; this names the file
        raise ConfigError(str(e).removeprefix(f"{e.where}: "), where=where) from None


class _ParamsLoader(yaml.SafeLoader):
    """SafeLoader that also reads YAML 1.2 exponent floats: PyYAML (YAML 1.1) takes '1e-05' for a
    string, and that is how `dvc exp run -S train.lr=1e-5` writes a small float back."""


_ParamsLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+$"), list("-+0123456789.")
)


def read_params_file(path: str | Path = "params.yaml") -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise ConfigError("file not found", where=str(path))
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_ParamsLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        loc = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"invalid YAML ({getattr(e, 'problem', e)})", where=loc)
    if not isinstance(data, dict):
        raise ConfigError("must be a mapping of sections", where=str(path))
    return data


def load_section(name: str, path: str | Path = "params.yaml") -> Any:
    """Read one section of params.yaml as its typed dataclass."""
    data = read_params_file(path)
    return parse_section(name, data.get(name), SECTIONS[name], where=str(path))


def load_all(path: str | Path = "params.yaml") -> dict[str, Any]:
    data = read_params_file(path)
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"unknown section '{unknown[0]}'; known: {', '.join(SECTIONS)}", where=str(path))
    return {name: parse_section(name, data.get(name), cls, where=str(path)) for name, cls in SECTIONS.items()}


def as_dict(obj: Any) -> dict[str, Any]:
    return dataclasses.asdict(obj)
