"""The double-brace template language: substitution only, shell braces untouched."""

from __future__ import annotations

import pytest

from termcorpus.generate.template import refs, render


def test_render_substitutes_names_and_leaves_shell_and_awk_braces_alone():
    text = "awk '{print $1}' {{f}}.txt > ${OUT:-x} && echo {{ f }}"
    assert render(text, {"f": "data"}) == "awk '{print $1}' data.txt > ${OUT:-x} && echo data"


def test_refs_lists_names_in_order():
    assert refs("{{a}} and {{b}} and {{a}}") == ("a", "b", "a")


def test_dollar_then_reference_renders_a_field_number():
    assert render("awk '{print ${{i}}}'", {"i": "3"}) == "awk '{print $3}'"


def test_missing_name_raises_keyerror():
    with pytest.raises(KeyError):
        render("{{nope}}", {})


def test_values_are_not_rendered_again():
    assert render("{{a}}", {"a": "{{b}}", "b": "x"}) == "{{b}}"
