"""portal.safe_yaml: plain data from YAML, refusing the shapes that hurt."""

import pytest
import yaml

from portal import safe_yaml


def problem_of(text):
    with pytest.raises(yaml.YAMLError) as raised:
        list(safe_yaml.load_all(text))
    return raised.value


def test_documents_load_as_plain_data():
    assert list(safe_yaml.load_all("a: 1\n---\nb: [x, y]\n")) == [{"a": 1}, {"b": ["x", "y"]}]
    assert safe_yaml.load("when: 2026-03-09\n") == {"when": __import__("datetime").date(2026, 3, 9)}


def test_nesting_up_to_the_bound_loads_and_deeper_is_refused_with_its_line():
    assert safe_yaml.load("[" * safe_yaml.MAX_NESTING + "]" * safe_yaml.MAX_NESTING)

    error = problem_of("ok: 1\nx: " + "[" * 100_000 + "]" * 100_000)

    assert error.problem == "nested deeper than 64 levels"
    assert error.problem_mark.line == 1


def test_a_key_given_twice_is_refused_not_overwritten():
    error = problem_of("name: a\nowner: b\nname: c\n")

    assert error.problem == "duplicate key “name”"
    assert error.problem_mark.line == 2


def test_merge_keys_still_let_a_mapping_override_what_it_merges():
    data = safe_yaml.load("base: &b {x: 1, y: 2}\nthing:\n  <<: *b\n  x: 3\n")

    assert data["thing"] == {"x": 3, "y": 2}


def test_a_nul_character_is_refused_escaped_or_raw():
    assert problem_of('a: "x\\0y"\n').problem == "NUL characters are not allowed"
    assert "#x0000" in str(problem_of("a: x\x00y\n"))


def test_aliases_that_refer_to_themselves_or_expand_into_a_billion_values_are_refused():
    assert "refers to itself" in problem_of("a: &a [*a]\n").problem

    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]\n"
        for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
    )
    assert "more than 1,000,000 values" in problem_of(laughs).problem


def test_a_few_shared_aliases_load():
    data = safe_yaml.load("q: &q 'sum(rate(x[5m]))'\nslos: [{query: *q}, {query: *q}]\n")

    assert [slo["query"] for slo in data["slos"]] == ["sum(rate(x[5m]))"] * 2
