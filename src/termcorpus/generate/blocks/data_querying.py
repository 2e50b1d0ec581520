"""Blocks of the data_querying domain: count, look up, rank and query records (awk, jq, sqlite3)."""

from __future__ import annotations

from collections import Counter

from termcorpus.generate.blocks.base import (
    Art, Ctx, Derive, NotApplicable, Step, block, col, fill, header_probe, last_ints, out_step,
    partial_word, text_of,
)


@block(("rows", "log", "text", "words"), "num")
def pattern_counting(c: Ctx, a: Art) -> Step:
    w = partial_word(c, a.data, allow_all=True)
    return out_step(c, a, "num", "count the lines of {{src}} containing '{{w}}' into {{dst}}",
                    "grep -c '{{w}}' {{src}} > {{dst}}", [str(sum(w in x for x in a.data))], w=w)


@block(("rows", "log", "text", "nums", "reqs", "words", "matrix"), "num")
def line_counting(c: Ctx, a: Art) -> Step:
    return out_step(c, a, "num", "write the number of lines of {{src}} to {{dst}}", "wc -l < {{src}} > {{dst}}",
                    [str(len(a.data))])


@block(("rows", "nums", "log", "reqs", "words"), None)
def top_k_selection(c: Ctx, a: Art) -> Step:
    if len(a.data) < 4:
        raise NotApplicable("too few lines")
    n = c.rng.randint(2, len(a.data) - 1)
    if a.kind == "nums":
        return out_step(c, a, a.kind, "write the {{n}} largest numbers of {{src}}, largest first, to {{dst}}",
                        "sort -rn {{src}} | head -n {{n}} > {{dst}}", sorted(a.data, key=int, reverse=True)[:n], n=n)
    return out_step(c, a, a.kind, "save the first {{n}} lines of {{src}} to {{dst}}", "head -n {{n}} {{src}} > {{dst}}",
                    a.data[:n], n=n)


@block(("rows",), None)
def record_lookup(c: Ctx, a: Art) -> Step:
    firsts = sorted({x.split()[0] for x in a.data})
    if len(firsts) < 2:
        raise NotApplicable("one key only")
    k = c.rng.choice(firsts)
    return out_step(c, a, a.kind, "keep the lines of {{src}} whose first field is exactly '{{k}}' in {{dst}}",
                    "awk '$1 == \"{{k}}\"' {{src}} > {{dst}}", [x for x in a.data if x.split()[0] == k], k=k)


@block(("log",), "log")
def log_analysis(c: Ctx, a: Art) -> Step:
    levels = sorted({x.split()[2] for x in a.data} - {"INFO"})
    if not levels:
        raise NotApplicable("no warnings or errors")
    lv = c.rng.choice(levels)
    return out_step(c, a, "log", "keep the {{lv}} entries of {{src}} (level is the 3rd field) in {{dst}}",
                    "awk '$3 == \"{{lv}}\"' {{src}} > {{dst}}", [x for x in a.data if x.split()[2] == lv], lv=lv)


@block(("rows", "log"), "rows")
def frequency_counting(c: Ctx, a: Art) -> Step:
    f = 4 if a.kind == "log" else 1
    counts = Counter(x.split()[f - 1] for x in a.data)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return out_step(c, a, "rows", "count each value of field {{f}} of {{src}}: lines 'value count' in {{dst}}, most "
                    "frequent first (ties by value)",
                    "awk '{print ${{f}}}' {{src}} | sort | uniq -c | sort -k1,1nr -k2,2 | awk '{print $2, $1}' > {{dst}}",
                    [f"{k} {n}" for k, n in ranked], f=f)


@block(("csv",), "csv")
def sql_querying(c: Ctx, a: Art) -> Step:
    t = a.data
    k, y = col(t, "key"), col(t, "y")
    kn, yn = t["header"][k], t["header"][y]
    vals = sorted(int(r[y]) for r in t["rows"])
    thr = c.rng.choice(vals[:-1])
    rows = sorted(([r[k], r[y]] for r in t["rows"] if int(r[y]) > thr), key=lambda r: r[0])
    db = f"{c.stem()}.db"
    new = {"header": [kn, yn], "rows": rows, "roles": {"key": kn, "y": yn}}
    step = out_step(c, a, "csv", "load {{src}} into table t of SQLite database {{db}}, then write {{kn}},{{yn}} of the rows "
                    "with {{yn}} > {{thr}}, by {{kn}}, as CSV with header to {{dst}}",
                    "sqlite3 -csv -header {{db}} '.import --csv {{src}} t' "
                    "'SELECT \"{{kn}}\", \"{{yn}}\" FROM t WHERE CAST(\"{{yn}}\" AS INTEGER) > {{thr}} ORDER BY \"{{kn}}\"' | tr -d '\\r' > {{dst}}",
                    None, data=new, db=db, kn=kn, yn=yn, thr=thr)
    step.checks[db] = f"[ \"$(sqlite3 {db} 'SELECT count(*) FROM t' 2>/dev/null)\" = {len(t['rows'])} ] || fail '{db} table t is wrong'"
    return step


