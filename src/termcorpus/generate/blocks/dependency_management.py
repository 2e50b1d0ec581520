"""Blocks of the dependency_management domain: requirements, manifests, versions and an offline
install of a local wheel (built here, byte for byte the same on every run)."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile

from termcorpus.generate.blocks.base import (
    Art, Ctx, NotApplicable, Step, b64, block, fill, out_step, same,
)


def _pins(a: Art) -> dict[str, str]:
    return dict(x.split("==", 1) for x in a.data)


@block(("reqs",), "reqs")
def requirements_editing(c: Ctx, a: Art) -> Step:
    pins = _pins(a)
    if len(pins) < 3:
        raise NotApplicable("too few pins")
    drop = c.rng.choice(sorted(pins))
    return out_step(c, a, "reqs", "remove {{p}} from {{src}} and sort the rest into {{dst}}",
                    "grep -v '^{{p}}==' {{src}} | sort > {{dst}}", sorted(x for x in a.data if not x.startswith(drop + "==")),
                    p=drop)


@block(("reqs",), "reqs")
def version_pinning(c: Ctx, a: Art) -> Step:
    pins = _pins(a)
    p = c.rng.choice(sorted(pins))
    v = f"{c.rng.randint(10, 19)}.{c.rng.randint(0, 9)}.{c.rng.randint(0, 9)}"
    return out_step(c, a, "reqs", "pin {{p}} to version {{v}} in a copy of {{src}} named {{dst}}",
                    "sed 's/^{{p}}==.*/{{p}}=={{v}}/' {{src}} > {{dst}}",
                    [f"{p}=={v}" if x.startswith(p + "==") else x for x in a.data], p=p, v=v)


@block(("reqs",), "words")
def dependency_audit(c: Ctx, a: Art) -> Step:
    pins = _pins(a)
    names = sorted(pins)
    differ = set(c.rng.sample(names, c.rng.randint(1, max(1, len(names) // 2))))
    lock = {n: (f"{int(pins[n].split('.')[0]) + 1}.0.0" if n in differ else pins[n]) for n in names}
    lf = f"{c.stem()}.lock"
    step = out_step(c, a, "words", "list, sorted, the packages whose version in {{lf}} differs from {{src}} into {{dst}}",
                    "awk -F'==' 'NR==FNR{v[$1]=$2; next} ($1 in v) && v[$1] != $2 {print $1}' {{lf}} {{src}} | sort > {{dst}}",
                    sorted(differ), lf=lf)
    step.files[lf] = "".join(f"{n}=={lock[n]}\n" for n in sorted(lock))
    return step


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(dist: str, module: str, source: str) -> tuple[str, bytes]:
    """A minimal pure-Python wheel; fixed timestamps and order, so the bytes never change."""
    info = f"{dist}-1.0.dist-info"
    members = {
        f"{module}/__init__.py": source.encode(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: termcorpus\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{p},{_record_hash(d)},{len(d)}\n" for p, d in members.items()) + f"{info}/RECORD,,\n"
    members[f"{info}/RECORD"] = record.encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for p, d in members.items():
            zi = zipfile.ZipInfo(p, date_time=(1980, 1, 1, 0, 0, 0))
            zi.external_attr = 0o644 << 16
            z.writestr(zi, d, compress_type=zipfile.ZIP_DEFLATED)
    return f"{dist}-1.0-py3-none-any.whl", buf.getvalue()


@block(("nums",), "num")
def python_packaging(c: Ctx, a: Art) -> Step:
    xs = [int(x) for x in a.data]
    mod = c.stem().replace("-", "_")
    if not mod.isidentifier():
        raise NotApplicable("bad module name")
    dist = mod  # wheel names escape "-" as "_" (PEP 427); keep the module name throughout
    whl, data = build_wheel(dist, mod, "def spread(path):\n    xs = [int(x) for x in open(path)]\n    return max(xs) - min(xs)\n")
    step = out_step(c, a, "num", "install the wheel {{whl}} offline into directory vendor, then with vendor on "
                    "PYTHONPATH write {{mod}}.spread('{{src}}') to {{dst}}",
                    "python3 -m pip install -q --root-user-action=ignore --no-index --no-deps --no-cache-dir --target vendor {{whl}} && "
                    "PYTHONPATH=vendor python3 -c \"import {{mod}}; print({{mod}}.spread('{{src}}'))\" > {{dst}}",
                    [str(max(xs) - min(xs))], whl=whl, mod=mod)
    step.binary_files[whl] = b64(data)
    step.checks["vendor"] = (f"[ -f vendor/{mod}/__init__.py ] && ls -d vendor/{dist}-1.0.dist-info >/dev/null "
                             f"|| fail 'wheel {whl} is not installed in vendor'")
    return step


@block(("dir",), "words")
def import_analysis(c: Ctx, a: Art) -> Step:
    mods = sorted({line.split()[1] for p, t in a.data.items() if p.endswith(".py")
                   for line in t.splitlines() if line.startswith("import ")})
    if not mods:
        raise NotApplicable("no imports")
    return out_step(c, a, "words", "list the modules imported ('import x' lines) by the .py files under {{src}}, sorted "
                    "and unique, in {{dst}}", "grep -rh --include='*.py' '^import ' {{src}} | awk '{print $2}' | sort -u > {{dst}}", mods)


@block(("reqs",), "manifest")
def manifest_editing(c: Ctx, a: Art) -> Step:
    name = c.stem().replace("_", "-")
    deps = dict(sorted(_pins(a).items()))
    data = {"name": name, "version": "0.1.0", "dependencies": deps}
    return out_step(c, a, "manifest", "write a JSON manifest {{dst}} with name \"{{n}}\", version \"0.1.0\" and the pins of "
                    "{{src}} as a dependencies object (jq)",
                    "jq -Rn --arg n {{n}} '{name: $n, version: \"0.1.0\", dependencies: ([inputs | split(\"==\") | {(.[0]): .[1]}] | add)}' "
                    "{{src}} > {{dst}}", None, data=data, n=name)


@block(("manifest",), "reqs")
def lockfile_management(c: Ctx, a: Art) -> Step:
    deps = a.data.get("dependencies") or {}
    if not deps:
        raise NotApplicable("no dependencies")
    return out_step(c, a, "reqs", "write the dependencies of {{src}} as sorted name==version lines to {{dst}} (jq)",
                    "jq -r '.dependencies | to_entries[] | \"\\(.key)==\\(.value)\"' {{src}} | sort > {{dst}}",
                    sorted(f"{k}=={v}" for k, v in deps.items()))


@block(("reqs",), "words")
def version_ordering(c: Ctx, a: Art) -> Step:
    vs = [x.split("==", 1)[1] for x in a.data]
    return out_step(c, a, "words", "write the versions of {{src}}, oldest first (numeric order), to {{dst}}",
                    "cut -d= -f3 {{src}} | sort -V > {{dst}}", sorted(vs, key=lambda v: tuple(int(p) for p in v.split("."))))


@block(("rows", "nums", "reqs", "words", "log"), "none")
def environment_inspection(c: Ctx, a: Art) -> Step:
    dst = c.name("words")
    ver = "python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])'"
    cmd = f"echo \"$({ver}) $(wc -l < {a.path})\" > {dst}"
    check = (f"[ \"$(cat {dst} 2>/dev/null)\" = \"$({ver}) {len(a.data)}\" ] || fail '{dst} is not right'")
    return Step(f"write the python3 version (major.minor) and the line count of {a.path}, space-separated, to {dst}",
                [cmd], Art("none", dst, None), {dst: check})


BLOCKS = [
    requirements_editing, version_pinning, dependency_audit, python_packaging, import_analysis, manifest_editing,
    lockfile_management, version_ordering, environment_inspection,
]
