"""Blocks of the scientific_computing domain: numeric transforms, matrices, series, number theory."""

from __future__ import annotations

import math

from termcorpus.generate.blocks.base import Art, Ctx, NotApplicable, Step, block, out_step


def _nums(a: Art) -> list[int]:
    return [int(x) for x in a.data]


def _one(a: Art, lo: float = -math.inf, hi: float = math.inf, why: str = "") -> int:
    """The number of a ``num`` artifact; NotApplicable(``why``) when it lies outside [lo, hi]."""
    n = int(a.data[0])
    if not lo <= n <= hi:
        raise NotApplicable(why)
    return n


@block(("nums",), "nums")
def numeric_computation(c: Ctx, a: Art) -> Step:
    k, b = c.rng.randint(2, 5), c.rng.randint(1, 9)
    return out_step(c, a, "nums", "write {{k}}*x+{{b}} for every number x of {{src}} to {{dst}}",
                    "awk '{print {{k}}*$1+{{b}}}' {{src}} > {{dst}}", [str(k * x + b) for x in _nums(a)], k=k, b=b)


@block(("matrix",), "nums")
def matrix_operations(c: Ctx, a: Art) -> Step:
    rows = [[int(v) for v in x.split()] for x in a.data]
    return out_step(c, a, "nums", "write the sum of each row of the matrix {{src}} to {{dst}}",
                    "awk '{s=0; for (i=1; i<=NF; i++) s+=$i; print s}' {{src}} > {{dst}}", [str(sum(r)) for r in rows])


@block(("nums",), "words")
def unit_conversion(c: Ctx, a: Art) -> Step:
    return out_step(c, a, "words", "{{src}} holds Celsius values; write them in Fahrenheit (1 decimal) to {{dst}}",
                    "awk '{printf \"%.1f\\n\", $1*9/5+32}' {{src}} > {{dst}}", [f"{x * 9 / 5 + 32:.1f}" for x in _nums(a)])


@block(("nums",), "words")
def numerical_integration(c: Ctx, a: Art) -> Step:
    xs = _nums(a)
    if len(xs) < 2:
        raise NotApplicable("one sample")
    s = 0.0
    for p, q in zip(xs, xs[1:]):
        s += (p + q) / 2
    return out_step(c, a, "words", "integrate the samples of {{src}} (spacing 1) with the trapezoidal rule; write it "
                    "(2 decimals) to {{dst}}", "awk 'NR>1{s+=(p+$1)/2} {p=$1} END{printf \"%.2f\\n\", s}' {{src}} > {{dst}}",
                    [f"{s:.2f}"])


def _factors(n: int) -> list[int]:
    out, d = [], 2
    while d * d <= n:
        while n % d == 0:
            out.append(d)
            n //= d
        d += 1
    if n > 1:
        out.append(n)
    return out


@block(("num",), "words")
def number_theory(c: Ctx, a: Art) -> Step:
    n = _one(a, lo=2, why="no factors")
    return out_step(c, a, "words", "write the prime factorization of the number in {{src}} (factor) to {{dst}}",
                    "factor $(cat {{src}}) > {{dst}}", [f"{n}: " + " ".join(map(str, _factors(n)))])


@block(("matrix",), "matrix")
def linear_algebra(c: Ctx, a: Art) -> Step:
    rows = [x.split() for x in a.data]
    if len({len(r) for r in rows}) != 1:
        raise NotApplicable("ragged")
    return out_step(c, a, "matrix", "write the transpose of the matrix {{src}} to {{dst}}",
                    "python3 -c \"rows=[l.split() for l in open('{{src}}')]; [print(*col) for col in zip(*rows)]\" > {{dst}}",
                    [" ".join(col) for col in zip(*rows)])


@block(("num",), "num")
def equation_solving(c: Ctx, a: Art) -> Step:
    n = _one(a, lo=1, why="no root")
    return out_step(c, a, "num", "for N in {{src}}, write the largest integer x with x*x <= N to {{dst}}",
                    "python3 -c \"import math; print(math.isqrt(int(open('{{src}}').read())))\" > {{dst}}", [str(math.isqrt(n))])


@block(("nums",), "num")
def numerical_methods(c: Ctx, a: Art) -> Step:
    xs = _nums(a)[:8]
    x = c.rng.randint(2, 3)
    v = 0
    for k in xs:
        v = v * x + k
    return out_step(c, a, "num", "the first {{m}} numbers of {{src}} are polynomial coefficients, highest power first; "
                    "evaluate it at x={{x}} with Horner's rule into {{dst}}",
                    "head -n {{m}} {{src}} | awk '{v=v*{{x}}+$1} END{print v}' > {{dst}}", [str(v)], m=len(xs), x=x)


@block(("num",), "words")
def base_conversion(c: Ctx, a: Art) -> Step:
    n = _one(a)
    if c.rng.random() < 0.5:
        return out_step(c, a, "words", "write the number in {{src}} in hexadecimal (lower case) to {{dst}}",
                        "printf '%x\\n' $(cat {{src}}) > {{dst}}", [f"{n:x}"])
    return out_step(c, a, "words", "write the number in {{src}} in binary to {{dst}}",
                    "echo \"obase=2; $(cat {{src}})\" | bc > {{dst}}", [f"{n:b}"])


@block(("num",), "num")
def series_computation(c: Ctx, a: Art) -> Step:
    n = _one(a, lo=1, hi=5000, why="sum too short or too long")
    return out_step(c, a, "num", "for N in {{src}}, write 1+2+...+N to {{dst}}",
                    "seq $(cat {{src}}) | paste -sd+ | bc > {{dst}}", [str(n * (n + 1) // 2)])


BLOCKS = [
    numeric_computation, matrix_operations, unit_conversion, numerical_integration, number_theory, linear_algebra,
    equation_solving, numerical_methods, base_conversion, series_computation,
]
