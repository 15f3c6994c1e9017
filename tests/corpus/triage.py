"""Validate every corpus file, rewrite expected.yaml, print the refusals by reason and key.

    .venv/bin/python -m tests.corpus.triage            # rewrite expected.yaml, print summary
    .venv/bin/python -m tests.corpus.triage --check    # print only; exit 1 if it differs

A file whose refusal keys did not change keeps its reason and note (edit them by hand when
a file needs its own); a changed or new file gets the reason and note its keys have in
KEY_INFO (the worst reason of them; a key not in KEY_INFO is a "wrong-refusal" with a
"TRIAGE:" note, which the test refuses until a person has looked). ``--fresh`` forgets the
hand-made reasons and notes. After merging a feature, run it and read the diff.
"""

from __future__ import annotations

import argparse
import collections
import sys
from typing import Any

import yaml

from tests.corpus.corpus import EXPECTED, FILES, REASONS, corpus_files, load_expected, validate

# What a refusal key means when a file is refused for it: (reason, note). A key missing here
# is a "wrong-refusal" until a person looks at it. "pending: BRANCH" names the branch that
# lands the feature (update the row once it is merged).
_SMALL = "pending: netmode (the small keys)"
_NETMODE = "pending: netmode (host/none/container/service)"
_BRIDGE = (
    "network_mode: bridge (Docker's default bridge network; Compose accepts it): "
    "pending: netmode if it covers `bridge`, else a wrong refusal"
)
_AS_STACK = (
    "pending: loader (a compose file under another name is read as the stack format; "
    "every other key listed follows from that)"
)
KEY_INFO: dict[str, tuple[str, str]] = {
    "unsupported: build": ("unsupported-yet", "pending: build"),
    "required: image": ("unsupported-yet", "pending: build (no `image` beside build:)"),
    "unsupported: network_mode": ("unsupported-yet", _NETMODE),
    "unsupported: links": ("unsupported-yet", _SMALL),
    "unsupported: ulimits": ("unsupported-yet", _SMALL),
    "unsupported: pids_limit": ("unsupported-yet", _SMALL),
    "unsupported: runtime": ("unsupported-yet", _SMALL),
    "unsupported: platform": ("unsupported-yet", _SMALL),
    "unsupported: configs": ("unsupported-yet", _SMALL + ": service configs from a file"),
    "unsupported: mem_limit": ("unsupported-yet", _SMALL + ": legacy resource keys"),
    "unsupported: cpus": ("unsupported-yet", _SMALL + ": legacy resource keys"),
    "unsupported: profiles": ("unsupported-yet", "pending: loader (profiles)"),
    "unsupported: extends": ("unsupported-yet", "pending: loader (extends)"),
    "unsupported: include": ("unsupported-yet", "pending: loader (include)"),
    "unknown-network": (
        "real-error",
        "joins a network the file does not declare (runtipi "
        "adds tipi_main_network itself); Compose refuses it too",
    ),
    "missing-env-file": (
        "real-error",
        "env_file names a file the repository does not hold "
        "(Portainer's stack.env); Compose refuses it too",
    ),
    "interpolation: required variable": ("real-error", "${VAR:?} without VAR; Compose too"),
    "invalid: has non-unique elements": (
        "real-error",
        "a list holds the same item twice; Compose refuses it too (the message quotes the "
        "whole list and never says which item: issue 18, better messages)",
    ),
    "interpolation: syntax": (
        "real-error",
        "a platform's own `content:` key holding `${[` or "
        "`${env:`; Compose refuses both (invalid interpolation format)",
    ),
    "invalid: a `<<` merge key needs a mapping or a list of mappings": (
        "real-error",
        "`<<: *list` merges a list; go-yaml refuses it too",
    ),
    "invalid-dns": ("real-error", "dns: ${DNS_IP} unset gives ''"),
    "config-source": (
        "wrong-refusal",
        "a `content:` or `environment:` config: Compose copies it into the container",
    ),
    "unknown-volume": (
        "real-error",
        "a named volume no `volumes:` declares (the platform adds it); Compose refuses it "
        "too (refers to undefined volume)",
    ),
    "invalid: build context": (
        "unsupported-yet",
        "a build context URL the daemon's classic builder cannot fetch (not Git, not HTTP)",
    ),
    "build-context": (
        "real-error",
        "the build folder does not exist (the corpus keeps stand-in Dockerfiles where the "
        "repository had the folder)",
    ),
    "invalid-name": (
        "real-error",
        "container_name: ${VAR}-x with VAR unset gives '-x'; Docker refuses it too",
    ),
    "bind-outside-stack": (
        "wrong-refusal",
        "a relative bind source outside the stack's folder "
        "(../files/...) is refused by stackctl's rule; Compose accepts it",
    ),
    "unsupported: devices": (
        "wrong-refusal",
        "deploy.resources.reservations.devices (GPU "
        "requests): Compose passes DeviceRequests on one host; no branch",
    ),
    "unsupported: cpu_shares": (
        "wrong-refusal",
        "cpu_shares (HostConfig.CpuShares) works on one host; no branch covers it",
    ),
}
_RANK = {r: i for i, r in enumerate(REASONS)}


