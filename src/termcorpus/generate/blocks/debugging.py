"""Blocks of the debugging domain: programs that fail or lie, fixed after reading what they print.

Each block ships a small broken program (Python, bash or a Makefile) that works on the chain's
current file. The test checks the program's output on that file AND that the program itself is
fixed (it runs right on a second input), so printing the right answer some other way fails.
"""

from __future__ import annotations

from termcorpus.generate.blocks.base import (
    Art, Ctx, Derive, NotApplicable, Step, block, fill, last_ints, lines_art, out_step, same, text_of,
)


def _fixed(prog: str, run: str, sample: str, want: str) -> str:
    """A check that the program now gives ``want`` on a fresh ``sample`` input."""
    return (f"_t=$(mktemp); printf '{sample}' > \"$_t\"; [ \"$({run} \"$_t\" 2>/dev/null)\" = '{want}' ] "
            f"|| fail '{prog} is not fixed'")


@block(("nums",), "num")
def python_debugging(c: Ctx, a: Art) -> Step:
    xs = [int(x) for x in a.data]
    prog = f"{c.stem()}.py"
    bug, fix = c.rng.choice([("total = 1", "total = 0"), ("total += n + 1", "total += n"),
                             ("total -= n", "total += n")])
    body = ("import sys\n\n\ndef main(path):\n    total = 0\n    for line in open(path):\n        n = int(line)\n"
            "        total += n\n    print(total)\n\n\nmain(sys.argv[1])\n")
    body = body.replace(fix, bug, 1) if fix in body else body.replace("total = 0", bug, 1)
    step = out_step(c, a, "num", "{{prog}} should print the sum of a file's numbers but is wrong; fix it, then run it on "
                    "{{src}} into {{dst}}", f"sed -i 's/{bug}/{fix}/' {{{{prog}}}} && python3 {{{{prog}}}} {{{{src}}}} > {{{{dst}}}}",
                    [str(sum(xs))], prog=prog)
    step.files[prog] = body
    step.checks[prog] = _fixed(prog, f"python3 {prog}", "5\\n7\\n", "12")
    return step


@block(("rows", "nums"), "num")
def error_diagnosis(c: Ctx, a: Art) -> Step:
    vals = last_ints(a.data)
    right = c.rng.choice(("total", "count", "acc"))
    wrong = {"total": "totl", "count": "cnt", "acc": "ac"}[right]
    prog = f"{c.stem()}.py"
    body = (f"import sys\n\n{right} = 0\nfor line in open(sys.argv[1]):\n    {right} += int(line.split()[-1])\n"
            f"print({wrong})\n")
    tpl = "sed -i 's/\\b{{bad}}\\b/{{right}}/g' {{prog}} && python3 {{prog}} {{src}} > {{dst}}"
    step = out_step(c, a, "num", "{{prog}} (sum of the last fields of a file) crashes; fix the error it reports, then "
                    "run it on {{src}} into {{dst}}", tpl, [str(sum(vals))], prog=prog, bad=wrong, right=right)
    step.files[prog] = body
    step.checks[prog] = _fixed(prog, f"python3 {prog}", "a 2\\nb 3\\n", "5")
    step.derive = Derive(f"python3 {prog} {a.path} 2>&1 | tail -1", {"bad": r"name '(\w+)' is not defined"},
                         fill(tpl, prog=prog, src=a.path, dst=step.out.path, right=right, bad="{{bad}}"))
    return step


@block(("rows", "nums"), "num")
def shell_debugging(c: Ctx, a: Art) -> Step:
    vals = last_ints(a.data)
    sh = f"{c.stem()}.sh"
    body = "#!/bin/bash\n# prints the sum of the last field of the file given as $1\nawk '{s+=$NF} END{print s}' \"$2\"\n"
    step = out_step(c, a, "num", "{{sh}} should print the sum of the last fields of the file given as its argument but "
                    "reads the wrong argument; fix it, then run it on {{src}} into {{dst}}",
                    "sed -i 's/\"$2\"/\"$1\"/' {{sh}} && bash {{sh}} {{src}} > {{dst}}", [str(sum(vals))], sh=sh)
    step.files[sh] = body
    step.checks[sh] = _fixed(sh, f"bash {sh}", "x 4\\ny 6\\n", "10")
    return step