@block(("rows", "nums"), None)
def numeric_filtering(c: Ctx, a: Art) -> Step:
    vals = sorted(last_ints(a.data))
    if len(set(vals)) < 3:
        raise NotApplicable("too few values")
    if c.rng.random() < 0.5:
        # observation-dependent: the threshold is the integer mean, which the agent has to print first
        mean = sum(vals) // len(vals)
        tpl = "awk '$NF > {{m}}' {{src}} > {{dst}}"
        step = out_step(c, a, a.kind, "keep the lines of {{src}} whose last number is above the integer mean of the "
                        "last numbers in {{dst}}", tpl, [x for x in a.data if int(x.split()[-1]) > mean], m=mean)
        step.derive = Derive(f"awk '{{s+=$NF}} END{{print int(s/NR)}}' {a.path}", {"m": r"^(-?\d+)$"},
                             fill(tpl, src=a.path, dst=step.out.path, m="{{m}}"))
        return step
    thr = c.rng.choice(vals[1:-1])
    return out_step(c, a, a.kind, "keep the lines of {{src}} whose last number is above {{thr}} in {{dst}}",
                    "awk '$NF > {{thr}}' {{src}} > {{dst}}", [x for x in a.data if int(x.split()[-1]) > thr], thr=thr)


@block(("json",), "rows")
def json_navigation(c: Ctx, a: Art) -> Step:
    roles = a.data["roles"]
    cat, y = roles.get("cat"), roles.get("y")
    recs = a.data["records"]
    if not cat or not y:
        raise NotApplicable("records lack fields")
    v = c.rng.choice(sorted({r[cat] for r in recs if r[cat]}))
    return out_step(c, a, "rows", "for the records of {{src}} whose {{cat}} is \"{{v}}\", write 'name {{y}}' lines to {{dst}} (jq)",
                    "jq -r '.[] | select(.{{cat}} == \"{{v}}\") | \"\\(.name) \\(.{{y}})\"' {{src}} > {{dst}}",
                    [f"{r['name']} {r[y]}" for r in recs if r[cat] == v], cat=cat, v=v, y=y)


@block((), "rows")
def xml_querying(c: Ctx, a: Art) -> Step:
    items = [(c.rng.choice(("bolt", "gear", "pipe", "valve")), c.rng.choice(("steel", "brass", "iron")),
              c.rng.randint(1, 90)) for _ in range(c.rng.randint(4, 7))]
    xml = f"{c.stem()}.xml"
    body = "<stock>\n" + "".join(f'  <item name="{n}" metal="{m}" qty="{q}"/>\n' for n, m, q in items) + "</stock>\n"
    step = out_step(c, a, "rows", "write 'name metal qty' for every item element of {{xml}} to {{dst}} (python3 xml.etree)",
                    "python3 -c \"import xml.etree.ElementTree as E; [print(i.get('name'), i.get('metal'), i.get('qty')) "
                    "for i in E.parse('{{xml}}').iter('item')]\" > {{dst}}", [f"{n} {m} {q}" for n, m, q in items], xml=xml)
    step.files[xml] = body
    return step


@block(("log",), "words")
def pattern_extraction(c: Ctx, a: Art) -> Step:
    import re

    ips = sorted({m for x in a.data for m in re.findall(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+", x)})
    if not ips:
        raise NotApplicable("no addresses")
    return out_step(c, a, "words", "extract every distinct IPv4 address in {{src}}, sorted, into {{dst}}",
                    "grep -oE '[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+' {{src}} | sort -u > {{dst}}", ips)


BLOCKS = [
    pattern_counting, line_counting, top_k_selection, record_lookup, log_analysis, frequency_counting, sql_querying,
    numeric_filtering, json_navigation, xml_querying, pattern_extraction,
]