def network_modes(rel: str) -> set[str]:
    """The ``network_mode`` kinds the file's services use (``host``, ``bridge``, ``service``)."""
    data = yaml.safe_load((FILES / rel).read_text(encoding="utf-8"))
    services = data.get("services") if isinstance(data, dict) else None
    return {
        str(svc["network_mode"]).split(":")[0]
        for svc in (services or {}).values()
        if isinstance(svc, dict) and "network_mode" in svc
    }


def entry(rel: str, refused: list[str], old: dict[str, Any] | None) -> dict[str, Any]:
    """The expected.yaml entry for a file refused for ``refused`` (kept when unchanged)."""
    env = {"env": old["env"]} if old and "env" in old else {}
    if not refused:
        return {"outcome": "ok", **env}
    if old and old.get("refused") == refused and old.get("reason") in REASONS:
        return {k: old[k] for k in ("refused", "reason", "note", "env") if k in old}
    if "required: name" in refused:  # read as the stack format: the rest follows from that
        return {"refused": refused, "reason": "unsupported-yet", "note": _AS_STACK, **env}
    info = [KEY_INFO.get(k, ("wrong-refusal", f"TRIAGE: {k}")) for k in refused]
    reason = max((r for r, _ in info), key=_RANK.__getitem__)
    notes = list(dict.fromkeys(n for r, n in info if r == reason))
    if _NETMODE in notes and "bridge" in network_modes(rel):
        notes[notes.index(_NETMODE)] = _BRIDGE
    return {"refused": refused, "reason": reason, "note": "; ".join(notes), **env}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="do not rewrite expected.yaml")
    ap.add_argument("--fresh", action="store_true", help="reasons and notes from KEY_INFO")
    args = ap.parse_args()
    expected = load_expected()
    if args.fresh:
        expected = {k: {"env": v["env"]} if "env" in v else {} for k, v in expected.items()}
    table: dict[str, dict[str, Any]] = {}
    for rel in corpus_files():
        old = expected.get(rel)
        table[rel] = entry(rel, validate(rel, (old or {}).get("env")).refused, old)
    print_summary(table)
    changed = table != expected
    if not args.check:
        EXPECTED.write_text(render(table), encoding="utf-8")
        print(f"\nwrote {EXPECTED}" + ("" if changed else " (unchanged)"))
        return 0
    return 1 if changed else 0


def print_summary(table: dict[str, dict[str, Any]]) -> None:
    ok = sum(1 for e in table.values() if e.get("outcome") == "ok")
    print(f"{len(table)} files: {ok} valid, {len(table) - ok} refused")
    by_reason = collections.Counter(e["reason"] for e in table.values() if "reason" in e)
    print("\nfiles by reason")
    for reason in REASONS:
        print(f"  {by_reason.get(reason, 0):4d}  {reason}")
    by_key: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for e in table.values():
        for key in e.get("refused", []):
            by_key[key][e["reason"]] += 1
    print("\nfiles by refusal key (a file counts once per key; by the file's reason)")
    for key, counts in sorted(by_key.items(), key=lambda kv: -sum(kv[1].values())):
        detail = ", ".join(f"{r} {n}" for r, n in sorted(counts.items()))
        print(f"  {sum(counts.values()):4d}  {key}  ({detail})")


HEADER = """\
# Expected outcome of `stackctl validate` on each corpus file (tests/test_corpus.py).
# Regenerate with `.venv/bin/python -m tests.corpus.triage` (see its docstring).
#   outcome: ok                      the file validates
#   refused: [keys]                  the refusal keys (tests/corpus/corpus.py: refusal_key)
#   reason: real-error | single-host-impossible | unsupported-yet | wrong-refusal
#   note: why, or "pending: <branch>" when another branch lands the feature
#   env: {VAR: value}                variables set for the file (Compose would read them too)
"""


def render(table: dict[str, dict[str, Any]]) -> str:
    body = yaml.safe_dump(table, sort_keys=False, allow_unicode=True, width=100)
    return HEADER + body


if __name__ == "__main__":
    sys.exit(main())
