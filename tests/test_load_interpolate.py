"""Interpolation with Compose's rules, and Compose's .env files."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackctl.load.interpolate import (
    InterpolationError,
    escape,
    interpolate,
    interpolate_tree,
    is_template_position,
    parse_dotenv,
    variables_for,
)

ENV = {"SET": "value", "EMPTY": "", "PORT": "8080"}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("plain", "plain"),
        ("$SET", "value"),
        ("${SET}", "value"),
        ("x${SET}y", "xvaluey"),
        ("$SET.txt", "value.txt"),
        ("${UNSET}", ""),
        ("$UNSET", ""),
        ("${SET:-d}", "value"),
        ("${EMPTY:-d}", "d"),
        ("${UNSET:-d}", "d"),
        ("${SET-d}", "value"),
        ("${EMPTY-d}", ""),
        ("${UNSET-d}", "d"),
        ("${SET:?m}", "value"),
        ("${EMPTY?m}", ""),
        ("${SET:+alt}", "alt"),
        ("${EMPTY:+alt}", ""),
        ("${UNSET:+alt}", ""),
        ("${EMPTY+alt}", "alt"),
        ("${UNSET+alt}", ""),
        ("$$", "$"),
        ("$$SET", "$SET"),
        ("$${SET}", "${SET}"),
        ("a$$b$$", "a$b$"),
        ("${UNSET:-${SET}}", "value"),
        ("${UNSET:-${ALSO_UNSET:-deep}}", "deep"),
        ("${UNSET:-with space}", "with space"),
        ("127.0.0.1:${PORT}:80", "127.0.0.1:8080:80"),
    ],
)
def test_interpolation_table(template: str, expected: str) -> None:
    assert interpolate(template, ENV.get) == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("${UNSET:?set UNSET}", "UNSET is required: set UNSET"),
        ("${EMPTY:?must not be empty}", "EMPTY is required: must not be empty"),
        ("${UNSET?}", "UNSET is required"),
        ("${UNSET:?needs ${SET}}", "UNSET is required: needs value"),
        ("$1", "write '$$' for a literal dollar sign"),
        ("a $ b", "write '$$' for a literal dollar sign"),
        ("${", "unclosed"),
        ("${SET", "unclosed"),
        ("${}", "invalid variable reference"),
        ("${1X}", "invalid variable reference"),
        ("${SET!x}", "after the name use"),
    ],
)
def test_interpolation_errors(template: str, message: str) -> None:
    with pytest.raises(InterpolationError, match=message.replace("$", r"\$")):
        interpolate(template, ENV.get)


def test_escape_is_the_inverse_of_interpolation() -> None:
    for text in ["a$b", "$$", "${X}", "no dollars", "$"]:
        assert interpolate(escape(text), ENV.get) == text


def test_tree_interpolates_values_not_keys_and_collects_every_error() -> None:
    data = {"$KEY": "$SET", "list": ["${A:?a}", "${B:?b}", 3, None], "n": {"x": "${UNSET}"}}
    result = interpolate_tree(data, ENV.get)
    assert [e.path for e in result.errors] == [("list", 0), ("list", 1)]
    assert [e.variable for e in result.errors] == ["A", "B"]
    assert result.data["$KEY"] == "value"
    assert [u.variable for u in result.unset] == ["UNSET"]
    assert result.unset[0].path == ("n", "x")


def test_tree_keep_mode_checks_syntax_but_keeps_templates() -> None:
    data = {"services": {"db": {"environment": {"P": "${P:?set P}", "Q": "$1"}, "image": "$SET"}}}
    result = interpolate_tree(data, ENV.get, keep=is_template_position)
    svc = result.data["services"]["db"]
    assert svc["environment"]["P"] == "${P:?set P}"  # kept, and not an error
    assert svc["image"] == "value"  # expanded: not a free-text position
    assert [e.path[-1] for e in result.errors] == ["Q"]  # bad syntax is still reported


def test_template_positions() -> None:
    assert is_template_position(("services", "a", "environment", "X"))
    assert is_template_position(("services", "a", "command", 0))
    assert is_template_position(("services", "a", "healthcheck", "test", 1))
    assert not is_template_position(("services", "a", "image"))
    assert not is_template_position(("services", "a", "healthcheck", "interval"))
    assert not is_template_position(("networks", "a", "name"))


def test_dotenv_parsing_like_compose() -> None:
    text = "\n".join(
        [
            "# a comment",
            "",
            "export A=1",
            "B = spaced  # trailing comment",
            'C="double $A\\nnext"',
            "D='single $A # not a comment'",
            'E="multi',
            'line"',
            "F=${A}${MISSING:-dflt}",
            "G=",
            "H=a#b",
            'I="escaped \\$A"',
            "not a pair",
        ]
    )
    values, problems = parse_dotenv(text, {})
    assert values == {
        "A": "1",
        "B": "spaced",
        "C": "double 1\nnext",
        "D": "single $A # not a comment",
        "E": "multi\nline",
        "F": "1dflt",
        "G": "",
        "H": "a#b",
        "I": "escaped $A",
    }
    assert [(p.line, "KEY=VALUE" in p.message) for p in problems] == [(13, True)]


def test_dotenv_values_see_the_process_environment_first() -> None:
    values, _ = parse_dotenv("A=from-file\nB=${A}", {"A": "from-process"})
    assert values["B"] == "from-process"


def test_process_environment_wins_over_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=file\nB=file\n")
    variables, problems = variables_for(tmp_path, {"A": "process"})
    assert problems == []
    assert variables.lookup("A") == "process"
    assert variables.lookup("B") == "file"
    assert variables.lookup("C") is None
    assert str(tmp_path / ".env") in variables.where_to_set("C")
