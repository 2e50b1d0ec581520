"""Blocks of the data_science domain: statistics, aggregation, cleaning and scoring of tables."""

from __future__ import annotations

import statistics
from collections import defaultdict

from termcorpus.generate.blocks.base import (
    Art, Ctx, Derive, NotApplicable, Step, block, col, csv_lines, fill, header_probe, last_ints, out_step,
)


def _nums(a: Art) -> list[int]:
    return [int(x) for x in a.data]


def _with_probe(step: Step, look_path: str, names: list[str], tpl: str, **values: object) -> Step:
    probe = header_probe(look_path, names)
    slots = {f"c{i}": f"{{{{c{i}}}}}" for i in range(len(names))}
    step.derive = Derive(probe.look, probe.patterns, fill(tpl, **{**values, **slots}))
    return step


@block(("nums",), "words")
def descriptive_statistics(c: Ctx, a: Art) -> Step:
    xs = _nums(a)
    return out_step(c, a, "words", "write 'min max mean' of {{src}} (mean with 2 decimals) on one line to {{dst}}",
                    "sort -n {{src}} | awk 'NR==1{mn=$1} {s+=$1; mx=$1} END{printf \"%d %d %.2f\\n\", mn, mx, s/NR}' > {{dst}}",
                    [f"{min(xs)} {max(xs)} {sum(xs) / len(xs):.2f}"])


@block(("nums",), "num")
def numeric_aggregation(c: Ctx, a: Art) -> Step:
    return out_step(c, a, "num", "write the sum of the numbers in {{src}} to {{dst}}",
                    "awk '{s+=$1} END{print s}' {{src}} > {{dst}}", [str(sum(_nums(a)))])


@block(("rows", "csv"), "rows")
def group_aggregation(c: Ctx, a: Art) -> Step:
    sums: dict[str, int] = defaultdict(int)
    if a.kind == "rows":
        for x, n in zip(a.data, last_ints(a.data)):
            sums[x.split()[0]] += n
        return out_step(c, a, "rows", "sum the last number per first field of {{src}}: 'key total' lines, sorted, in {{dst}}",
                        "awk '{s[$1]+=$NF} END{for (k in s) print k, s[k]}' {{src}} | sort > {{dst}}",
                        [f"{k} {v}" for k, v in sorted(sums.items())])
    t = a.data
    k, y = col(t, "cat"), col(t, "y")
    if any(not r[k] for r in t["rows"]):
        raise NotApplicable("missing group keys")
    for r in t["rows"]:
        sums[r[k]] += int(r[y])
    tpl = "awk -F, 'NR>1{s[${{c0}}]+=${{c1}}} END{for (k in s) print k, s[k]}' {{src}} | sort > {{dst}}"
    names = [t["header"][k], t["header"][y]]
    step = out_step(c, a, "rows", "total {{n1}} per {{n0}} in {{src}}: 'group total' lines, sorted, in {{dst}}", tpl,
                    [f"{g} {v}" for g, v in sorted(sums.items())], n0=names[0], n1=names[1], c0=k + 1, c1=y + 1)
    return _with_probe(step, a.path, names, tpl, src=a.path, dst=step.out.path)


def _missing(t: dict) -> list[list[str]]:
    return [r for r in t["rows"] if "" in r]


@block(("csv",), "num")
def missing_values(c: Ctx, a: Art) -> Step:
    if not _missing(a.data):
        raise NotApplicable("nothing missing")
    return out_step(c, a, "num", "count the data rows of {{src}} with an empty field into {{dst}}",
                    "tail -n +2 {{src}} | grep -c -e ',,' -e '^,' -e ',$' > {{dst}}", [str(len(_missing(a.data)))])


@block(("csv",), "csv")
def data_cleaning(c: Ctx, a: Art) -> Step:
    t = a.data
    if not _missing(t):
        raise NotApplicable("nothing missing")
    new = {**t, "rows": [r for r in t["rows"] if "" not in r]}
    return out_step(c, a, "csv", "drop the rows of {{src}} with an empty field (keep the header) into {{dst}}",
                    "grep -v -e ',,' -e '^,' -e ',$' {{src}} > {{dst}}", None, data=new)


def _xy(t: dict) -> tuple[list[float], list[float], list[str]]:
    x, y = col(t, "x"), col(t, "y")
    xs, ys = [float(r[x]) for r in t["rows"]], [float(r[y]) for r in t["rows"]]
    if len(set(xs)) < 2 or len(set(ys)) < 2:
        raise NotApplicable("constant column")
    return xs, ys, [t["header"][x], t["header"][y]]


_PY_XY = ("python3 -c \"import csv, statistics as st; r=list(csv.DictReader(open('{{src}}'))); "
          "x=[float(d['{{nx}}']) for d in r]; y=[float(d['{{ny}}']) for d in r]; ")


