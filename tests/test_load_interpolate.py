"""Interpolation with Compose's rules (stackctl.core.interpolate).

The tables marked ``compose-go`` port the cases of compose-go's ``template/template_test.go``
and ``interpolation/interpolation_test.go`` (each row names the Go test function). Where
stackctl deliberately differs, the row holds stackctl's value and says why (README,
"Interpolation and .env files").
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from stackctl.core.dotenv import variables_for
from stackctl.core.interpolate import (
    MAX_DEPTH,
    InterpolationError,
    escape,
    interpolate,
    interpolate_tree,
    is_template_position,
    variables_in,
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
        # A lone '$' is kept, as in Compose v2 (was an error before the core parser).
        ("$1", "$1"),
        ("a $ b", "a $ b"),
        ("^REGEX$", "^REGEX$"),
        ("$(date)", "$(date)"),
        ("$'x'", "$'x'"),
        ("100$", "100$"),
        ("$-", "$-"),
        ("$.", "$."),
        ("$$$SET", "$value"),
        ("$$$$", "$$"),
        # Braces balance inside a default (issue 17: was "value}").
        ("${SET:-{x}}", "value"),
        ("${UNSET:-{x}}", "{x}"),
        ("${UNSET:-{}}", "{}"),
        ("${UNSET:-{a}{b}}", "{a}{b}"),
        ("${UNSET:-a}b}", "ab}"),
        ("${UNSET:-$${x}}", "${x}"),
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
        # The message is shown as written: expanding it would put values in an error.
        ("${UNSET:?needs ${SET}}", "UNSET is required: needs ${SET}"),
        ("${", "invalid '${' at character 1"),
        ("${SET", "invalid reference to SET at character 1"),
        ("${SET:-x", "unclosed '${SET:-' at character 1"),
        ("${SET:-x\n}", "unclosed '${SET:-' at character 1"),
        ("${}", "invalid '${'"),
        ("${1X}", "invalid '${'"),
        ("${SET!x}", "after the name use"),
        ("ab${UNSET:-${}}", "invalid '${' at character 12"),
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
    data = {"services": {"db": {"environment": {"P": "${P:?set P}", "Q": "${1}"}, "image": "$SET"}}}
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


def test_process_environment_wins_over_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=file\nB=file\n")
    variables, problems = variables_for(tmp_path, {"A": "process"})
    assert problems == []
    assert variables.lookup("A") == "process"
    assert variables.lookup("B") == "file"
    assert variables.lookup("C") is None
    assert str(tmp_path / ".env") in variables.where_to_set("C")


# --------------------------------------------------------------------------- compose-go

# template/template_test.go: `defaults`
TEMPLATE = {"FOO": "first", "BAR": "", "JSON": '{"json":2}'}
# interpolation/interpolation_test.go: `defaults`
INTERPOLATION = {"USER": "jenny", "FOO": "bar", "count": "5", "REQUIRED": "true"}
NOTHING: dict[str, str] = {}

_VALUES = [
    # (template, variables, expected, compose-go test)
    ("$${foo}", TEMPLATE, "${foo}", "TestEscaped"),
    ("foo", TEMPLATE, "foo", "TestSubstituteNoMatch"),
    ("a $ string", TEMPLATE, "a $ string", "TestUnescaped"),
    ("^REGEX$", TEMPLATE, "^REGEX$", "TestUnescaped"),
    ("$}", TEMPLATE, "$}", "TestUnescaped"),
    ("$", TEMPLATE, "$", "TestUnescaped"),
    ("$FOO-bar", TEMPLATE, "first-bar", "TestNonBraced"),
    ("This ${missing} var", TEMPLATE, "This  var", "TestNoValueNoDefault"),
    ("This ${BAR} var", TEMPLATE, "This  var", "TestNoValueNoDefault"),
    ("This $FOO var", TEMPLATE, "This first var", "TestValueNoDefault"),
    ("This ${FOO} var", TEMPLATE, "This first var", "TestValueNoDefault"),
    ("ok ${missing:-def}", TEMPLATE, "ok def", "TestNoValueWithDefault"),
    ("ok ${missing-def}", TEMPLATE, "ok def", "TestNoValueWithDefault"),
    ("${A:+${A},}B", TEMPLATE, "B", "TestLazyDefaultDoesNotWarn"),
    ("${A:-${B}}", TEMPLATE, "", "TestLazyDefaultWarnsWhenUsed"),
    ("${A?${B}}", {"A": "value"}, "value", "TestLazyRequiredMessageDoesNotWarn"),
    ("ok ${BAR:-def}", TEMPLATE, "ok def", "TestEmptyValueWithSoftDefault"),
    ("ok ${FOO:-def}", TEMPLATE, "ok first", "TestValueWithSoftDefault"),
    ("ok ${BAR-def}", TEMPLATE, "ok ", "TestEmptyValueWithHardDefault"),
    ("ok ${UNSET_VAR:+presence_value}", TEMPLATE, "ok ", "TestPresentValueWithUnset"),
    ("ok ${UNSET_VAR+presence_value}", TEMPLATE, "ok ", "TestPresentValueWithUnset2"),
    ("ok ${FOO:+presence_value}", TEMPLATE, "ok presence_value", "TestPresentValueWithNonEmpty"),
    (
        "ok ${FOO+presence_value}",
        TEMPLATE,
        "ok presence_value",
        "TestPresentValueAndNonEmptyWithNonEmpty",
    ),
    ("ok ${BAR+presence_value}", TEMPLATE, "ok presence_value", "TestPresentValueWithSet"),
    ("ok ${BAR:+presence_value}", TEMPLATE, "ok ", "TestPresentValueAndNotEmptyWithSet"),
    (
        "ok ${BAR:-/non:-alphanumeric}",
        TEMPLATE,
        "ok /non:-alphanumeric",
        "TestNonAlphanumericDefault",
    ),
    (
        "-ok ${BAR:-defaultValue}",
        TEMPLATE,
        "-ok defaultValue",
        "TestInterpolationExternalInterference",
    ),
    (
        "+ok ${UNSET:-${BAR-defaultValue}}",
        TEMPLATE,
        "+ok ",
        "TestInterpolationExternalInterference",
    ),
    ("-ok ${FOO:-defaultValue}", TEMPLATE, "-ok first", "TestInterpolationExternalInterference"),
    (
        ":-ok ${UNSET-defaultValue}",
        TEMPLATE,
        ":-ok defaultValue",
        "TestInterpolationExternalInterference",
    ),
    (":-ok ${BAR-defaultValue}", TEMPLATE, ":-ok ", "TestInterpolationExternalInterference"),
    (":?ok ${BAR-defaultValue}", TEMPLATE, ":?ok ", "TestInterpolationExternalInterference"),
    (
        ":?ok ${BAR:-defaultValue}",
        TEMPLATE,
        ":?ok defaultValue",
        "TestInterpolationExternalInterference",
    ),
    (
        ":+ok ${BAR:-defaultValue}",
        TEMPLATE,
        ":+ok defaultValue",
        "TestInterpolationExternalInterference",
    ),
    ("+ok ${BAR-defaultValue}", TEMPLATE, "+ok ", "TestInterpolationExternalInterference"),
    (
        "?ok ${BAR:-defaultValue}",
        TEMPLATE,
        "?ok defaultValue",
        "TestInterpolationExternalInterference",
    ),
    ("ok ${UNSET_VAR-$FOO}", TEMPLATE, "ok first", "TestDefaultsWithNestedExpansion"),
    ("ok ${UNSET_VAR-${FOO}}", TEMPLATE, "ok first", "TestDefaultsWithNestedExpansion"),
    (
        "ok ${UNSET_VAR-${FOO} ${FOO}}",
        TEMPLATE,
        "ok first first",
        "TestDefaultsWithNestedExpansion",
    ),
    ("ok ${BAR:-$FOO}", TEMPLATE, "ok first", "TestDefaultsWithNestedExpansion"),
    ("ok ${BAR:-${FOO}}", TEMPLATE, "ok first", "TestDefaultsWithNestedExpansion"),
    ("ok ${BAR:-${FOO} ${FOO}}", TEMPLATE, "ok first first", "TestDefaultsWithNestedExpansion"),
    ("ok ${BAR+$FOO}", TEMPLATE, "ok first", "TestDefaultsWithNestedExpansion"),
    (
        "ok ${BAR+$FOO ${FOO:+second}}",
        TEMPLATE,
        "ok first second",
        "TestDefaultsWithNestedExpansion",
    ),
    ("ok ${FOO:?err}", TEMPLATE, "ok first", "TestDefaultsForMandatoryVariables"),
    ("ok ${FOO?err}", TEMPLATE, "ok first", "TestDefaultsForMandatoryVariables"),
    ("ok ${BAR?err}", TEMPLATE, "ok ", "TestDefaultsForMandatoryVariables"),
    ("ok ${FOO}", TEMPLATE, "ok first", "TestSubstituteWithCustomFunc"),
    ("ok ${BAR}", TEMPLATE, "ok ", "TestSubstituteWithCustomFunc"),
    (
        "ok ${SUBDOMAIN:-redis}.${FOO:?}",
        TEMPLATE,
        "ok redis.first",
        "TestSubstituteWithReplacementFunc",
    ),
    ("${UNSET_VAR-myerror?msg}", TEMPLATE, "myerror?msg", "TestPrecedence"),
    ("${FOO?bar-baz}", TEMPLATE, "first", "TestPrecedence"),
    (
        "${BAR:-default_value_for_empty_var}",
        TEMPLATE,
        "default_value_for_empty_var",
        "TestPrecedence",
    ),
    (
        "${UNSET_VAR-default_value_for_unset_var}",
        TEMPLATE,
        "default_value_for_unset_var",
        "TestPrecedence",
    ),
    ('ok ${missing:-{"json":1}}', TEMPLATE, 'ok {"json":1}', "TestNoValueWithCurlyBracesDefault"),
    ('ok ${missing-{"json":1}}', TEMPLATE, 'ok {"json":1}', "TestNoValueWithCurlyBracesDefault"),
    ('ok ${JSON:-{"json":1}}', TEMPLATE, 'ok {"json":2}', "TestValueWithCurlyBracesDefault"),
    ('ok ${JSON-{"json":1}}', TEMPLATE, 'ok {"json":2}', "TestValueWithCurlyBracesDefault"),
    ("example:${USER}", INTERPOLATION, "example:jenny", "TestInterpolate"),
    ("$FOO:/target", INTERPOLATION, "bar:/target", "TestInterpolate"),
    ("${FOO}", INTERPOLATION, "bar", "TestInterpolate"),
    ("$USER", INTERPOLATION, "jenny", "TestInterpolate"),
    ("thing_${FOO}", {"FOO": "BARZ"}, "thing_BARZ", "TestInterpolateWithDefaults"),
    ("$count", INTERPOLATION, "5", "TestInterpolateWithCast (before the cast)"),
    ("$REQUIRED", INTERPOLATION, "true", "TestInterpolateWithCast (before the cast)"),
    ("{{{ ${FOO:-foo_} }}}", NOTHING, "{{{ foo_ }}}", "TestValidUnexistentInterpolation"),
    (
        "{{{ ${FOO:-foo-bar-value} }}}",
        NOTHING,
        "{{{ foo-bar-value }}}",
        "TestValidUnexistentInterpolation",
    ),
    (
        "{{{ ${FOO:-foo?bar?value} }}}",
        NOTHING,
        "{{{ foo?bar?value }}}",
        "TestValidUnexistentInterpolation",
    ),
    (
        "{{{ ${FOO:-foo:?bar:?value} }}}",
        NOTHING,
        "{{{ foo:?bar:?value }}}",
        "TestValidUnexistentInterpolation",
    ),
    (
        "{{{ ${FOO:-foo} ${BAR:-DEFAULT_VALUE} }}}",
        NOTHING,
        "{{{ foo DEFAULT_VALUE }}}",
        "TestValidUnexistentInterpolation",
    ),
    ("{{{ ${BAR} }}}", NOTHING, "{{{  }}}", "TestValidUnexistentInterpolation"),
    ("${FOO:-baz} }}}", NOTHING, "baz }}}", "TestValidUnexistentInterpolation"),
    ("${FOO-baz} }}}", NOTHING, "baz }}}", "TestValidUnexistentInterpolation"),
    ("${FOO:-${BAR:-${ZOT:-qix}}}", NOTHING, "qix", "TestValidUnexistentInterpolation"),
    ("${FOO:-${BAR:-x}_test_${BAR:-y}}", NOTHING, "x_test_y", "TestValidUnexistentInterpolation"),
    ("${FOO:-${BAR:-x}_test}", NOTHING, "x_test", "TestValidUnexistentInterpolation"),
    ("${FOO:-${BAR:-${ZOT:-x}}_test}", NOTHING, "x_test", "TestValidUnexistentInterpolation"),
    ("{{{ ${FOO:-foo_} }}}", INTERPOLATION, "{{{ bar }}}", "TestValidExistentInterpolation"),
    (
        "{{{ ${FOO:-foo-bar-value} }}}",
        INTERPOLATION,
        "{{{ bar }}}",
        "TestValidExistentInterpolation",
    ),
    (
        "{{{ ${FOO:-foo} ${BAR:-DEFAULT_VALUE} }}}",
        INTERPOLATION,
        "{{{ bar DEFAULT_VALUE }}}",
        "TestValidExistentInterpolation",
    ),
    ("{{{ ${BAR} }}}", INTERPOLATION, "{{{  }}}", "TestValidExistentInterpolation"),
    ("${FOO:-baz} }}}", INTERPOLATION, "bar }}}", "TestValidExistentInterpolation"),
    ("${FOO-baz} }}}", INTERPOLATION, "bar }}}", "TestValidExistentInterpolation"),
    (
        "{{{ ${FOO:-foo} ${USER:-bar} }}}",
        INTERPOLATION,
        "{{{ bar jenny }}}",
        "TestValidExistentInterpolation",
    ),
    ("{{{ ${USER} }}}", INTERPOLATION, "{{{ jenny }}}", "TestValidExistentInterpolation"),
]


@pytest.mark.parametrize(("template", "variables", "expected", "source"), _VALUES)
def test_compose_go_values(
    template: str, variables: Mapping[str, str], expected: str, source: str
) -> None:
    assert interpolate(template, variables.get) == expected, source


_ERRORS = [
    # (template, variables, what stackctl's message says, compose-go test)
    ("${", TEMPLATE, "invalid '${'", "TestInvalid"),
    ("${}", TEMPLATE, "invalid '${'", "TestInvalid"),
    ("${ }", TEMPLATE, "invalid '${'", "TestInvalid"),
    ("${ foo}", TEMPLATE, "invalid '${'", "TestInvalid"),
    ("${foo }", TEMPLATE, "invalid reference to foo", "TestInvalid"),
    ("${foo!}", TEMPLATE, "invalid reference to foo", "TestInvalid"),
    ("${", INTERPOLATION, "invalid '${'", "TestInvalidInterpolation"),
    # compose-go says "required variable X is missing a value: reason"; stackctl words it
    # "X is required: reason" (its own wording, same content).
    (
        "not ok ${UNSET_VAR:?Mandatory Variable Unset}",
        TEMPLATE,
        "UNSET_VAR is required: Mandatory Variable Unset",
        "TestMandatoryVariableErrors",
    ),
    (
        "not ok ${BAR:?Mandatory Variable Empty}",
        TEMPLATE,
        "BAR is required: Mandatory Variable Empty",
        "TestMandatoryVariableErrors",
    ),
    ("not ok ${UNSET_VAR:?}", TEMPLATE, "UNSET_VAR is required", "TestMandatoryVariableErrors"),
    (
        "not ok ${UNSET_VAR?Mandatory Variable Unset}",
        TEMPLATE,
        "UNSET_VAR is required: Mandatory Variable Unset",
        "TestMandatoryVariableErrors",
    ),
    ("not ok ${UNSET_VAR?}", TEMPLATE, "UNSET_VAR is required", "TestMandatoryVariableErrors"),
    # Deliberate difference: compose-go expands the message ("Mandatory Variable first");
    # stackctl shows it as written, so an error never carries a variable's value.
    (
        "not ok ${UNSET_VAR:?Mandatory Variable ${FOO}}",
        TEMPLATE,
        "UNSET_VAR is required: Mandatory Variable ${FOO}",
        "TestMandatoryVariableErrorsWithNestedExpansion",
    ),
    (
        "not ok ${UNSET_VAR?Mandatory Variable ${FOO}}",
        TEMPLATE,
        "UNSET_VAR is required: Mandatory Variable ${FOO}",
        "TestMandatoryVariableErrorsWithNestedExpansion",
    ),
    ("${UNSET_VAR?bar-baz}", TEMPLATE, "UNSET_VAR is required: bar-baz", "TestPrecedence"),
    ("{{{ ${FOO:?foo_} }}}", NOTHING, "FOO is required: foo_", "TestValidUnexistentInterpolation"),
    (
        "{{{ ${FOO:?foo-bar-value} }}}",
        NOTHING,
        "FOO is required: foo-bar-value",
        "TestValidUnexistentInterpolation",
    ),
    (
        "{{{ ${FOO:?foo} ${BAR:-DEFAULT_VALUE} }}}",
        NOTHING,
        "FOO is required: foo",
        "TestValidUnexistentInterpolation",
    ),
    (
        "${FOO:?foo} ${BAR:?bar}",
        NOTHING,
        "FOO is required: foo",
        "TestValidUnexistentInterpolation",
    ),
    ("${FOO:?baz} }}}", NOTHING, "FOO is required: baz", "TestValidUnexistentInterpolation"),
    ("${FOO?baz} }}}", NOTHING, "FOO is required: baz", "TestValidUnexistentInterpolation"),
]


@pytest.mark.parametrize(("template", "variables", "message", "source"), _ERRORS)
def test_compose_go_errors(
    template: str, variables: Mapping[str, str], message: str, source: str
) -> None:
    with pytest.raises(InterpolationError) as caught:
        interpolate(template, variables.get)
    assert caught.value.message.startswith(message), source


@pytest.mark.parametrize(
    ("body", "operator"),
    # TestSubstitutionFunctionChoice: the operator is the one right after the name.
    [
        ("VARNAME:?val?ue", ":?"),
        ("VARNAME?val:?ue", "?"),
        ("VARNAME?va-lu+e:?e", "?"),
        ("VARNAME?va+lu-e:?e", "?"),
        ("VARNAME:-value", ":-"),
        ("VARNAME-va:-lu:?e", "-"),
        ("VARNAME-va+lu?e", "-"),
        ("VARNAME-va?lu+e", "-"),
        ("VARNAME:+va:?lu:-e", ":+"),
        ("VARNAME+va:+lue", "+"),
        ("VARNAME+va?lu-e", "+"),
        ("VARNAME+va-lu?e", "+"),
    ],
)
def test_compose_go_operator_choice(body: str, operator: str) -> None:
    rest = body[len("VARNAME") + len(operator) :]
    template = "${" + body + "}"
    unset: dict[str, str] = {}
    empty = {"VARNAME": ""}
    if operator in (":?", "?"):
        with pytest.raises(InterpolationError, match="VARNAME is required"):
            interpolate(template, unset.get)
        assert interpolate(template, {"VARNAME": "v"}.get) == "v"
        if operator == "?":
            assert interpolate(template, empty.get) == ""
        else:
            with pytest.raises(InterpolationError, match="VARNAME is required"):
                interpolate(template, empty.get)
    elif operator in (":-", "-"):
        assert interpolate(template, unset.get) == rest
        assert interpolate(template, empty.get) == (rest if operator == ":-" else "")
    else:
        assert interpolate(template, unset.get) == ""
        assert interpolate(template, empty.get) == (rest if operator == "+" else "")
        assert interpolate(template, {"VARNAME": "v"}.get) == rest


@pytest.mark.parametrize(
    ("template", "warned"),
    [
        ("${A:+${A},}B", []),  # TestLazyDefaultDoesNotWarn
        ("${A:-${B}}", ["B"]),  # TestLazyDefaultWarnsWhenUsed
        ("$A ${B} ${C:-x}", ["A", "B"]),
    ],
)
def test_unset_warnings_are_lazy_like_compose_go(template: str, warned: list[str]) -> None:
    result = interpolate_tree({"k": template}, TEMPLATE.get)
    assert [u.variable for u in result.unset] == warned


def test_compose_go_tree() -> None:
    # interpolation_test.go TestInterpolate: every string value, nested.
    services = {
        "servicea": {
            "image": "example:${USER}",
            "volumes": ["$FOO:/target"],
            "logging": {"driver": "${FOO}", "options": {"user": "$USER"}},
        }
    }
    result = interpolate_tree(services, INTERPOLATION.get)
    assert result.errors == []
    assert result.data == {
        "servicea": {
            "image": "example:jenny",
            "volumes": ["bar:/target"],
            "logging": {"driver": "bar", "options": {"user": "jenny"}},
        }
    }


@pytest.mark.parametrize(
    ("template", "names"),
    # template/variables_test.go TestExtractVariables (names only)
    [
        ("bar", []),
        ("$bar", ["bar"]),
        ("$bar_1", ["bar_1"]),
        ("${bar}", ["bar"]),
        ("${bar?:foo}", ["bar"]),
        ("${bar:-foo}", ["bar"]),
        ("${bar:-${baz}}", ["bar", "baz"]),
        ("$$bar", []),
    ],
)
def test_variables_in(template: str, names: list[str]) -> None:
    assert variables_in(template) == names


# --------------------------------------------------------------------------- limits


def test_nesting_is_bounded_with_an_error_not_a_recursion_error() -> None:
    ok = "${A:-" * MAX_DEPTH + "x" + "}" * MAX_DEPTH
    assert interpolate(ok, NOTHING.get) == "x"
    deep = "${A:-" * (MAX_DEPTH + 1) + "x" + "}" * (MAX_DEPTH + 1)
    with pytest.raises(InterpolationError, match=f"more than {MAX_DEPTH} levels"):
        interpolate(deep, NOTHING.get)
    very_deep = "${A:-" * 5000 + "}" * 5000
    with pytest.raises(InterpolationError, match="levels"):
        interpolate(very_deep, NOTHING.get)
    result = interpolate_tree({"k": deep}, NOTHING.get, keep=lambda _: True)
    assert [e.path for e in result.errors] == [("k",)]


SECRET = "s3cr3t-VALUE"


@pytest.mark.parametrize(
    "template",
    [
        "${",
        "x${PASSWORD",
        "${PASSWORD:-x",
        "${PASSWORD!}",
        "${UNSET:?need ${PASSWORD}}",
        "${UNSET?$PASSWORD}",
        "${PASSWORD:+${UNSET:?no}}",
        "${PASSWORD:+${}}",
        "s3cr3t-VALUE${",
        "${A:-" * (MAX_DEPTH + 2) + "}" * (MAX_DEPTH + 2),
    ],
)
def test_errors_never_hold_a_value_or_the_template(template: str) -> None:
    with pytest.raises(InterpolationError) as caught:
        interpolate(template, {"PASSWORD": SECRET}.get)
    assert SECRET not in str(caught.value)
    assert SECRET not in caught.value.message