@block(("rows", "text", "log", "words", "nums", "reqs"), None)
def in_place_patching(c: Ctx, a: Art) -> Step:
    if not a.plain or len(a.data) < 3:
        raise NotApplicable("not a plain file of 3+ lines")
    n = c.rng.randint(1, len(a.data))
    new = a.data[: n - 1] + a.data[n:]
    return Step(f"delete line {n} of {a.path} in place", [f"sed -i '{n}d' {a.path}"], lines_art(a.kind, a.path, new),
                same(a.path, new))


@block(("rows",), "words")
def traceback_reading(c: Ctx, a: Art) -> Step:
    words = [x.split() for x in a.data]
    if all(len(w) < 2 or w[1].isdigit() for w in words):
        raise NotApplicable("second fields are numbers")
    prog = f"{c.stem()}.py"
    pad = c.rng.randint(0, 4)
    lines = ["import sys", *[f"# {c.rng.choice(('parse', 'read', 'check'))} step {i}" for i in range(pad)], "",
             "total = 0", "for line in open(sys.argv[1]):", "    fields = line.split()",
             "    total += int(fields[1])", "print(total)"]
    bad = lines.index("    total += int(fields[1])") + 1
    tpl = "sed -n '{{n}}p' {{prog}} > {{dst}}"
    step = out_step(c, a, "words", "{{prog}} fails on {{src}}; write the source line its traceback points at to {{dst}}",
                    tpl, [lines[bad - 1]], prog=prog, n=bad)
    step.files[prog] = text_of(lines)
    step.derive = Derive(f"python3 {prog} {a.path} 2>&1 | grep -o 'line [0-9]*' | tail -1", {"n": r"^line (\d+)$"},
                         fill(tpl, prog=prog, dst=step.out.path, n="{{n}}"))
    return step


@block(("rows", "nums", "words", "log"), None)
def config_debugging(c: Ctx, a: Art) -> Step:
    """A Makefile whose recipe is indented with spaces: make names the line; fix it, build."""
    if a.kind == "nums":
        result, recipe = sorted(a.data, key=int, reverse=True), "sort -rn"
    else:
        result, recipe = sorted(a.data, reverse=True), "sort -r"
    dst = c.name(a.kind)
    pre = [f"# build {dst}"] + [f"{v} = {c.rng.randint(1, 9)}" for v in c.rng.sample(("JOBS", "LEVEL", "MODE"), c.rng.randint(0, 2))]
    lines = pre + ["", f"{dst}: {a.path}", f"    {recipe} {a.path} > {dst}"]
    bad = len(lines)
    tpl = "sed -i '{{n}}s/^ */\\t/' Makefile && make"
    step = Step(f"make should build {dst} (the lines of {a.path}, reversed sorted) but the Makefile is broken; fix it and run make",
                [fill(tpl, n=bad)], lines_art(a.kind, dst, result), same(dst, result))
    step.files["Makefile"] = text_of(lines)
    step.checks["Makefile"] = f"grep -q \"^$(printf '\\t'){recipe} \" Makefile || fail 'Makefile is not fixed'"
    step.derive = Derive("make 2>&1 | head -2", {"n": r"^Makefile:(\d+): \*\*\* missing separator"}, tpl)
    return step


@block(("nums",), "num")
def logic_error_fixing(c: Ctx, a: Art) -> Step:
    xs = [int(x) for x in a.data]
    if max(a.data) == str(max(xs)):
        raise NotApplicable("text and number order agree")
    prog = f"{c.stem()}.py"
    body = "import sys\n\nvalues = open(sys.argv[1]).read().split()\nprint(max(values))\n"
    step = out_step(c, a, "num", "{{prog}} should print the largest number in a file but compares text; fix it, then run "
                    "it on {{src}} into {{dst}}", "sed -i 's/max(values)/max(map(int, values))/' {{prog}} && python3 {{prog}} {{src}} > {{dst}}",
                    [str(max(xs))], prog=prog)
    step.files[prog] = body
    step.checks[prog] = _fixed(prog, f"python3 {prog}", "9\\n10\\n", "10")
    return step


BLOCKS = [
    python_debugging, error_diagnosis, shell_debugging, in_place_patching, traceback_reading, config_debugging,
    logic_error_fixing,
]
