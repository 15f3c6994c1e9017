"""Real compose files from public repositories (tests/corpus): ``stackctl validate`` on each,
in-process through the command's own code path, against tests/corpus/expected.yaml.

For every file: no crash, every finding located (file and line), and the refusal keys are
the ones the table records, with a reason. Regenerate the table after a change that moves
them: ``.venv/bin/python -m tests.corpus.triage`` (it prints the summary by reason).
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from tests.corpus.corpus import FILES, HERE, REASONS, corpus_files, load_expected, validate

EXPECTED = load_expected()
FILES_NOW = corpus_files()


def test_the_table_covers_every_corpus_file() -> None:
    assert len(FILES_NOW) >= 250
    assert sorted(EXPECTED) == FILES_NOW


def test_every_file_has_a_source_and_a_licence() -> None:
    with (HERE / "SOURCES.csv").open(newline="", encoding="utf-8") as fh:
        rows = {row["file"]: row for row in csv.DictReader(fh)}
    on_disk = sorted(
        str(p.relative_to(FILES))
        for p in FILES.rglob("*")
        if p.is_file() and not _stand_in(p)  # stand-in Dockerfiles: see tests/corpus/README.md
    )
    assert sorted(rows) == on_disk
    for row in rows.values():
        assert row["repository"].count("/") == 1
        assert len(row["commit"]) == 40
        assert row["licence"]


def _stand_in(path: Path) -> bool:
    return path.read_bytes().startswith(b"# A stand-in: the corpus keeps only the compose file")


@pytest.mark.parametrize("rel", FILES_NOW)
def test_corpus_file(rel: str) -> None:
    want = EXPECTED.get(rel, {})
    got = validate(rel, want.get("env"))  # raises (a test failure) if validate crashes
    for d in got.diagnostics:
        assert d.file and d.line, f"not located: {d.format()}"
        assert Path(d.file).resolve().is_relative_to(FILES.resolve()), d.format()
    if "outcome" in want:
        assert want["outcome"] == "ok"
        assert got.errors == [], "\n".join(d.format() for d in got.errors)
        return
    assert got.refused == want.get("refused"), "\n".join(d.format() for d in got.errors)
    assert want.get("reason") in REASONS
    assert want.get("note") and "TRIAGE" not in want["note"]


def test_the_support_table_names_every_compose_key() -> None:
    """docs/compose-support.md has a row for every top-level and service key of the schema."""
    root = Path(__file__).parent.parent
    schema = json.loads((root / "stackctl/data/compose-spec.json").read_text(encoding="utf-8"))
    doc = (root / "docs/compose-support.md").read_text(encoding="utf-8")
    top, _, services = doc.partition("## Service keys")
    top = top.partition("## Top-level keys")[2]

    def first_column(section: str) -> set[str]:
        rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
        return {key for cell in rows for key in re.findall(r"`([a-z_]+)`", cell)}

    assert set(schema["properties"]) <= first_column(top)
    assert set(schema["definitions"]["service"]["properties"]) <= first_column(services)
