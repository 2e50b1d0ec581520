"""Typed params: one dataclass per params.yaml section, read once at each stage's entry.

Each field's ``metadata`` carries its help text and optional bounds (``min``, ``max``,
``choices``). A wrong key, type or range stops with one line naming ``params.yaml:section.key``.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from termcorpus.errors import ConfigError
from termcorpus.records import DOMAINS

T = TypeVar("T")


def p(default: Any, help: str, **bounds: Any) -> Any:
    """A params field with help text and bounds (min / max / choices)."""
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata={"help": help, **bounds})
    return field(default=default, metadata={"help": help, **bounds})


@dataclass
class AdapterSource:
    """One dataset-adapter source of ``seed.adapters`` (tasks/adapters.py)."""

    path: str = p("", "Local JSONL or Parquet file, a saved `datasets` directory, or a hub id (repo-relative paths).")
    kind: str = p("nl2bash", "nl2bash: natural language -> shell pairs with starting files; program: a "
                             "program to write in /app, checked by unit tests.", choices=["nl2bash", "program"])
    format: str = p("", "jsonl, parquet, datasets (save_to_disk dir) or hub; empty: from the path.",
                    choices=["", "jsonl", "parquet", "datasets", "hub"])
    domain: str = p("", "Domain of the tasks when a record names none (empty: the kind's default).",
                    choices=["", *DOMAINS])


@dataclass
class SeedParams:
    strict: bool = p(True, "Stop on the first malformed seed or skill file instead of skipping it.")
    adapters: list = p([], "Dataset adapter sources (the released corpus's `dataset_adapters` subset): a list of "
                           "{path, kind, format, domain}; each record becomes one task.")

    def __post_init__(self) -> None:
        # Typed entries: each item is checked like a section, so an error names its index and key.
        self.adapters = [
            a if isinstance(a, AdapterSource) else parse_section(f"seed.adapters[{i}]", a, AdapterSource)
            for i, a in enumerate(self.adapters)
        ]
        for i, a in enumerate(self.adapters):
            if not a.path:
                raise ConfigError(f"'seed.adapters[{i}].path' is required", where="params.yaml")


@dataclass
class GenerateParams:
    seed: int = p(1234, "Random seed of the mutators; same seed, same bytes.")
    n_variants: int = p(12, "Training variants generated per seed task.", min=1, max=100000)
    n_heldout_variants: int = p(2, "Fresh variants per family kept aside for evaluation.", min=0, max=1000)
    skill_tasks: int = p(3000, "Skill-composed training tasks to generate (0 turns skill-based generation off).", min=0)
    heldout_compositions: int = p(0, "Held-out composed tasks whose ordered skill sequence never occurs in training "
                                      "(eval_set heldout_compositions; needs skill_tasks > 0).", min=0)
    heldout_novel_pairs: int = p(0, "Held-out composed tasks none of whose adjacent skill pairs occurs in training "
                                     "(eval_set heldout_compositions_novel_pairs).", min=0)
    reserved_pair_pct: int = p(10, "Percent of adjacent skill pairs kept out of training chains (chosen by a hash of "
                                   "the pair and seed) so held-out compositions can use them.", min=0, max=90)
    min_skills: int = p(3, "Fewest skills composed into one skill-based task.", min=1, max=10)
    max_skills: int = p(5, "Most skills composed into one skill-based task.", min=1, max=10)
    domains: list = p([], "Restrict generation to these domains (empty: all).", choices=list(DOMAINS))
    max_seeds: int = p(0, "Use only N seeds, taken round-robin over the domains (0: all); for quick runs.", min=0)
    heldout_families: int = p(12, "Seed families held out whole for the heldout_families set (chosen by a stable hash "
                                   "of the seed, round-robin over domains); none of their variants is in tasks.jsonl.", min=0)
    heldout_family_variants: int = p(6, "Variants generated per held-out family.", min=1, max=1000)
    novel_names: int = p(80, "Tasks of the novel_names set: variants of trained templates whose every name slot is a "
                             "made-up word no part of which occurs in any training text (evaluate keeps those whose family is in "
                             "the corpus train split, ~85% of them).", min=0)
    seed_tasks: bool = p(True, "Put seed-based variants in the training pool (false + skill_tasks > 0: a skill-only "
                              "corpus; held-out variants are still made).")
    custom_skills: bool = p(True, "Render the task template of every custom skill (a skill file entry with "
                                  "`template:`, docs/SKILLS.md) like a seed, as family custom-<skill id>.")
    llm_base_url: str = p("", "OpenAI-compatible endpoint for LLM task synthesis, up to /v1 (empty: synthesis off).")
    llm_model: str = p("", "Model name sent to the synthesis endpoint (exactly as the server names it).")
    llm_tasks: int = p(0, "LLM-synthesized tasks to request (each kept only if oracle passes and null fails).", min=0)
    llm_api_key_env: str = p("OPENAI_API_KEY", "Environment variable holding the synthesis endpoint's API key (unset: none sent).")
    llm_temperature: float = p(0.0, "Sampling temperature of synthesis (0: reproducible with a deterministic server).", min=0.0, max=2.0)
    llm_max_tokens: int = p(1024, "Longest synthesized task answer, in tokens.", min=16)


@dataclass
class ExecuteParams:
    teacher: str = p("oracle", "Teacher agent that solves the tasks.", choices=["oracle", "openai"])
    sandbox: str = p("bwrap", "Sandbox backend.", choices=["bwrap", "docker", "local"])
    workers: int = p(2, "Parallel worker processes.", min=1, max=256)
    max_turns: int = p(16, "Turns before an episode is cut off.", min=1, max=200)
    timeout_sec: float = p(20.0, "Per-command time limit in seconds.", min=0.1, max=3600)
    memory_mb: int = p(1024, "Per-task memory limit in MiB.", min=32, max=65536)
    max_procs: int = p(256, "Per-task process limit.", min=8, max=100000)
    max_output_bytes: int = p(8192, "Output kept per command; the rest is cut with a marker.", min=256)
    verify_in_place: bool = p(True, "bwrap: run the verifier in the agent's own sandbox once every agent process is "
                                    "stopped (as Harbor does in the agent's container); false: a new sandbox over the same /app.")
    prompt_style: str = p("compact", "Prompt of the first user message.", choices=["compact", "terminus2"])
    gate: bool = p(True, "Validity gate on every training and held-out task, in the configured sandbox: the oracle "
                         "passes, the null and shortcut agents fail. Failing training tasks leave the trajectories; "
                         "failing held-out tasks are recorded in gate.jsonl and skipped by evaluate.")
    executor: str = p("local", "Where episodes run: 'local' (process pool of `workers`) or 'ray' (a Ray cluster; "
                               "same bytes).", choices=["local", "ray"])
    ray_address: str = p("", "Ray cluster to use with executor 'ray' ('ray://head:10001', 'auto'); empty: start a "
                             "local one with `workers` CPUs.")
    teacher_base_url: str = p("", "OpenAI-compatible endpoint of teacher 'openai', up to /v1 (e.g. http://127.0.0.1:8000/v1).")
    teacher_model: str = p("", "Model name sent to the teacher endpoint (exactly as the server names it).")
    teacher_api_key_env: str = p("OPENAI_API_KEY", "Environment variable holding the teacher's API key (unset: none sent).")
    teacher_max_retries: int = p(4, "Retries (exponential backoff) on connection errors, 429 and 5xx before giving up.", min=0, max=20)
    teacher_temperature: float = p(0.0, "Sampling temperature of the teacher (0: greedy).", min=0.0, max=2.0)
    teacher_max_tokens: int = p(512, "Most tokens per teacher turn.", min=16)
    teacher_timeout_sec: float = p(120.0, "Time limit of one teacher request in seconds.", min=1.0, max=3600)
    teacher_price_prompt_per_1k: float = p(0.0, "Price of 1000 prompt tokens (USD), for the cost estimate.", min=0.0)
    teacher_price_completion_per_1k: float = p(0.0, "Price of 1000 completion tokens (USD), for the cost estimate.", min=0.0)


@dataclass
class ValidateParams:
    max_record_chars: int = p(60000, "Longest allowed trajectory (characters of all messages).", min=100)
    min_pass_rate: float = p(0.5, "Smallest share of passing trajectories accepted.", min=0.0, max=1.0)
    max_turns: int = p(64, "Most turns allowed in one trajectory.", min=1, max=10000)


@dataclass
class BalanceParams:
    seed: int = p(0, "Random seed of the split and the caps.")
    val_fraction: float = p(0.15, "Share of task families held out for validation/evaluation.", min=0.0, max=0.9)
    per_domain_cap: int = p(0, "Most trajectories kept per domain (0: no cap).", min=0)
    filter_failed: bool = p(True, "Drop trajectories whose verifier did not pass.")
    curriculum: bool = p(True, "Order the training split from single-step to multi-step.")
    fraction: float = p(1.0, "Share of each training family's trajectories kept (seeded, at least one per family); "
                             "for data-scale ablations.", min=0.001, max=1.0)
    near_dup: bool = p(True, "Drop near-duplicate trajectories (MinHash LSH over instruction + keystrokes, digits "
                             "and whitespace normalized; different slot values never match); keep the first by id.")
    near_dup_threshold: float = p(0.9, "Jaccard similarity of word 3-gram shingles at which a trajectory is a "
                                       "near duplicate (LSH proposes, the exact similarity decides).", min=0.05, max=1.0)
    near_dup_num_perm: int = p(64, "MinHash permutations of the LSH candidate search (more: fewer missed pairs, "
                                   "slower).", min=8, max=1024)
    decontam_ngram: int = p(14, "Drop training trajectories sharing n-grams of whitespace tokens that reproduce a "
                                "held-out task's or validation trajectory's slot values (0: off).", min=0, max=256)
    per_skill_cap: int = p(0, "Most training trajectories per skill; one counts for each of its skills (0: no cap).",
                           min=0)
    upsample_min: int = p(0, "Repeat training trajectories of rarer skills until each skill has this many; "
                             "copies get ids '<id>#r1', ... (0: off).", min=0)


@dataclass
class TrainParams:
    model: str = p("tiny", "Base model: 'tiny' (from scratch), 'smollm2-135m' (pretrained, offline), a local checkpoint path or a hub id (e.g. Qwen/Qwen3-8B).")
    seed: int = p(0, "Random seed of initialisation and batch order.")
    vocab_size: int = p(512, "Tokenizer vocabulary size (trained on the corpus).", min=300, max=200000)
    hidden_size: int = p(128, "Hidden size of the tiny preset.", min=16)
    num_layers: int = p(4, "Transformer layers of the tiny preset.", min=1)
    num_heads: int = p(4, "Attention heads of the tiny preset.", min=1)
    num_kv_heads: int = p(2, "Key/value heads of the tiny preset.", min=1)
    head_dim: int = p(32, "Head dimension of the tiny preset.", min=8)
    intermediate_size: int = p(384, "MLP width of the tiny preset.", min=16)
    max_seq_len: int = p(512, "Longest training sequence in tokens.", min=32, max=131072)
    batch_size: int = p(4, "Sequences per optimizer step per process.", min=1)
    grad_accum: int = p(1, "Gradient accumulation steps.", min=1)
    max_steps: int = p(2400, "Optimizer steps.", min=1)
    lr: float = p(3e-3, "Peak learning rate (cosine decay).", min=0.0, max=1.0)
    warmup_steps: int = p(50, "Linear warm-up steps.", min=0)
    weight_decay: float = p(0.0, "AdamW weight decay.", min=0.0)
    bf16: bool = p(True, "Use bf16 autocast.")
    log_every: int = p(25, "Steps between loss log points.", min=1)
    packing: bool = p(True, "Pack episodes into each sequence (position ids restart per episode: block-diagonal attention) instead of padding each one.")
    fresh_names: float = p(0.0, "Share of training draws whose name-like slot values are replaced by fresh names "
                           "(the same episode, renamed everywhere): teaches copying names instead of memorising them.",
                           min=0.0, max=1.0)
    register_model: bool = p(True, "Register the checkpoint as an MLflow model version.")
    save_every: int = p(200, "Steps between resumable step checkpoints in resume_dir (0: none, only the final model).", min=0)
    keep_checkpoints: int = p(2, "Newest step checkpoints kept in resume_dir.", min=1)
    resume_dir: str = p(
        "models/.resume/terminal-agent",
        "Directory of step checkpoints a killed run resumes from; not a DVC out, so 'dvc repro' keeps it ('': no step checkpoints).",
    )


@dataclass
class EvaluateParams:
    max_tasks: int = p(60, "Held-out tasks per evaluation set (0: all).", min=0)
    max_turns: int = p(6, "Turns per episode.", min=1, max=100)
    max_parse_errors: int = p(3, "An episode ends after this many unparseable replies in a row, for every agent "
                                 "(0: never); counted as parse_ended.", min=0, max=100)
    max_new_tokens: int = p(320, "Tokens generated per turn.", min=8)
    temperature: float = p(0.0, "Sampling temperature (0: greedy).", min=0.0, max=5.0)
    batch_size: int = p(32, "Episodes stepped together in one generate call.", min=1)
    seed: int = p(0, "Random seed for task sampling and decoding.")
    threads: int = p(1, "Torch CPU threads for generation (0: torch's default); 1 is fastest for a tiny model on shared cores.", min=0)
    trials: int = p(1, "Runs of each task when temperature > 0 (>= 3 recommended): success is the mean over runs "
                       "with its standard error; each run samples with its own seed. Greedy decoding runs once.",
                    min=1, max=100)
    extra_tasks: list = p([], "Harbor / Terminal-Bench task directories (or parents of many) evaluated as set "
                              "'extra'; paths relative to the repo root. Add them to the evaluate stage's deps in "
                              "dvc.yaml for DVC to rerun on their change.")


@dataclass
class TrackingParams:
    tracking_uri: str = p("sqlite:///mlflow.db", "MLflow tracking URI (MLFLOW_TRACKING_URI overrides).")
    experiment: str = p("termcorpus", "MLflow experiment name.")
    registered_model: str = p("terminal-agent", "Registered model name.")


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


def _type_ok(value: Any, tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, a) for a in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is not None:
        return isinstance(value, origin)
    return isinstance(value, tp)


def parse_section(name: str, raw: Any, cls: type[T], where: str = "params.yaml") -> T:
    """Build the dataclass ``cls`` from a mapping, naming the key on any problem."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"section '{name}' must be a mapping, got {type(raw).__name__}", where=where)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown key '{name}.{unknown[0]}'; known keys: {', '.join(sorted(fields))}", where=where
        )
    values: dict[str, Any] = {}
    for key, value in raw.items():
        f, tp = fields[key], hints[key]
        if not _type_ok(value, tp):
            tname = getattr(tp, "__name__", str(tp))
            raise ConfigError(
                f"'{name}.{key}' must be {tname}, got {type(value).__name__} {value!r}", where=where
            )
        if tp is float and isinstance(value, int):
            value = float(value)
        meta = f.metadata
        if "choices" in meta and isinstance(value, list):
            # a list param with choices: every item must be one of them
            bad = [v for v in value if v not in meta["choices"]]
            if bad:
                raise ConfigError(f"'{name}.{key}' items must be among {meta['choices']}, got {bad[0]!r}", where=where)
        elif "choices" in meta and value not in meta["choices"]:
            raise ConfigError(f"'{name}.{key}' must be one of {meta['choices']}, got {value!r}", where=where)
        if "min" in meta and value < meta["min"]:
            raise ConfigError(f"'{name}.{key}' must be >= {meta['min']}, got {value!r}", where=where)
        if "max" in meta and value > meta["max"]:
            raise ConfigError(f"'{name}.{key}' must be <= {meta['max']}, got {value!r}", where=where)
        values[key] = value
    return cls(**values)


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
