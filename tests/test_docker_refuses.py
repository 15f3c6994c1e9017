"""Values Docker refuses at create or start are refused by validate, before any write.

Each class here once validated, then failed at apply with a container left behind: a short
port spec read as a host address (``8080:80:90``, ``::1:80:80``), a NUL in a string the
daemon hands to the kernel, a service on one of Docker's predefined networks (``host``,
``none``, ``bridge``, where network-scoped aliases are refused). And a port range is
expanded only after its bounds are checked; the duplicate host-port check is linear.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from stackctl import Port, Service
from stackctl.model.service import parse_port_short
from tests.fuzz.harness import guarded_daemon, run_cli

# --------------------------------------------------------------------------- ports

GOOD_PORTS = [
    ("80", [(None, None, 80, "tcp")]),
    ("8080:80", [(None, 8080, 80, "tcp")]),
    (":80", [(None, None, 80, "tcp")]),
    ("127.0.0.1:8080:80/udp", [("127.0.0.1", 8080, 80, "udp")]),
    ("127.0.0.1::80", [("127.0.0.1", None, 80, "tcp")]),
    ("[::1]:80:80", [("::1", 80, 80, "tcp")]),
    ("[2001:db8::1]:53:53/udp", [("2001:db8::1", 53, 53, "udp")]),
    ("1-3:11-13/sctp", [(None, p, p + 10, "sctp") for p in (1, 2, 3)]),
    ("8000-8010:80", [(None, 8000, 80, "tcp")]),
]

BAD_PORTS = [
    ("8080:80:90", "not a host IP address"),
    ("::1:80:80", "in brackets"),
    ("fe80::1:80:80", "in brackets"),
    ("[127.0.0.1]:80:80", "IPv6 addresses only"),
    ("1:2:3:4:80:80", "not a host IP address"),
    ("localhost:80:80", "not a host IP address"),
    ("1-99999999:1-99999999", "not a port"),
    ("1-70000:1-70000/udp", "out of range"),
    ("70000:80", "out of range"),
    ("80:0", "out of range"),
    ("3-1:3-1", "malformed port range"),
    ("1-3:1-4", "different lengths"),
    ("80/xyz", "tcp, udp or sctp"),
    ("80:", "no container port"),
    ("", "no container port"),
    ("8" * 200, "too long"),
]


@pytest.mark.parametrize(("spec", "want"), GOOD_PORTS, ids=[g[0] for g in GOOD_PORTS])
def test_short_ports_parse_as_docker_does(
    spec: str, want: list[tuple[str | None, int | None, int, str]]
) -> None:
    got = [Port(**e) for e in parse_port_short(spec)]
    assert [(p.host_ip, p.published, p.target, p.protocol) for p in got] == want


@pytest.mark.parametrize(("spec", "words"), BAD_PORTS, ids=[b[0][:30] for b in BAD_PORTS])
def test_short_ports_docker_would_refuse_are_refused(spec: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_port_short(spec)
    with pytest.raises(ValidationError):
        Service("web", image="nginx:1", ports=[spec])


@pytest.mark.parametrize("ip", ["8080", "localhost", "1.2.3", "300.1.1.1", "::1::80"])
def test_long_syntax_host_ip_must_be_an_address(ip: str) -> None:
    with pytest.raises(ValidationError, match="host_ip must be an IP address"):
        Service("web", image="nginx:1", ports=[{"target": 80, "host_ip": ip}])
    svc = Service("web", image="nginx:1", ports=[{"target": 80, "host_ip": "[::1]"}])
    assert svc.ports[0].host_ip == "::1"


def _validate(path: Path) -> tuple[int, str]:
    with guarded_daemon() as guard:
        guard.allow = False
        run = run_cli(["validate", str(path)])
        plan = run_cli(["plan", str(path)]) if run.code == 1 else None
        assert guard.calls == 0
    if plan is not None:
        assert plan.code == 1 and "nothing was changed" in plan.err
    return run.code, run.text


@pytest.mark.parametrize("spec", ["8080:80:90", "::1:80:80"])
def test_a_bad_port_is_a_located_error_of_validate_and_plan(tmp_path: Path, spec: str) -> None:
    f = tmp_path / "s.stack.yaml"
    f.write_text(f"name: s\nservices:\n  web:\n    image: nginx:1\n    ports: ['{spec}']\n")
    code, text = _validate(f)
    assert code == 1
    assert f"{f}:5: services.web.ports" in text, text


def test_the_whole_port_range_validates_in_linear_time(tmp_path: Path) -> None:
    """``1-65535:1-65535/udp`` once took 8 minutes (a quadratic duplicate check); two
    services publishing it clash once, with a count, not 65535 times."""
    f = tmp_path / "s.stack.yaml"
    f.write_text(
        "name: s\nservices:\n"
        "  a:\n    image: nginx:1\n    ports: ['127.0.0.1:1-65535:1-65535/udp']\n"
        "  b:\n    image: nginx:1\n    ports: ['1-65535:1-65535/udp']\n"
    )
    start = time.monotonic()
    code, text = _validate(f)
    assert time.monotonic() - start < 120  # ~10 s on a loaded CI machine; was hours
    assert code == 1
    clash = [line for line in text.splitlines() if "is already published" in line]
    assert len(clash) == 1, clash
    assert "and 65534 more ports" in clash[0]


# --------------------------------------------------------------------------- NUL, networks

NUL_INPUTS = {
    "stack.yaml": "name: s\nservices:\n  web:\n    image: nginx:1\n    environment:\n"
    '      A: "x\\0y"\n',
    "compose.yaml": "name: s\nservices:\n  web:\n    image: nginx:1\n    labels:\n"
    '      "k\\0": v\n',
    "stack.json": '{"name": "s", "services": {"web": {"image": "nginx:1",\n'
    '  "command": ["echo", "\\u0000"]}}}\n',
    "stack.py": "from stackctl import Secret, Service, Stack\n"
    "stack = Stack('s', services=[Service('web', image='nginx:1',\n"
    "    environment={'PASSWORD': Secret('pw\\x00hidden')})])\n",
}


@pytest.mark.parametrize("name", sorted(NUL_INPUTS))
def test_a_nul_is_refused_by_every_loader_before_the_daemon(tmp_path: Path, name: str) -> None:
    f = tmp_path / name
    f.write_text(NUL_INPUTS[name])
    code, text = _validate(f)
    assert code == 1
    assert "NUL character" in text and f"{f}:" in text, text
    assert "hidden" not in text  # a secret's value is never shown


@pytest.mark.parametrize("network", ["host", "none", "bridge"])
def test_a_service_on_a_predefined_network_is_refused(tmp_path: Path, network: str) -> None:
    f = tmp_path / "compose.yaml"
    f.write_text(
        "services:\n  web:\n    image: nginx:1\n    networks: [edge]\n"
        f"networks:\n  edge:\n    name: {network}\n    external: true\n"
    )
    code, text = _validate(f)
    assert code == 1
    assert f"{f}:4: services.web.networks.edge: " in text, text
    assert f"predefined network '{network}'" in text
