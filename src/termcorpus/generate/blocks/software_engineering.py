"""Blocks of the software_engineering domain: write, refactor, test, search and document code;
git, environment variables and a background process stopped with a signal."""

from __future__ import annotations

import json
import re

from termcorpus.generate.blocks.base import (
    Art, Ctx, Derive, NotApplicable, Step, block, fill, out_step, same, same_json, text_of, tree,
)

_LINES = ("rows", "nums", "log", "words", "reqs")


def _ident(c: Ctx) -> str:
    m = c.stem()
    if not m.isidentifier():
        raise NotApplicable("bad module name")
    return m


@block(("nums",), "num")
def code_generation(c: Ctx, a: Art) -> Step:
    xs = [int(x) for x in a.data]
    mod = _ident(c)
    step = out_step(c, a, "num", "write module {{mod}}.py with mean(xs) returning the integer (floor) mean of a list, "
                    "then write mean of the numbers of {{src}} to {{dst}} with it",
                    "printf 'def mean(xs):\\n    return sum(xs) // len(xs)\\n' > {{mod}}.py && "
                    "python3 -c \"import {{mod}}; print({{mod}}.mean([int(x) for x in open('{{src}}')]))\" > {{dst}}",
                    [str(sum(xs) // len(xs))], mod=mod)
    step.checks[f"{mod}.py"] = (f"[ \"$(python3 -c 'import {mod}; print({mod}.mean([2, 5, 9]))' 2>/dev/null)\" = 5 ] "
                                f"|| fail '{mod}.py mean is wrong'")
    return step


@block(("nums",), "num")
def refactoring(c: Ctx, a: Art) -> Step:
    xs = [int(x) for x in a.data]
    lib, main = _ident(c), f"{_ident(c)}.py"
    old, new = c.rng.choice([("calc", "biggest"), ("do_it", "largest"), ("helper", "top_value")])
    files = {f"{lib}.py": f"def {old}(xs):\n    return max(xs)\n",
             main: f"import sys\nfrom {lib} import {old}\n\nprint({old}([int(x) for x in open(sys.argv[1])]))\n"}
    step = out_step(c, a, "num", "rename function {{old}} to {{new}} in {{lib}}.py and {{main}}, then run python3 {{main}} "
                    "{{src}} > {{dst}}", "sed -i 's/\\b{{old}}\\b/{{new}}/g' {{lib}}.py {{main}} && python3 {{main}} {{src}} > {{dst}}",
                    [str(max(xs))], old=old, new=new, lib=lib, main=main)
    step.files.update(files)
    step.checks[main] = (f"! grep -q '\\b{old}\\b' {lib}.py {main} && grep -q 'def {new}(' {lib}.py "
                         f"|| fail '{old} is not renamed everywhere'")
    return step


@block(("rows", "log", "words"), "num")
def shell_scripting(c: Ctx, a: Art) -> Step:
    sh = f"{c.stem()}.sh"
    w = None
    for x in a.data:
        for t in x.split():
            if t.isalpha() and len(t) > 2:
                w = t
                break
        if w:
            break
    if w is None:
        raise NotApplicable("no word")
    n = sum(w in x for x in a.data)
    step = out_step(c, a, "num", "write an executable bash script {{sh}} that prints how many lines of file $2 contain "
                    "the text $1; run it as ./{{sh}} {{w}} {{src}} > {{dst}}",
                    "printf '#!/bin/bash\\ngrep -c -- \"$1\" \"$2\"\\n' > {{sh}} && chmod +x {{sh}} && ./{{sh}} {{w}} {{src}} > {{dst}}",
                    [str(n)], sh=sh, w=w)
    step.checks[sh] = (f"[ -x {sh} ] && _t=$(mktemp) && printf 'ab\\nb\\nc\\n' > \"$_t\" && [ \"$(./{sh} b \"$_t\")\" = 2 ] "
                       f"|| fail '{sh} is not right'")
    return step


@block(("dir",), "words")
def code_search(c: Ctx, a: Art) -> Step:
    hits = sorted(f"{a.path}/{p}:{i}:{line}" for p, t in a.data.items() for i, line in enumerate(t.splitlines(), 1)
                  if "TODO" in line)
    if not hits:
        raise NotApplicable("no TODO")
    return out_step(c, a, "words", "list every TODO under {{src}} as grep -rn prints it (file:line:text), sorted, in {{dst}}",
                    "grep -rn 'TODO' {{src}} | sort > {{dst}}", hits)


@block(("text",), "text")
def config_editing(c: Ctx, a: Art) -> Step:
    keys = [x.split()[0] for x in a.data if x and not x.startswith("#") and len(x.split()) == 2 and x.split()[1].isdigit()]
    if not keys:
        raise NotApplicable("no numeric setting")
    k = c.rng.choice(sorted(set(keys)))
    v = str(c.rng.randint(100, 999))
    return out_step(c, a, "text", "write a copy of {{src}} with the {{k}} setting changed to {{v}} to {{dst}}",
                    "sed 's/^{{k}} .*/{{k}} {{v}}/' {{src}} > {{dst}}",
                    [f"{k} {v}" if x.split()[:1] == [k] else x for x in a.data], k=k, v=v)


@block(("manifest",), "manifest")
def version_bumping(c: Ctx, a: Art) -> Step:
    ver = a.data.get("version")
    if not isinstance(ver, str) or not re.fullmatch(r"\d+\.\d+\.\d+", ver):
        raise NotApplicable("no version")
    major, minor, _ = ver.split(".")
    new = f"{major}.{int(minor) + 1}.0"
    data = {**a.data, "version": new}
    dst = c.name("manifest")
    msg = f"release {new}"
    cmd = (f"jq '.version = \"{new}\"' {a.path} > {dst} && git init -q && git add {dst} && "
           f"git -c user.name=dev -c user.email=dev@example.org commit -qm '{msg}'")
    check = (f"[ \"$(git log -1 --format=%s 2>/dev/null)\" = '{msg}' ] && [ \"$(git show HEAD:{dst} | jq -r .version)\" = {new} ] "
             f"|| fail 'the release is not committed'")
    return Step(f"write {a.path} with version set to {new} (next minor) as {dst}, and commit {dst} to a new git repository "
                f"here with message '{msg}'", [cmd], Art("manifest", dst, data), {**same_json(dst, data), ".git": check})


@block(_LINES, "words")
def line_numbering(c: Ctx, a: Art) -> Step:
    return out_step(c, a, "words", "prefix each line of {{src}} with its number and ': ' into {{dst}}",
                    "awk '{print NR \": \" $0}' {{src}} > {{dst}}", [f"{i}: {x}" for i, x in enumerate(a.data, 1)])


@block(("json", "manifest"), None)
def code_formatting(c: Ctx, a: Art) -> Step:
    obj = a.data["records"] if a.kind == "json" else a.data
    text = json.dumps(obj, indent=2, sort_keys=True)
    dst = c.name(a.kind)
    ordered = json.loads(text)  # jq -S reorders the keys, and later steps see that order
    out = Art(a.kind, dst, {**a.data, "records": ordered} if a.kind == "json" else ordered)
    return Step(f"reformat {a.path} with sorted keys and 2-space indent (jq -S) into {dst}", [f"jq -S . {a.path} > {dst}"],
                out, same(dst, text.splitlines()))


@block(("dir",), "words")
def code_metrics(c: Ctx, a: Art) -> Step:
    names = sorted(m.group(1) for p, t in a.data.items() if p.endswith(".py")
                   for m in re.finditer(r"^def ([a-z_0-9]*)", t, re.M))
    if not names:
        raise NotApplicable("no functions")
    return out_step(c, a, "words", "list the names of the top-level functions (def) in the .py files under {{src}}, sorted, in {{dst}}",
                    "grep -rho --include='*.py' '^def [a-z_0-9]*' {{src}} | cut -c5- | sort > {{dst}}", names)


@block(_LINES, "words")
def templating(c: Ctx, a: Art) -> Step:
    tpl = f"{c.stem()}.tpl"
    who = c.stem()
    step = out_step(c, a, "words", "with environment variables NAME={{who}} and COUNT=(line count of {{src}}) exported, fill "
                    "{{tpl}} with envsubst into {{dst}}",
                    "export NAME={{who}} COUNT=$(wc -l < {{src}}) && envsubst < {{tpl}} > {{dst}}",
                    [f"report for {who}", f"{len(a.data)} lines"], tpl=tpl, who=who)
    step.files[tpl] = "report for ${NAME}\n${COUNT} lines\n"
    return step


@block(_LINES, "num")
def job_scheduling(c: Ctx, a: Art) -> Step:
    """A background worker that writes its pid, and on SIGTERM writes its report and exits."""
    sh = f"{c.stem()}.sh"
    pidf = f"{c.stem()}.pid"
    dst = c.name("num")
    body = (f"#!/bin/bash\necho $$ > {pidf}\ntrap 'wc -l < \"$1\" > \"$2\"; exit 0' TERM\n"
            "while true; do sleep 0.1; done\n")
    tpl = "kill -TERM {{pid}} && sleep 1"
    start = f"bash {sh} {a.path} {dst} > /dev/null 2>&1 &"
    step = Step(f"start {sh} {a.path} {dst} in the background; it writes its pid to {pidf}; send it SIGTERM so it writes "
                f"its report", [start, fill(tpl, pid=f"$(cat {pidf})")],
                Art("num", dst, [str(len(a.data))]), same(dst, [str(len(a.data))]),
                derive=Derive(f"sleep 1; cat {pidf}", {"pid": r"^(\d+)$"}, tpl), derive_at=1)
    step.files[sh] = body
    return step


@block(("nums",), "none")
def unit_testing(c: Ctx, a: Art) -> Step:
    # Only unittest's verdict line is shown: its "Ran 1 test in 0.002s" line varies run to run,
    # and a trajectory must be the same bytes every run.
    mod = _ident(c)
    test = f"test_{mod}.py"
    src = f"def total(xs):\n    return sum(xs)\n"
    cmd = (f"printf 'import unittest\\nfrom {mod} import total\\n\\n\\nclass T(unittest.TestCase):\\n    def test_total(self):\\n"
           f"        self.assertEqual(total([int(x) for x in open(\"{a.path}\")]), %s)\\n\\n\\nunittest.main()\\n' "
           f"\"$(awk '{{s+=$1}} END{{print s}}' {a.path})\" > {test} && python3 {test} 2>&1 | tail -n 1")
    check = (f"python3 {test} >/dev/null 2>&1 || fail '{test} does not pass'; _d=$(mktemp -d); cp {test} {a.path} \"$_d\"/; "
             f"printf 'def total(xs):\\n    return sum(xs) + 1\\n' > \"$_d\"/{mod}.py; "
             f"(cd \"$_d\" && python3 {test} >/dev/null 2>&1) && fail '{test} passes on a broken total'")
    step = Step(f"{mod}.py defines total(xs); write unittest file {test} asserting total of the numbers of {a.path} "
                f"equals their sum (computed with awk), and run it", [cmd], Art("none", test, None), {test: check})
    step.files[f"{mod}.py"] = src
    return step


@block(("dir",), "words")
def static_checking(c: Ctx, a: Art) -> Step:
    bad = sorted(f"{a.path}/{p}" for p, t in a.data.items() if p.endswith(".py") and _broken(t))
    if not bad:
        raise NotApplicable("every file compiles")
    return out_step(c, a, "words", "list, sorted, the .py files under {{src}} that fail python3 -m py_compile in {{dst}}",
                    "for f in $(find {{src}} -name '*.py' | sort); do python3 -m py_compile \"$f\" 2>/dev/null || echo \"$f\"; done "
                    "> {{dst}}", bad)


def _broken(text: str) -> bool:
    try:
        compile(text, "x.py", "exec")
        return False
    except SyntaxError:
        return True


@block(("dir",), "dir")
def code_documentation(c: Ctx, a: Art) -> Step:
    head = "# SPDX-License-Identifier: MIT"
    files = {p: (f"{head}\n{t}" if p.endswith(".py") and t else t) for p, t in a.data.items()}
    if files == a.data:
        raise NotApplicable("no python files")
    return Step(f"add the line '{head}' at the top of every .py file under {a.path}",
                [f"find {a.path} -name '*.py' -exec sed -i '1i {head}' {{}} +"], Art("dir", a.path, files), tree(a.path, files))


BLOCKS = [
    code_generation, refactoring, shell_scripting, code_search, config_editing, version_bumping, line_numbering,
    code_formatting, code_metrics, templating, job_scheduling, unit_testing, static_checking, code_documentation,
]
