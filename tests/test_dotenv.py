"""The one dotenv parser (stackctl.core.dotenv), for ``.env`` and ``env_file`` alike.

The tables port the cases of compose-go's ``dotenv/godotenv_test.go``,
``dotenv/parser_test.go`` and ``dotenv/godotenv_var_expansion_test.go``, and its fixture
files as inline text; each row names the Go test (or fixture). Where stackctl deliberately
differs, the row holds stackctl's value and says why (README, "Interpolation and .env
files").
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from stackctl.backends.docker.desired import desire
from stackctl.core.dotenv import (
    DotenvError,
    chain,
    parse_dotenv,
    read_dotenv_file,
    variables_for,
)
from stackctl.load import load_paths

NO_ENV: dict[str, str] = {}


def parse(text: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
    return parse_dotenv(text, None if env is None else env.get)


# --------------------------------------------------------------------------- one key

_ONE_KEY = [
    # (line(s), key, expected value, compose-go test)
    ("FOO=bar", "FOO", "bar", "TestParsing"),
    ("FOO =bar", "FOO", "bar", "TestParsing"),
    ("FOO= bar", "FOO", "bar", "TestParsing"),
    ('FOO="bar"', "FOO", "bar", "TestParsing"),
    ("FOO='bar'", "FOO", "bar", "TestParsing"),
    ('FOO="escaped\\"bar"', "FOO", 'escaped"bar', "TestParsing"),
    ('FOO="\\"quoted\\""', "FOO", '"quoted"', "TestParsing"),
    ("FOO=\"'d'\"", "FOO", "'d'", "TestParsing"),
    ("OPTION_A: 1", "OPTION_A", "1", "TestParsing"),
    ("OPTION_A: Foo=bar", "OPTION_A", "Foo=bar", "TestParsing"),
    ("OPTION_A=1:B", "OPTION_A", "1:B", "TestParsing"),
    ("export OPTION_A=2", "OPTION_A", "2", "TestParsing"),
    ("export OPTION_B='\\n'", "OPTION_B", "\\n", "TestParsing"),
    ("export exportFoo=2", "exportFoo", "2", "TestParsing"),
    ("exportFOO=2", "exportFOO", "2", "TestParsing"),
    ("export_FOO =2", "export_FOO", "2", "TestParsing"),
    ("export.FOO= 2", "export.FOO", "2", "TestParsing"),
    ("export\tOPTION_A=2", "OPTION_A", "2", "TestParsing"),
    ("  export OPTION_A=2", "OPTION_A", "2", "TestParsing"),
    ("\texport OPTION_A=2", "OPTION_A", "2", "TestParsing"),
    ('export OPTION_A="export A"', "OPTION_A", "export A", "TestParsing"),
    ('FOO="bar\\nbaz"', "FOO", "bar\nbaz", "TestParsing"),
    ("FOO=a\\tb", "FOO", "a\\tb", "TestParsing"),
    ('FOO="a\\tb"', "FOO", "a\tb", "TestParsing"),
    (
        'KEY="Z\\aZ\\bZ\\fZ\\nZ\\rZ\\tZ\\vZ\\\\Z\\0123Z"',
        "KEY",
        "Z\aZ\bZ\fZ\nZ\rZ\tZ\vZ\\ZSZ",
        "TestParsing",
    ),
    ("FOO.BAR=foobar", "FOO.BAR", "foobar", "TestParsing"),
    ("FOO=foobar=", "FOO", "foobar=", "TestParsing"),
    ("FOO=bar ", "FOO", "bar", "TestParsing"),
    ("FOO=bar # this is foo", "FOO", "bar", "TestParsing"),
    ("FOO=bar #this is foo", "FOO", "bar", "TestParsing"),
    ("FOO=bar #", "FOO", "bar", "TestParsing"),
    ("FOO=123#not-an-inline-comment", "FOO", "123#not-an-inline-comment", "TestParsing"),
    ('FOO="bar#baz"', "FOO", "bar#baz", "TestParsing"),
    ('FOO="bar#baz"#', "FOO", "bar#baz", "TestParsing"),
    ('FOO="bar#baz" # comment', "FOO", "bar#baz", "TestParsing"),
    ("FOO='bar#baz' # comment", "FOO", "bar#baz", "TestParsing"),
    ('FOO="bar#baz#bang" # comment', "FOO", "bar#baz#bang", "TestParsing"),
    ('FOO="ba#r"', "FOO", "ba#r", "TestParsing"),
    ("FOO='ba#r'", "FOO", "ba#r", "TestParsing"),
    ('FOO="bar\\n\\ b\\az"', "FOO", "bar\n\\ b\az", "TestParsing"),
    ('FOO="bar\\\\\\n\\ b\\az"', "FOO", "bar\\\n\\ b\az", "TestParsing"),
    ('FOO="bar\\\\r\\ b\\az"', "FOO", "bar\\r\\ b\az", "TestParsing"),
    ('FOO="bar\\nbaz\\\\"', "FOO", "bar\nbaz\\", "TestParsing"),
    (" KEY =value", "KEY", "value", "TestParsing"),
    ("   KEY=value", "KEY", "value", "TestParsing"),
    ("\tKEY=value", "KEY", "value", "TestParsing"),
    ('KEY="\\0123"', "KEY", "S", "TestParsing"),
    ('KEY="\\x07"', "KEY", "\\x07", "TestParsing"),
    ('KEY="\\u12e4"', "KEY", "\\u12e4", "TestParsing"),
    ('KEY="\\U00101234"', "KEY", "\\U00101234", "TestParsing"),
    ("ONE=1\nTWO='2'\nTHREE = \"3\"", "ONE", "1", "TestParse"),
    ("ONE=1\nTWO='2'\nTHREE = \"3\"", "TWO", "2", "TestParse"),
    ("ONE=1\nTWO='2'\nTHREE = \"3\"", "THREE", "3", "TestParse"),
    ("FOO=test\nBAR=$FOO", "BAR", "test", "TestExpanding"),
    ("FOO=test\nBAR=${FOO}bar", "BAR", "testbar", "TestExpanding"),
    ("BAR=$FOO", "BAR", "", "TestExpanding"),
    ('FOO=test\nBAR="quote $FOO"', "BAR", "quote test", "TestExpanding"),
    ("BAR='quote $FOO'", "BAR", "quote $FOO", "TestExpanding"),
    ('FOO="foo\\$BAR"', "FOO", "foo$BAR", "TestExpanding"),
    ('FOO="foo\\${BAR}"', "FOO", "foo${BAR}", "TestExpanding"),
    ('FOO=test\nBAR="foo\\${FOO} ${FOO}"', "BAR", "foo${FOO} test", "TestExpanding"),
    (
        'TEST_URLS="stratum+tcp://stratum.antpool.com:3333\nstratum+tcp://stratum.antpool.com:443"',
        "TEST_URLS",
        "stratum+tcp://stratum.antpool.com:3333\nstratum+tcp://stratum.antpool.com:443",
        "TestVariableStringValueSeparator",
    ),
    ("OPTION_K='Let\\'s go!'", "OPTION_K", "Let's go!", "fixtures/quoted.env"),
    ("\ufeffOPTION_A=1", "OPTION_A", "1", "TestUTF8BOM"),
    ("a=b", "a", "b", "TestParseBytes"),
    ("a[1]=c", "a[1]", "c", "TestParseBytes"),
    ("a.propertyKey=d", "a.propertyKey", "d", "TestParseBytes"),
    (
        "árvíztűrő-TÜKÖRFÚRÓGÉP=ÁRVÍZTŰRŐ-tükörfúrógép",
        "árvíztűrő-TÜKÖRFÚRÓGÉP",
        "ÁRVÍZTŰRŐ-tükörfúrógép",
        "TestParseBytes",
    ),
    ("VAR-WITH-DASHES=dashes", "VAR-WITH-DASHES", "dashes", "TestDash"),
    ("RESULT=${UNSET_VAR:-Default Value}", "RESULT", "Default Value", "TestExpandIfEmptyOrUnset"),
    ("RESULT=${EMPTY_VAR:-Default Value}", "RESULT", "Default Value", "TestExpandIfEmptyOrUnset"),
    ("RESULT=${TEST_VAR:-Default Value}", "RESULT", "Test Value", "TestExpandIfEmptyOrUnset"),
    ("RESULT=${UNSET_VAR-Default Value}", "RESULT", "Default Value", "TestExpandIfUnset"),
    ("RESULT=${EMPTY_VAR-Default Value}", "RESULT", "", "TestExpandIfUnset"),
    ("RESULT=${TEST_VAR-Default Value}", "RESULT", "Test Value", "TestExpandIfUnset"),
    ("RESULT=${TEST_VAR:?Default Value}", "RESULT", "Test Value", "TestErrorIfEmptyOrUnset"),
    ("RESULT=${EMPTY_VAR?Test error}", "RESULT", "", "TestErrorIfUnset"),
    ("RESULT=${TEST_VAR?Default Value}", "RESULT", "Test Value", "TestErrorIfUnset"),
    # compose-go's parser, cases its tests do not spell out
    (
        "FOO= #kept:no-whitespace-before-this-#",
        "FOO",
        "#kept:no-whitespace-before-this-#",
        "parser.go (the space before the # is eaten before the value starts)",
    ),
    ("FOO=#bar", "FOO", "#bar", "parser.go"),
    ("FOO=bar\r", "FOO", "bar", "parser.go (CRLF)"),
    ('FOO="bar"\r\nX=1', "FOO", "bar", "parser.go (CRLF)"),
    ("FOO='a\\\\b'", "FOO", "a\\\\b", "parser.go (single quotes keep \\\\)"),
    ("FOO='a\\nb'", "FOO", "a\\nb", "parser.go"),
    ("FOO='${X}'", "FOO", "${X}", "parser.go"),
    ('FOO="$$X"', "FOO", "$X", "parser.go"),
    ("FOO=$$X", "FOO", "$X", "parser.go"),
    ("FOO=\\$X", "FOO", "\\", "parser.go (no escapes unquoted)"),
    ('FOO="\\0"', "FOO", "\\0", "parser.go (\\0 needs three octal digits)"),
    ('FOO="\\01"', "FOO", "\\01", "parser.go"),
    ('FOO="\\0012"', "FOO", "\n", "parser.go"),
    ('FOO="\\0377"', "FOO", "\xff", "parser.go"),
    ('FOO="\\0400"', "FOO", "\\0400", "parser.go (over 0377)"),
    ('FOO="\\0189"', "FOO", "\\0189", "parser.go (not octal)"),
    ('FOO="\\q"', "FOO", "\\q", "parser.go (unknown escape kept)"),
    ("FOO=\n", "FOO", "", "parser.go"),
    ("FOO=''", "FOO", "", "parser.go"),
    ('FOO=""', "FOO", "", "parser.go"),
    ("FOO='a'  # c", "FOO", "a", "parser.go"),
    ("1FOO=x", "1FOO", "x", "parser.go: a key may start with a digit"),
    ("FOO=^REGEX$", "FOO", "^REGEX$", "template.go: a lone $ is kept"),
    ("FOO=${X:-{x}}", "FOO", "{x}", "template.go: braces balance"),
    ("FOO=a\nFOO=b", "FOO", "b", "parser.go: the last wins"),
    ("FOO=a\nFOO=${FOO}b", "FOO", "ab", "parser.go: earlier keys"),
    # Deliberate difference: a tab before '#' starts an inline comment too (compose-go
    # only cuts at " #", keeping "a\t# c").
    ("FOO=a\t# c", "FOO", "a", "stackctl: tab comment"),
    ("FOO=a \t# c", "FOO", "a", "stackctl: tab comment"),
]


@pytest.mark.parametrize(("text", "key", "value", "source"), _ONE_KEY)
def test_one_key(text: str, key: str, value: str, source: str) -> None:
    # godotenv_var_expansion_test.go's envMap, asked as the lookup
    env = {"EMPTY_VAR": "", "TEST_VAR": "Test Value"}
    values = parse(text, env if "_VAR" in text else None)
    assert key in values, source
    assert values[key] == value, source


# --------------------------------------------------------------------------- whole files

_PLAIN = (
    "OPTION_A=1\nOPTION_B=2\nOPTION_C= 3\nOPTION_D =4\nOPTION_E = 5\n456 = ABC\n"
    "OPTION_F = \nOPTION_G=\nOPTION_H = my string # Inline comment\n"
)
_QUOTED = (
    "OPTION_A='1'\nOPTION_B='2'\nOPTION_C=''\nOPTION_D='\\n'\nOPTION_E=\"1\"\nOPTION_F=\"2\"\n"
    'OPTION_G=""\nOPTION_H="\\n"\nOPTION_I = "echo \'asd\'" # Inline comment\n'
    "OPTION_J = 'first line\nsecond line\nthird line\nand so on'\n"
    "OPTION_K='Let\\'s go!'\nOPTION_Z = \"last value\"\n"
)
_UNQUOTED = (
    'OPTION_A = "some quoted phrase"\nOPTION_B=first one with an unquoted phrase\n'
    "OPTION_C = then another one with an unquoted phrase\n"
    "OPTION_D = then another one with an unquoted phrase special è char\n"
    'OPTION_E = "then another one quoted phrase"\n'
)
_SUBSTITUTIONS = (
    "OPTION_A=1\nOPTION_B=${OPTION_A}\nOPTION_C=$OPTION_B\nOPTION_D=${OPTION_A}_${OPTION_B}\n"
    "OPTION_E=${OPTION_NOT_DEFINED}\n"
)
_SUBSTITUTIONS_DEFAULT = _SUBSTITUTIONS.replace("OPTION_A=1", "OPTION_A=${OPTION_A:-1}")
_INHERITED = "foo=bar\nVAR_TO_BE_LOADED_FROM_OS_ENV\nbar=baz\n"
_OS = {"VAR_TO_BE_LOADED_FROM_OS_ENV": "SOME_RANDOM_VALUE"}

_FILES = [
    # (file text, lookup, expected: every key, compose-go test / fixture)
    (
        _PLAIN,
        NO_ENV,
        # TestReadPlainEnv reads through Read(), which drops keys starting with a digit;
        # Compose v2 reads .env and env_file through parseWithLookup, which keeps them,
        # and so does stackctl.
        {
            "OPTION_A": "1",
            "OPTION_B": "2",
            "OPTION_C": "3",
            "OPTION_D": "4",
            "OPTION_E": "5",
            "456": "ABC",
            "OPTION_F": "",
            "OPTION_G": "",
            "OPTION_H": "my string",
        },
        "TestReadPlainEnv, fixtures/plain.env",
    ),
    (
        "\ufeff" + _PLAIN,
        NO_ENV,
        {
            "OPTION_A": "1",
            "OPTION_B": "2",
            "OPTION_C": "3",
            "OPTION_D": "4",
            "OPTION_E": "5",
            "456": "ABC",
            "OPTION_F": "",
            "OPTION_G": "",
            "OPTION_H": "my string",
        },
        "TestUTF8BOM, fixtures/utf8-bom.env",
    ),
    (
        _QUOTED,
        NO_ENV,
        {
            "OPTION_A": "1",
            "OPTION_B": "2",
            "OPTION_C": "",
            "OPTION_D": "\\n",
            "OPTION_E": "1",
            "OPTION_F": "2",
            "OPTION_G": "",
            "OPTION_H": "\n",
            "OPTION_I": "echo 'asd'",
            "OPTION_J": "first line\nsecond line\nthird line\nand so on",
            "OPTION_K": "Let's go!",
            "OPTION_Z": "last value",
        },
        "TestLoadQuotedEnv, fixtures/quoted.env",
    ),
    (
        _UNQUOTED,
        NO_ENV,
        {
            "OPTION_A": "some quoted phrase",
            "OPTION_B": "first one with an unquoted phrase",
            "OPTION_C": "then another one with an unquoted phrase",
            "OPTION_D": "then another one with an unquoted phrase special è char",
            "OPTION_E": "then another one quoted phrase",
        },
        "TestLoadUnquotedEnv, fixtures/unquoted.env",
    ),
    (
        "export OPTION_A=2\nexport OPTION_B='\\n'\n",
        NO_ENV,
        {"OPTION_A": "2", "OPTION_B": "\\n"},
        "TestLoadExportedEnv, fixtures/exported.env",
    ),
    (
        "export OPTION_A='postgres://localhost:5432/database?sslmode=disable'\n\n",
        NO_ENV,
        {"OPTION_A": "postgres://localhost:5432/database?sslmode=disable"},
        "TestLoadEqualsEnv, fixtures/equals.env",
    ),
    (
        "VAR.WITH.DOTS=dots\nVAR_WITH_UNDERSCORES=underscores\nVAR-WITH-DASHES=dashes\n",
        NO_ENV,
        {
            "VAR.WITH.DOTS": "dots",
            "VAR_WITH_UNDERSCORES": "underscores",
            "VAR-WITH-DASHES": "dashes",
        },
        "TestDash, fixtures/special.env",
    ),
    (
        _SUBSTITUTIONS,
        NO_ENV,
        {"OPTION_A": "1", "OPTION_B": "1", "OPTION_C": "1", "OPTION_D": "1_1", "OPTION_E": ""},
        "TestSubstitutions, fixtures/substitutions.env",
    ),
    (
        _SUBSTITUTIONS,
        {"OPTION_A": "5"},
        {"OPTION_A": "1", "OPTION_B": "5", "OPTION_C": "5", "OPTION_D": "5_5", "OPTION_E": ""},
        "TestSubstitutionsWithEnvFilePrecedence (the lookup before earlier keys)",
    ),
    (
        _SUBSTITUTIONS_DEFAULT,
        {"OPTION_A": "5"},
        {"OPTION_A": "5", "OPTION_B": "5", "OPTION_C": "5", "OPTION_D": "5_5", "OPTION_E": ""},
        "TestSubstitutionsWithEnvFileDefaultValuePrecedence",
    ),
    (
        _SUBSTITUTIONS_DEFAULT,
        NO_ENV,
        {"OPTION_A": "1", "OPTION_B": "1", "OPTION_C": "1", "OPTION_D": "1_1", "OPTION_E": ""},
        "TestSubstitutionsWithUnsetVarEnvFileDefaultValuePrecedence",
    ),
    (
        _INHERITED,
        _OS,
        {"foo": "bar", "VAR_TO_BE_LOADED_FROM_OS_ENV": "SOME_RANDOM_VALUE", "bar": "baz"},
        "TestInheritedEnvVariableSameSize, fixtures/inherited-multi-var.env",
    ),
    (
        "VAR_TO_BE_LOADED_FROM_OS_ENV\n",
        _OS,
        {"VAR_TO_BE_LOADED_FROM_OS_ENV": "SOME_RANDOM_VALUE"},
        "TestInheritedEnvVariableSingleVar, fixtures/inherited-single-var.env",
    ),
    ("VARIABLE_NOT_FOUND\n", NO_ENV, {}, "TestInheritedEnvVariableNotFound"),
    ("VARIABLE_NOT_FOUND\n", _OS, {}, "TestInheritedEnvVariableNotFoundWithLookup"),
    # Deliberate difference: a bare KEY on the last line without a newline is a bare key
    # (compose-go reads it as the value of the key "").
    ("VAR_TO_BE_LOADED_FROM_OS_ENV", _OS, _OS, "stackctl: bare key at the end"),
    ("TEST=$ME", {"ME": "YES"}, {"TEST": "YES"}, "TestExpandingEnvironmentWithLookup"),
    ("\n", NO_ENV, {}, "TestLinesToIgnore"),
    ("\r\n", NO_ENV, {}, "TestLinesToIgnore"),
    ("\t\t ", NO_ENV, {}, "TestLinesToIgnore"),
    ("# Comment", NO_ENV, {}, "TestLinesToIgnore"),
    ("\t # comment", NO_ENV, {}, "TestLinesToIgnore"),
    ("", NO_ENV, {}, "TestLinesToIgnore"),
    ("# a\n\n  # b\nA=1 # c\n#d", NO_ENV, {"A": "1"}, "TestLinesToIgnore"),
    ("A=1\r\nB='2'\r\nC=\"3\"\r\n", NO_ENV, {"A": "1", "B": "2", "C": "3"}, "CRLF lines"),
    (
        'ENV_HOSTNAME=localhost\nENV_MY_URL="http://${ENV_HOSTNAME}"\n',
        {"ENV_HOSTNAME": "host.local"},
        {"ENV_HOSTNAME": "localhost", "ENV_MY_URL": "http://host.local"},
        "TestMultipleFiles (the lookup wins over the file's own keys)",
    ),
]


@pytest.mark.parametrize(("text", "env", "expected", "source"), _FILES)
def test_files(text: str, env: Mapping[str, str], expected: dict[str, str], source: str) -> None:
    assert parse(text, env) == expected, source


def test_many_keys() -> None:
    # parser_test.go TestMemoryExplosion: 1000 lines, 1000 keys
    text = "\n".join(f"KEY{i}=VALUE{i}" for i in range(1000))
    values = parse(text)
    assert len(values) == 1000
    assert values["KEY999"] == "VALUE999"


def test_multiple_files_see_each_other_through_the_lookup() -> None:
    # godotenv_test.go TestMultipleFiles: a later file's references see the earlier's keys
    base = parse_dotenv('ENV_HOSTNAME=localhost\nENV_MY_URL="http://${ENV_HOSTNAME}"\n')
    override = parse_dotenv(
        'ENV_HOSTNAME=dev.my-company.com\nENV_MY_URL="http://${ENV_HOSTNAME}"\n', base.get
    )
    assert {**base, **override}["ENV_MY_URL"] == "http://localhost"  # the lookup wins
    override = parse_dotenv(
        'ENV_HOSTNAME=dev.my-company.com\nENV_MY_URL="http://${ENV_HOSTNAME}"\n',
        chain({"ENV_HOSTNAME": "host.local"}.get, base.get),
    )
    assert override["ENV_MY_URL"] == "http://host.local"


# --------------------------------------------------------------------------- errors

_ERRORS = [
    # (text, line, what the message says, compose-go test)
    ('KEY="', 1, "never closed", "TestUnterminatedQuotes"),
    ('KEY="value', 1, "never closed", "TestUnterminatedQuotes"),
    ('KEY="value\\"', 1, "never closed", "TestUnterminatedQuotes"),
    ("KEY=\"value'", 1, "never closed", "TestUnterminatedQuotes"),
    ("KEY='", 1, "never closed", "TestUnterminatedQuotes"),
    ("KEY='value", 1, "never closed", "TestUnterminatedQuotes"),
    ("KEY='value\\'", 1, "never closed", "TestUnterminatedQuotes"),
    ("KEY='value\"", 1, "never closed", "TestUnterminatedQuotes"),
    ("A=1\nB=2\nKEY='value\nmore", 3, "never closed", "TestUnterminatedQuotes (located)"),
    ("lol$wut", 1, "unexpected character '$'", "TestParsing"),
    ("%!(EXTRA string)=foo", 1, "unexpected character '%'", "TestParseVariable"),
    (
        '# some comments\nfoo="\n  a\n  multine\n  value\n"\nINVALID LINE\nzot=qix',
        7,
        "cannot contain whitespace",
        "TestErrorParsing, fixtures/invalid1.env",
    ),
    ("FOO BAR=1", 1, "cannot contain whitespace", "TestErrorParsing"),
    (
        "RESULT=${UNSET_VAR:?Test error}",
        1,
        "UNSET_VAR is required: Test error",
        "TestErrorIfEmptyOrUnset",
    ),
    (
        "RESULT=${EMPTY_VAR:?Test error}",
        1,
        "EMPTY_VAR is required: Test error",
        "TestErrorIfEmptyOrUnset",
    ),
    ("RESULT=${UNSET_VAR?Test error}", 1, "UNSET_VAR is required: Test error", "TestErrorIfUnset"),
    ("A=1\n\nB=${", 3, "invalid '${'", "template.go"),
    ('A=1\nB="x\ny${"', 2, "invalid '${'", "template.go (located at the key)"),
    ("A=${X:-" + "${X:-" * 120 + "}" * 121, 1, "levels", "stackctl: nesting bound"),
    # Deliberate differences: compose-go reads these without an error.
    ('="value"', 1, "name is missing", 'TestParsing (compose-go: the key "")'),
    ('FOO="a"b', 1, "after the closing quote", "stackctl (compose-go: FOO=a, b inherited)"),
    ("FOO='a' B=1", 1, "after the closing quote", "stackctl (compose-go: FOO=a, B=1)"),
    ("FOO\tBAR=1", 1, "cannot contain whitespace", "stackctl (compose-go: the key FOO\\tBAR)"),
    ('FOO="a\\0000"', 1, "NUL", "stackctl (no environment holds a NUL)"),
    ("A=1\n\ufeffB=2", 2, "unexpected character", "parser.go: a BOM only at the start"),
]


@pytest.mark.parametrize(("text", "line", "message", "source"), _ERRORS)
def test_errors_are_located(text: str, line: int, message: str, source: str) -> None:
    env = {"EMPTY_VAR": ""}
    with pytest.raises(DotenvError) as caught:
        parse_dotenv(text, env.get, file="app.env")
    assert caught.value.line == line, source
    assert message in caught.value.problem, source
    assert str(caught.value).startswith(f"app.env:{line}: "), source


SECRET = "hunter2-s3cr3t"


@pytest.mark.parametrize(
    "text",
    [
        f'PASSWORD="{SECRET}',
        f"PASSWORD='{SECRET}",
        f'PASSWORD="{SECRET}"x',
        f"PASSWORD={SECRET}${{",
        f"PASSWORD={SECRET}${{X:?nope}}",
        f'PASSWORD="{SECRET}${{X!}}"',
        f"PASSWORD {SECRET}=x",
        f"{SECRET}$=x",
        f"PASSWORD={SECRET}\0",
        f"A=${{PASSWORD:+${{X:?need}}}}\nPASSWORD={SECRET}",
    ],
)
def test_errors_never_hold_a_value(text: str) -> None:
    with pytest.raises(DotenvError) as caught:
        parse_dotenv(text, {"PASSWORD": SECRET}.get, file="x.env")
    assert SECRET not in str(caught.value)
    assert SECRET not in (caught.value.hint or "")


def test_a_file_that_is_not_utf8_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.env"
    path.write_bytes(b"A=1\nB=2\nPASSWORD=caf\xe9-secret\n")
    with pytest.raises(DotenvError) as caught:
        read_dotenv_file(path)
    assert caught.value.line == 3
    assert "not UTF-8" in str(caught.value)
    assert "secret" not in str(caught.value)
    assert caught.value.file == str(path)


def test_a_bom_file_reads(tmp_path: Path) -> None:
    path = tmp_path / "bom.env"
    path.write_bytes(b"\xef\xbb\xbfA=1\n")
    assert read_dotenv_file(path) == {"A": "1"}


# --------------------------------------------------------------------------- .env = env_file

PARITY_FILE = "\n".join(
    [
        "\ufeff# every kind of line, read as .env and as env_file",
        "export A=1",
        "B = spaced  # trailing comment",
        "C=a\t# tab comment",
        'D="double $A\\nnext\\t\\"q\\""',
        "E='single $A # not a comment'",
        "F='Let\\'s go'",
        'G="multi',
        'line"',
        "H=${A}${MISSING:-dflt}",
        "I=",
        "J=a#b",
        'K="escaped \\$A and $$A"',
        "L=${A:-{x}}",
        "M=^REGEX$",
        "INHERITED",
        "NOT_SET_ANYWHERE",
        "1DIGIT=first",
        "N: yaml style",
        "O=$FROM_PROCESS",
        "P=${A}_${B}",
    ]
)
PARITY_EXPECTED = {
    "A": "1",
    "B": "spaced",
    "C": "a",
    "D": 'double 1\nnext\t"q"',
    "E": "single $A # not a comment",
    "F": "Let's go",
    "G": "multi\nline",
    "H": "1dflt",
    "I": "",
    "J": "a#b",
    "K": "escaped $A and $A",
    "L": "1",
    "M": "^REGEX$",
    "INHERITED": "from the process",
    "1DIGIT": "first",
    "N": "yaml style",
    "O": "process value",
    "P": "1_spaced",
}


def test_env_file_and_dotenv_give_the_same_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INHERITED", "from the process")
    monkeypatch.setenv("FROM_PROCESS", "process value")
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    monkeypatch.delenv("MISSING", raising=False)
    for name in PARITY_EXPECTED:
        if name not in ("INHERITED",):
            monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text(PARITY_FILE, encoding="utf-8")
    (tmp_path / "app.env").write_text(PARITY_FILE, encoding="utf-8")
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    image: busybox:1.36\n    env_file: [./app.env]\n"
    )

    variables, problems = variables_for(tmp_path)
    assert problems == []
    assert variables.dotenv == PARITY_EXPECTED

    stacks = load_paths([tmp_path / "compose.yaml"])
    (container,) = desire(stacks).containers
    env = {k: v for k, v in container.env.items() if k in PARITY_EXPECTED}
    assert env == PARITY_EXPECTED
    assert env == variables.dotenv


def test_env_file_errors_are_located_at_the_env_file(tmp_path: Path) -> None:
    (tmp_path / "app.env").write_text("A=1\nB='never closed\n")
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    image: busybox:1.36\n    env_file: [./app.env]\n"
    )
    stacks = load_paths([tmp_path / "compose.yaml"])
    with pytest.raises(Exception) as caught:
        desire(stacks)
    text = str(caught.value)
    assert f"{tmp_path / 'app.env'}:2" in text
    assert "never closed" in text
    assert "services.web.env_file[0]" in text


def test_env_file_references_see_dotenv_and_the_service_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FROM_DOTENV", raising=False)
    monkeypatch.delenv("OWN", raising=False)
    (tmp_path / ".env").write_text("FROM_DOTENV=d\n")
    (tmp_path / "app.env").write_text("X=${FROM_DOTENV}-${OWN}\nOWN\n")
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    image: busybox:1.36\n    env_file: [./app.env]\n"
        "    environment: {OWN: o}\n"
    )
    (container,) = desire(load_paths([tmp_path / "compose.yaml"])).containers
    assert container.env["X"] == "d-o"
    assert container.env["OWN"] == "o"


def test_dotenv_problems_are_located(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=1\nB C=2\n")
    _, problems = variables_for(tmp_path, {})
    assert [(p.line, "whitespace" in p.message) for p in problems] == [(2, True)]