@block(("csv",), "words")
def regression(c: Ctx, a: Art) -> Step:
    xs, ys, (nx, ny) = _xy(a.data)
    m = statistics.linear_regression(xs, ys)
    return out_step(c, a, "words", "fit {{ny}} = slope*{{nx}} + intercept on {{src}}; write 'slope intercept' (3 decimals) to {{dst}}",
                    _PY_XY + "m=st.linear_regression(x, y); print(f'{m.slope:.3f} {m.intercept:.3f}')\" > {{dst}}",
                    [f"{m.slope:.3f} {m.intercept:.3f}"], nx=nx, ny=ny)


@block(("csv",), "words")
def correlation_analysis(c: Ctx, a: Art) -> Step:
    xs, ys, (nx, ny) = _xy(a.data)
    return out_step(c, a, "words", "write Pearson's r of {{nx}} and {{ny}} in {{src}} (3 decimals) to {{dst}}",
                    _PY_XY + "print(f'{st.correlation(x, y):.3f}')\" > {{dst}}",
                    [f"{statistics.correlation(xs, ys):.3f}"], nx=nx, ny=ny)


@block(("nums",), "words")
def feature_scaling(c: Ctx, a: Art) -> Step:
    xs = _nums(a)
    lo, hi = min(xs), max(xs)
    if lo == hi:
        raise NotApplicable("constant")
    return out_step(c, a, "words", "min-max scale the numbers of {{src}} to [0,1] (3 decimals, one per line) into {{dst}}",
                    "awk 'NR==FNR{if(FNR==1||$1<mn)mn=$1; if(FNR==1||$1>mx)mx=$1; next} {printf \"%.3f\\n\", ($1-mn)/(mx-mn)}' "
                    "{{src}} {{src}} > {{dst}}", [f"{(x - lo) / (hi - lo):.3f}" for x in xs])


@block(("csv",), "csv")
def feature_engineering(c: Ctx, a: Art) -> Step:
    t = a.data
    y = col(t, "y")
    name = t["header"][y]
    vals = sorted(int(r[y]) for r in t["rows"])
    thr = c.rng.choice(vals[1:-1])
    flag = f"high_{name}"
    new = {"header": t["header"] + [flag], "rows": [r + [str(int(int(r[y]) > thr))] for r in t["rows"]],
           "roles": t["roles"]}
    tpl = "awk -F, -v OFS=, 'NR==1{print $0, \"{{flag}}\"; next} {print $0, (${{c0}} > {{thr}})}' {{src}} > {{dst}}"
    step = out_step(c, a, "csv", "add a last column {{flag}} to {{src}}: 1 if {{name}} > {{thr}} else 0; write {{dst}}",
                    tpl, None, data=new, flag=flag, name=name, thr=thr, c0=y + 1)
    return _with_probe(step, a.path, [name], tpl, src=a.path, dst=step.out.path, flag=flag, thr=thr)


@block(("nums",), "matrix")
def binning(c: Ctx, a: Art) -> Step:
    counts: dict[int, int] = defaultdict(int)
    for x in _nums(a):
        counts[x // 50 * 50] += 1
    return out_step(c, a, "matrix", "count the numbers of {{src}} per bin of width 50: 'start count' lines by start in {{dst}}",
                    "awk '{c[int($1/50)*50]++} END{for (b in c) print b, c[b]}' {{src}} | sort -n > {{dst}}",
                    [f"{b} {n}" for b, n in sorted(counts.items())])


@block(("csv",), "csv")
def data_splitting(c: Ctx, a: Art) -> Step:
    t = a.data
    if len(t["rows"]) < 4:
        raise NotApplicable("too few rows")
    new = {**t, "rows": t["rows"][1::2]}
    return out_step(c, a, "csv", "keep the header and every second data row (2nd, 4th, ...) of {{src}} in {{dst}}",
                    "awk 'NR==1 || NR%2==1' {{src}} > {{dst}}", None, data=new)


@block(("nums",), "nums")
def time_series(c: Ctx, a: Art) -> Step:
    out, s = [], 0
    for x in _nums(a):
        s += x
        out.append(str(s))
    return out_step(c, a, "nums", "write the running total of {{src}} (one per line) to {{dst}}",
                    "awk '{s+=$1; print s}' {{src}} > {{dst}}", out)


@block(("nums",), "words")
def model_evaluation(c: Ctx, a: Art) -> Step:
    xs = _nums(a)
    preds = [x + c.rng.randint(-9, 9) for x in xs]
    pf = f"{c.stem()}.txt"
    mae = sum(abs(x - p) for x, p in zip(xs, preds)) / len(xs)
    step = out_step(c, a, "words", "write the mean absolute error of the predictions in {{pf}} against {{src}} (2 decimals) to {{dst}}",
                    "paste -d' ' {{src}} {{pf}} | awk '{d=$1-$2; if (d<0) d=-d; s+=d} END{printf \"%.2f\\n\", s/NR}' > {{dst}}",
                    [f"{mae:.2f}"], pf=pf)
    step.files[pf] = "".join(f"{p}\n" for p in preds)
    return step


BLOCKS = [
    descriptive_statistics, numeric_aggregation, group_aggregation, missing_values, data_cleaning, regression,
    feature_scaling, feature_engineering, correlation_analysis, binning, data_splitting, time_series,
    model_evaluation,
]
