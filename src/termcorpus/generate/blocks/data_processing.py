"""Blocks of the data_processing domain: filter, sort, edit and convert text, CSV and JSON."""

from __future__ import annotations

from termcorpus.generate.blocks.base import (
    Art, Ctx, Derive, NotApplicable, Step, block, csv_lines, col, fill, header_probe, last_ints,
    lines_art, out_step, partial_word, records, same, same_json,
)


@block(("rows", "log", "text", "words"), None)
def text_filtering(c: Ctx, a: Art) -> Step:
    w = partial_word(c, a.data)
    return out_step(c, a, a.kind, "keep the lines of {{src}} containing '{{w}}' in {{dst}}",
                    "grep '{{w}}' {{src}} > {{dst}}", [x for x in a.data if w in x], w=w)


@block(("rows", "log", "text", "words"), None)
def text_exclusion(c: Ctx, a: Art) -> Step:
    w = partial_word(c, a.data)
    return out_step(c, a, a.kind, "drop the lines of {{src}} containing '{{w}}', rest to {{dst}}",
                    "grep -v '{{w}}' {{src}} > {{dst}}", [x for x in a.data if w not in x], w=w)


@block(("rows", "nums", "log", "reqs", "words"), None)
def line_sorting(c: Ctx, a: Art) -> Step:
    if a.kind == "nums":
        return out_step(c, a, a.kind, "sort {{src}} numerically into {{dst}}", "sort -n {{src}} > {{dst}}",
                        sorted(a.data, key=int))
    if a.kind == "rows" and c.rng.random() < 0.5:
        last_ints(a.data)
        return out_step(c, a, a.kind, "sort {{src}} by its last number, ascending, into {{dst}}",
                        "awk '{print $NF, $0}' {{src}} | sort -n | cut -d' ' -f2- > {{dst}}",
                        [x for _, x in sorted((int(x.split()[-1]), x) for x in a.data)])
    return out_step(c, a, a.kind, "sort {{src}} into {{dst}}", "sort {{src}} > {{dst}}", sorted(a.data))


@block(("rows", "nums", "words"), None)
def deduplication(c: Ctx, a: Art) -> Step:
    if len(set(a.data)) == len(a.data):
        raise NotApplicable("no repeated lines")
    return out_step(c, a, a.kind, "write the distinct lines of {{src}}, sorted, to {{dst}}",
                    "sort -u {{src}} > {{dst}}", sorted(set(a.data)))


@block(("rows", "log", "text", "words"), None)
def stream_editing(c: Ctx, a: Art) -> Step:
    old = partial_word(c, a.data, allow_all=True)
    new = c.word(avoid="\n".join(a.data))
    return out_step(c, a, a.kind, "replace every '{{old}}' in {{src}} with '{{new}}', result in {{dst}}",
                    "sed 's/{{old}}/{{new}}/g' {{src}} > {{dst}}", [x.replace(old, new) for x in a.data],
                    old=old, new=new)


@block(("rows", "words"), None)
def case_conversion(c: Ctx, a: Art) -> Step:
    return out_step(c, a, a.kind, "upper-case {{src}} into {{dst}}", "tr a-z A-Z < {{src}} > {{dst}}",
                    [x.upper() for x in a.data])


@block(("rows",), "nums")
def field_extraction(c: Ctx, a: Art) -> Step:
    return out_step(c, a, "nums", "write the last field of each line of {{src}} to {{dst}}",
                    "awk '{print $NF}' {{src}} > {{dst}}", [str(n) for n in last_ints(a.data)])


@block(("csv",), "nums")
def csv_parsing(c: Ctx, a: Art) -> Step:
    t = a.data
    y = col(t, "y")
    name = t["header"][y]
    step = out_step(c, a, "nums", "write the {{name}} column of {{src}} (no header) to {{dst}}",
                    "tail -n +2 {{src}} | cut -d, -f{{c0}} > {{dst}}", [r[y] for r in t["rows"]], name=name, c0=y + 1)
    probe = header_probe(a.path, [name])
    step.derive = Derive(probe.look, probe.patterns, f"tail -n +2 {a.path} | cut -d, -f{{{{c0}}}} > {step.out.path}")
    return step


