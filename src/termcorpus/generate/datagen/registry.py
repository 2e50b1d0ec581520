"""The generators by name, and the call that converts a seed's string arguments by annotation."""

from __future__ import annotations

import inspect
import random
from typing import Callable, Mapping

from termcorpus.generate.datagen.deps import (
    gen_constraint_pair, gen_lock_pair, gen_modules, gen_package_json, gen_pip_list, gen_py_imports,
    gen_pyproject, gen_req_commented, gen_req_conflict, gen_req_pair, gen_requirements, gen_versions,
)
from termcorpus.generate.datagen.files import (
    gen_checksums, gen_dir_pair, gen_dup_tree, gen_encoded, gen_manifest, gen_sized_tree, gen_spaced_names,
    gen_tree,
)
from termcorpus.generate.datagen.logs import gen_access_log, gen_auth_log, gen_log, gen_passwd
from termcorpus.generate.datagen.security import (
    gen_attack_log, gen_cards, gen_domains, gen_dotenv, gen_jwt, gen_listeners, gen_passwd_uid0,
    gen_passwords, gen_rot13, gen_shadow, gen_sudoers,
)
from termcorpus.generate.datagen.software import gen_py_crash, gen_py_syntax, gen_pycode
from termcorpus.generate.datagen.tables import (
    gen_csv, gen_decimals, gen_matrix, gen_numbers, gen_records, gen_signal, gen_sql, gen_tally,
    gen_xml_items, gen_xy,
)
from termcorpus.generate.datagen.text import (
    gen_emails, gen_join_pair, gen_kv, gen_lines, gen_messy, gen_word_sets,
)


GENERATORS: dict[str, Callable[..., object]] = {
    "lines": gen_lines,
    "numbers": gen_numbers,
    "decimals": gen_decimals,
    "csv": gen_csv,
    "sql": gen_sql,
    "records": gen_records,
    "log": gen_log,
    "access_log": gen_access_log,
    "auth_log": gen_auth_log,
    "kv": gen_kv,
    "requirements": gen_requirements,
    "req_pair": gen_req_pair,
    "passwd": gen_passwd,
    "matrix": gen_matrix,
    "xy": gen_xy,
    "tree": gen_tree,
    "emails": gen_emails,
    "checksums": gen_checksums,
    "signal": gen_signal,
    "join_pair": gen_join_pair,
    "messy": gen_messy,
    "py_syntax": gen_py_syntax,
    "manifest": gen_manifest,
    "spaced_names": gen_spaced_names,
    "py_crash": gen_py_crash,
    "xml_items": gen_xml_items,
    "word_sets": gen_word_sets,
    "tally": gen_tally,
    "encoded": gen_encoded,
    "sized_tree": gen_sized_tree,
    "dup_tree": gen_dup_tree,
    "dir_pair": gen_dir_pair,
    "modules": gen_modules,
    "py_imports": gen_py_imports,
    "req_conflict": gen_req_conflict,
    "lock_pair": gen_lock_pair,
    "versions": gen_versions,
    "pyproject": gen_pyproject,
    "package_json": gen_package_json,
    "passwords": gen_passwords,
    "jwt": gen_jwt,
    "rot13": gen_rot13,
    "shadow": gen_shadow,
    "pip_list": gen_pip_list,
    "req_commented": gen_req_commented,
    "constraint_pair": gen_constraint_pair,
    "listeners": gen_listeners,
    "sudoers": gen_sudoers,
    "passwd_uid0": gen_passwd_uid0,
    "dotenv": gen_dotenv,
    "attack_log": gen_attack_log,
    "cards": gen_cards,
    "domains": gen_domains,
    "pycode": gen_pycode,
}


def generator_params(name: str) -> dict[str, inspect.Parameter]:
    """The keyword arguments a generator accepts (``rng``/``avoid`` are supplied by the caller)."""
    sig = inspect.signature(GENERATORS[name])
    return {k: p for k, p in sig.parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}


_PARAMS_CACHE: dict[str, tuple[dict[str, inspect.Parameter], bool]] = {}


def _converted(name: str, args: Mapping[str, str]) -> dict[str, object]:
    if name not in _PARAMS_CACHE:
        fn = GENERATORS[name]
        _PARAMS_CACHE[name] = (generator_params(name), "avoid" in inspect.signature(fn).parameters)
    params, _ = _PARAMS_CACHE[name]
    out: dict[str, object] = {}
    for key, raw in args.items():
        if key not in params:
            raise ValueError(f"unknown argument {key!r}; {name} takes {', '.join(params)}")
        ann = params[key].annotation
        if ann in (int, "int"):
            try:
                out[key] = int(raw)
            except ValueError:
                raise ValueError(f"argument {key!r} must be an integer, got {raw!r}") from None
        elif ann in (bool, "bool"):
            if raw not in ("true", "false"):
                raise ValueError(f"argument {key!r} must be true or false, got {raw!r}")
            out[key] = raw == "true"
        elif ann in (list, "list"):
            out[key] = [x.strip() for x in raw.split(",")]
        else:
            out[key] = raw
    missing = [k for k, p in params.items() if p.default is inspect.Parameter.empty and k not in out]
    if missing:
        raise ValueError(f"missing argument {missing[0]!r} of generator {name}")
    return out


def run_generator(name: str, args: Mapping[str, str], rng: random.Random, avoid: frozenset[str]) -> str | dict[str, str]:
    """Call generator ``name`` with string ``args``; a bad argument raises ValueError (one line)."""
    kwargs = _converted(name, args)
    fn = GENERATORS[name]
    if _PARAMS_CACHE[name][1]:
        return fn(rng, avoid, **kwargs)  # type: ignore[return-value]
    return fn(rng, **kwargs)  # type: ignore[return-value]