@block(("csv",), "json")
def json_processing(c: Ctx, a: Art) -> Step:
    dst = c.name("json")
    recs = records(a.data)
    cmd = (f"python3 -c \"import csv,json; rows=[{{k: int(v) if v.isdigit() else v for k, v in r.items()}} "
           f"for r in csv.DictReader(open('{a.path}'))]; json.dump(rows, open('{dst}', 'w'), indent=1)\"")
    return Step(f"convert {a.path} to a JSON list of records (numbers as numbers) in {dst} with python3",
                [cmd], Art("json", dst, {"records": recs, "roles": a.data["roles"]}), same_json(dst, recs))


@block(("json",), "csv")
def format_conversion(c: Ctx, a: Art) -> Step:
    recs = a.data["records"]
    if not recs:
        raise NotApplicable("no records")
    header = list(recs[0])
    t = {"header": header, "rows": [[str(r[h]) for h in header] for r in recs], "roles": a.data["roles"]}
    return out_step(c, a, "csv", "convert {{src}} to CSV with a header row in {{dst}} (jq)",
                    "jq -r '(.[0] | keys_unsorted) as $k | ($k | join(\",\")), (.[] | [.[$k[]] | tostring] | join(\",\"))' "
                    "{{src}} > {{dst}}", None, data=t)


@block(("rows",), None)
def text_joining(c: Ctx, a: Art) -> Step:
    tags = [c.rng.choice(("red", "blue", "green", "gray")) for _ in a.data]
    tag_file = f"{c.stem()}.txt"
    step = out_step(c, a, a.kind, "put the word of line i of {{tags}} before line i of {{src}} (space-separated) in {{dst}}",
                    "paste -d' ' {{tags}} {{src}} > {{dst}}", [f"{t} {x}" for t, x in zip(tags, a.data)], tags=tag_file)
    step.files[tag_file] = "".join(t + "\n" for t in tags)
    return step


@block(("text",), None)
def text_cleanup(c: Ctx, a: Art) -> Step:
    keep = [x for x in a.data if x.strip() and not x.startswith("#")]
    if keep == a.data:
        raise NotApplicable("nothing to clean")
    return out_step(c, a, a.kind, "drop the comment and blank lines of {{src}}, rest to {{dst}}",
                    "grep -v -e '^#' -e '^[[:space:]]*$' {{src}} > {{dst}}", keep)


@block(("csv",), "csv")
def column_transformation(c: Ctx, a: Art) -> Step:
    t = a.data
    k, y = col(t, "key"), col(t, "y")
    names = [t["header"][k], t["header"][y]]
    new = {"header": names, "rows": [[r[k], r[y]] for r in t["rows"]],
           "roles": {"key": names[0], "y": names[1]}}
    tpl = "awk -F, -v OFS=, '{print ${{c0}}, ${{c1}}}' {{src}} > {{dst}}"
    step = out_step(c, a, "csv", "write only the {{n0}} and {{n1}} columns of {{src}}, in that order, to {{dst}}",
                    tpl, None, data=new, n0=names[0], n1=names[1], c0=k + 1, c1=y + 1)
    probe = header_probe(a.path, names)
    step.derive = Derive(probe.look, probe.patterns, fill(tpl, src=a.path, dst=step.out.path, c0="{{c0}}", c1="{{c1}}"))
    return step


@block(("rows", "nums", "reqs", "words"), None)
def set_operations(c: Ctx, a: Art) -> Step:
    mine = sorted(set(a.data))
    if len(mine) < 3:
        raise NotApplicable("too few lines")
    shared = c.rng.sample(mine, c.rng.randint(1, len(mine) - 1))
    other = shared + [f"{c.rng.choice(('zeta', 'omega', 'sigma'))} {c.rng.randint(1000, 9999)}" for _ in range(2)]
    c.rng.shuffle(other)
    name = f"{c.stem()}.txt"
    step = out_step(c, a, a.kind, "write the lines found in both {{src}} and {{other}} to {{dst}}, sorted and unique",
                    "comm -12 <(sort -u {{src}}) <(sort -u {{other}}) > {{dst}}", sorted(shared), other=name)
    step.files[name] = "".join(x + "\n" for x in other)
    return step


BLOCKS = [
    text_filtering, text_exclusion, line_sorting, deduplication, stream_editing, case_conversion, field_extraction,
    csv_parsing, json_processing, format_conversion, text_joining, text_cleanup, column_transformation,
    set_operations,
]
