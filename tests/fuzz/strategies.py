"""Hypothesis strategies for bad stacks: a grammar around the stack and compose formats.

Documents are built as data first, valid keys mostly, each value drawn from what that key
takes (``ports: ["8080:80"]``), from what it must refuse (a wrong type, a port out of range,
``../../etc``) or from plain junk, plus unknown keys, odd unicode, deep nesting and long
lists. Then they are written out as YAML or JSON and, sometimes, damaged as text or bytes
(tabs, NUL, invalid UTF-8, a truncated tail, a duplicated line, an alias bomb).
"""

from __future__ import annotations

import json
import math
from typing import Any

import yaml
from hypothesis import strategies as st

BUSYBOX = "stackctl-test/busybox:1"

# --------------------------------------------------------------------------- scalars

ODD_TEXT = [
    "",
    " ",
    "ü",
    "名前",
    "💥",
    "a b",
    "UPPER",
    "-lead",
    "_x",
    "x" * 300,
    "\u200b",
    "\u202e",
    "\ufeff",
    "tab\there",
    "new\nline",
    "nul\x00",
    "\x07bell",
    "$",
    "${",
    "${FUZZ_UNSET}",
    "${FUZZ_UNSET:?needed}",
    "${API_TOKEN}",
    "Bearer ${SECRET_KEY:-x}",
    "$$",
    "$ {x}",
    "../../etc",
    "/",
    "~",
    ".",
    "..",
    "null",
    "yes",
    "0x1F",
    "1e3",
    "-1",
    "65536",
    "*alias",
    "&anchor",
    "!!str",
    "{}",
    "[]",
    "'",
    '"',
    "#",
    ": ",
    "- ",
]

odd_text = st.sampled_from(ODD_TEXT)
text = st.one_of(odd_text, st.text(max_size=12), st.text(st.characters(codec="ascii"), max_size=8))
ints = st.one_of(
    st.sampled_from([0, -1, 1, 65535, 65536, 2**31, 2**63, 10**30]), st.integers(-5, 70000)
)
floats = st.floats(allow_nan=True, allow_infinity=True)
scalar = st.one_of(st.none(), st.booleans(), ints, floats, text)
junk = st.recursive(
    scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)),
    max_leaves=12,
)


def deep(depth: int) -> Any:
    value: Any = "bottom"
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


deep_values = st.integers(1, 140).map(deep)


def either(plausible: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly what the key takes (first, so shrinking goes there), sometimes anything."""
    return st.one_of(plausible, plausible, junk)


# --------------------------------------------------------------------------- service keys

names = st.one_of(
    st.sampled_from(["web", "db", "app-1", "a", "x.y", "my app", "wéb", "-x", "UP", "a" * 70]),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=10),
)
images = st.sampled_from(
    [BUSYBOX, "busybox", "nginx:latest", "UPPER:1", "a@sha256:abc", "", "x:y:z", "ghcr.io/o/a:1"]
)
ports = st.lists(
    st.one_of(
        st.sampled_from(
            [
                *("80", "8080:80", "127.0.0.1:18080:80/udp", "[::1]:80:80", "1-3:4-6"),
                *("70000:80", "x:y", "80/xyz", "", ":80", "0.0.0.0:5432:5432", "1:" * 50 + "2"),
                # issue 24: read as a host address by Docker, ranges too big to expand
                *("8080:80:90", "::1:80:80", "[127.0.0.1]:80:80", "fe80::1%eth0:80:80"),
                *("1-99999999:1-99999999", "1-65535:1-65535/udp", "65535-1:1-65535"),
            ]
        ),
        st.builds(
            lambda ip, a, b: f"{ip}:{a}:{b}",
            st.sampled_from(["127.0.0.1", "[::1]", "::1", "8080", "", "[]", "[x]", "1.2.3"]),
            st.sampled_from(["80", "1-10", "0", "65536", "", "1-"]),
            st.sampled_from(["80", "1-10", "80/udp", "80/", "0"]),
        ),
        ints,
        st.fixed_dictionaries(
            {"target": either(ints)},
            optional={"published": either(text), "host_ip": either(text)},
        ),
    ),
    max_size=4,
)
volumes = st.lists(
    st.one_of(
        st.sampled_from(
            [
                *("./data:/data", "../../etc:/etc2", "../x:/x:ro", "data:/data", "/abs:/abs:rw"),
                *("./a:relative", "a:b:c:d", ":", "/x", "vol:/v:nocopy", "./x:/x:bogus"),
                *("~/h:/h", "/var/run/docker.sock:/var/run/docker.sock", "./a/../../b:/b"),
                ".:/here",
            ]
        ),
        st.fixed_dictionaries(
            {"type": st.sampled_from(["bind", "volume", "tmpfs", "npipe"]), "target": text},
            optional={"source": either(st.sampled_from(["./d", "../../up", "v", "/abs"]))},
        ),
    ),
    max_size=4,
)
env_values = st.one_of(
    st.sampled_from(["1", "${API_TOKEN}", "Bearer ${DB_PASSWORD}", "${X:?required}", "$"]),
    text,
    ints,
    st.none(),
)
environment = st.one_of(
    st.dictionaries(
        st.one_of(st.sampled_from(["A", "API_TOKEN", "AUTH", "DB_PASSWORD", "="]), text),
        env_values,
        max_size=4,
    ),
    st.lists(
        st.one_of(st.sampled_from(["A=1", "B", "=x", "C=${TOKEN}", "URL=u:${PASSWORD}@h"]), text),
        max_size=4,
    ),
)
healthcheck = st.fixed_dictionaries(
    {},
    optional={
        "test": either(st.sampled_from(["true", ["CMD", "true"], ["CMD"], ["NONE"], ["BAD"]])),
        "interval": either(st.sampled_from(["5s", "1m30s", "5", "x", "500ms", "1" * 40 + "x"])),
        "retries": either(ints),
        "disable": either(st.booleans()),
    },
)
service_networks = st.one_of(
    st.lists(names, max_size=3),
    st.dictionaries(
        names,
        st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {},
                optional={
                    "aliases": either(st.lists(text, max_size=2)),
                    "ipv4_address": either(
                        st.sampled_from(["172.28.0.5", "999.1.1.1", "::1", "x"])
                    ),
                },
            ),
        ),
        max_size=3,
    ),
)
depends_on = st.one_of(
    st.lists(names, max_size=3),
    st.dictionaries(
        names,
        st.one_of(
            st.sampled_from(["service_started", "service_healthy", "whenever"]),
            st.fixed_dictionaries({"condition": either(st.sampled_from(["service_healthy"]))}),
        ),
        max_size=3,
    ),
)
SERVICE_KEYS: dict[str, st.SearchStrategy[Any]] = {
    "image": either(images),
    "ports": either(ports),
    "volumes": either(volumes),
    "environment": either(environment),
    "env_file": either(st.lists(st.sampled_from(["./missing.env", "../../etc/passwd", ""]))),
    "depends_on": either(depends_on),
    "healthcheck": either(healthcheck),
    "networks": either(service_networks),
    "restart": either(st.sampled_from(["no", "always", "on-failure:3", "sometimes", False])),
    "command": either(st.sampled_from(["sh -c 'x", ["sleep", "1"], "echo $$HOME", "a\\"])),
    "entrypoint": either(st.lists(text, max_size=3)),
    "container_name": either(names),
    "hostname": either(text),
    "user": either(st.sampled_from(["1000", "root", 0, "a:b"])),
    "labels": either(st.one_of(st.dictionaries(text, text, max_size=3), st.lists(text))),
    "deploy": either(
        st.fixed_dictionaries(
            {},
            optional={
                "replicas": either(ints),
                "resources": either(
                    st.fixed_dictionaries(
                        {"limits": either(st.fixed_dictionaries({"memory": either(text)}))}
                    )
                ),
            },
        )
    ),
    "replicas": either(ints),
    "privileged": either(st.booleans()),
    "extra_hosts": either(st.lists(st.sampled_from(["h:1.2.3.4", "h", "h:host-gateway"]))),
    "dns": either(st.lists(st.sampled_from(["1.1.1.1", "dns.example"]))),
    "tmpfs": either(st.sampled_from(["/run", ["/tmp:size=1x"], "rel"])),
    "stop_grace_period": either(st.sampled_from(["10s", "forever", 5])),
    "shm_size": either(st.sampled_from(["64m", "1q", -5])),
    "secrets": either(st.lists(names, max_size=2)),
    "pull_policy": either(st.sampled_from(["always", "never", "sometimes"])),
    "x-extension": junk,
    # unknown or unsupported keys
    "imagee": text,
    "build": either(st.just(".")),
    "links": either(st.lists(names)),
    "profiles": either(st.lists(text)),
}

service = st.one_of(
    st.fixed_dictionaries(
        {"image": either(images)}, optional={k: v for k, v in SERVICE_KEYS.items() if k != "image"}
    ),
    st.fixed_dictionaries({}, optional=SERVICE_KEYS),
    junk,
)

# --------------------------------------------------------------------------- top level

network = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "external": either(st.booleans()),
            "name": either(names),
            "driver": either(st.sampled_from(["bridge", "host", "overlay", "nope"])),
            "ipam": either(
                st.fixed_dictionaries(
                    {
                        "config": either(
                            st.lists(
                                st.fixed_dictionaries(
                                    {},
                                    optional={
                                        "subnet": either(
                                            st.sampled_from(["172.28.0.0/16", "10.0.0.0/33", "x"])
                                        ),
                                        "gateway": either(
                                            st.sampled_from(["172.28.0.1", "1.2.3.4"])
                                        ),
                                    },
                                ),
                                max_size=2,
                            )
                        )
                    }
                )
            ),
        },
    ),
)
volume = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {}, optional={"external": either(st.booleans()), "name": either(names), "driver": text}
    ),
)
secret = st.fixed_dictionaries(
    {},
    optional={
        "file": either(st.sampled_from(["./s.txt", "../../etc/shadow"])),
        "environment": text,
    },
)
TOP_KEYS: dict[str, st.SearchStrategy[Any]] = {
    "services": either(st.dictionaries(names, service, max_size=3)),
    "networks": either(st.dictionaries(names, network, max_size=2)),
    "volumes": either(st.dictionaries(names, volume, max_size=2)),
    "secrets": either(st.dictionaries(names, secret, max_size=2)),
    "version": either(st.just("3.8")),
    "x-common": st.one_of(junk, deep_values),
    "engine": either(st.sampled_from(["docker", "swarm", "kubernetes"])),
    "servicez": junk,
}
stack_names = st.one_of(st.sampled_from(["fz", "fz-1", "f_z"]), names)

stack_doc = st.fixed_dictionaries({"name": either(stack_names)}, optional=TOP_KEYS)
compose_doc = st.fixed_dictionaries({}, optional={"name": either(stack_names), **TOP_KEYS})

# --------------------------------------------------------------------------- rendering


def to_yaml(data: Any, flow: bool, unicode: bool) -> str:
    return yaml.safe_dump(
        data, default_flow_style=flow, allow_unicode=unicode, sort_keys=False, width=10_000
    )


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def bomb(width: int, depth: int) -> str:
    lines = [f"x-b0: &b0 [{', '.join(['lol'] * width)}]"]
    lines += [f"x-b{i}: &b{i} [{', '.join([f'*b{i - 1}'] * width)}]" for i in range(1, depth + 1)]
    return "\n".join(lines) + "\n"


TEXT_DAMAGE = [
    "tab",
    "nul",
    "truncate",
    "dup-line",
    "indent",
    "crlf",
    "bom",
    "bomb",
    "char",
    "bytes",
]


@st.composite
def damaged(draw: st.DrawFn, text_: str) -> bytes:
    """Text with a few kinds of damage applied, as the bytes of a file."""
    kinds = draw(st.lists(st.sampled_from(TEXT_DAMAGE), max_size=3))
    for kind in kinds:
        at = draw(st.integers(0, len(text_)))
        if kind == "tab":
            text_ = text_[:at] + "\t" + text_[at:]
        elif kind == "nul":
            text_ = text_[:at] + "\x00" + text_[at:]
        elif kind == "truncate":
            text_ = text_[:at]
        elif kind == "char":
            text_ = text_[:at] + draw(st.sampled_from(":-{}[]&*!|>'\"#%@`,?\\")) + text_[at:]
        elif kind in ("dup-line", "indent"):
            lines = text_.splitlines(keepends=True)
            if lines:
                i = draw(st.integers(0, len(lines) - 1))
                lines.insert(i, lines[i]) if kind == "dup-line" else lines.__setitem__(
                    i, "  " + lines[i]
                )
            text_ = "".join(lines)
        elif kind == "crlf":
            text_ = text_.replace("\n", "\r\n")
        elif kind == "bom":
            text_ = "\ufeff" + text_
        elif kind == "bomb":
            text_ += bomb(draw(st.integers(2, 12)), draw(st.integers(1, 12)))
    data = text_.encode("utf-8")
    if "bytes" in kinds:
        at = draw(st.integers(0, len(data)))
        data = (
            data[:at]
            + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80"]))
            + data[at:]
        )
    return data


# --------------------------------------------------------------------------- .env files

dotenv = st.one_of(
    st.none(),
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    *("A=1", "export B=2", "C='unclosed", 'D="multi', "bad line", "#c", "F=${"),
                    *("E=${FUZZ_UNSET:?x}", "API_TOKEN=from-dotenv", "=x", 'G="esc\\"aped"'),
                ]
            ),
            text.map(lambda t: f"K={t}"),
        ),
        max_size=5,
    ).map(lambda lines: "\n".join(lines) + "\n"),
)

# --------------------------------------------------------------------------- Python stacks

PY_HEAD = "from stackctl import Healthcheck, Network, Secret, Service, Stack, Volume, healthy\n\n"


def _py_literal(value: Any) -> str:
    """Python source for a value (``repr``, but NaN and infinities as ``float('nan')``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, list):
        return "[" + ", ".join(_py_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{_py_literal(k)}: {_py_literal(v)}" for k, v in value.items()) + "}"
        )
    return repr(value)


PROCESS_ENDINGS = [
    "import os\nos._exit({code})\n",
    "import posix\nposix._exit({code})\n",
    "from os import _exit as bye\nbye({code})\n",
    "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
    "import os\nos.abort()\n",
    "import signal\nsignal.raise_signal(signal.SIGTERM)\n",
    "import os\nos.execv('/bin/sh', ['sh', '-c', 'exit {code}'])\n",
    "import ctypes\nctypes.CDLL(None).exit({code})\n",
    "import ctypes\nctypes.CDLL(None)._exit({code})\n",
    "import os\nif os.fork() == 0:\n    os._exit({code})\n",
]
"""Ways a stack file can end or replace the process, not through SystemExit."""


@st.composite
def python_stack(draw: st.DrawFn) -> str:
    """A Python stack file: plausible ones with wrong arguments, and the ways a file can fail."""
    kind = draw(
        st.sampled_from(
            [
                *("service", "service", "service", "service", "stack-junk", "stacks-junk"),
                *("no-stack", "raise", "recursion", "exit", "import", "syntax", "secret"),
                "end-process",
                *("objects", "objects"),
            ]
        )
    )
    name = draw(either(stack_names))
    if kind == "service":
        keys = {k: v for k, v in SERVICE_KEYS.items() if k not in ("image", "x-extension")}
        svc = draw(st.fixed_dictionaries({}, optional=keys))
        svc_name = draw(names)
        return (
            PY_HEAD
            + f"web = Service({svc_name!r}, image={draw(images)!r}, **{_py_literal(svc)})\n"
            + f"stack = Stack({_py_literal(name)}, services=[web])\n"
        )
    if kind == "stack-junk":
        return PY_HEAD + f"stack = {_py_literal(draw(junk))}\n"
    if kind == "stacks-junk":
        return PY_HEAD + f"stacks = {_py_literal(draw(junk))}\n"
    if kind == "no-stack":
        return PY_HEAD + f"value = {_py_literal(draw(junk))}\n"
    if kind == "raise":
        exc = draw(st.sampled_from(["ValueError", "KeyError", "RuntimeError", "SystemExit"]))
        return PY_HEAD + f"raise {exc}({_py_literal(draw(text))})\n"
    if kind == "recursion":
        return PY_HEAD + "def f(n):\n    return f(n + 1)\n\n\nstack = f(0)\n"
    if kind == "exit":
        return PY_HEAD + f"import sys\n\nsys.exit({_py_literal(draw(scalar))})\n"
    if kind == "end-process":
        # Never a zero exit code here: were the guard to fail, the test process would end
        # with it and look green (tests/test_load_python.py runs those in a subprocess).
        code = draw(st.integers(1, 255))
        return PY_HEAD + draw(st.sampled_from(PROCESS_ENDINGS)).format(code=code)
    if kind == "import":
        return PY_HEAD + "import stackctl_fuzz_missing_module\n"
    if kind == "secret":
        value = _py_literal(draw(either(text)))
        return (
            PY_HEAD
            + f"env = {{'A': Secret({value})}}\n"
            + f"web = Service('web', image={BUSYBOX!r}, environment=env)\n"
            + f"stack = Stack({_py_literal(name)}, services=[web])\n"
        )
    if kind == "objects":
        net_name, external = _py_literal(draw(either(names))), _py_literal(draw(junk))
        check = _py_literal(draw(text))
        return (
            PY_HEAD
            + f"net = Network({net_name}, external={external})\n"
            + f"db = Service('db', image={BUSYBOX!r}, healthcheck=Healthcheck.shell({check}))\n"
            + f"web = Service('web', image={BUSYBOX!r}, depends_on={{db: healthy}},\n"
            + "              networks=[net])\n"
            + f"stack = Stack({_py_literal(name)}, services=[db, web], networks=[net])\n"
        )
    # syntax: a valid file cut or poked somewhere
    source = PY_HEAD + f"stack = Stack('fz', services=[Service('web', image={BUSYBOX!r})])\n"
    at = draw(st.integers(len(PY_HEAD), len(source)))
    poke = draw(st.sampled_from(["", "(", ")", "'", ":", "\t", "\x00", "é", "def"]))
    return source[:at] + poke + source[at + draw(st.integers(0, 3)) :]


# --------------------------------------------------------------------------- near-valid

GOOD_PORTS = ["80", "8080:80", "127.0.0.1:18080:80/udp", "9000-9001:9000-9001", "443"]
GOOD_VOLUMES = ["./data:/data", "data:/var/lib/data", "/srv/abs:/abs:ro", ".:/here:ro"]
GOOD_ENV = {"MODE": "demo", "API_TOKEN": "${API_TOKEN:-dev}", "URL": "pg://u:${DB_PASSWORD-x}@db"}


@st.composite
def good_stack(draw: st.DrawFn, compose: bool = False) -> dict[str, Any]:
    """A stack that validates: services that depend on each other, with networks, volumes,
    health checks and ports from known-good values."""
    count = draw(st.integers(1, 4))
    svc_names = [f"s{i}" for i in range(count)]
    nets = draw(st.lists(st.sampled_from(["front", "back", "edge"]), unique=True, max_size=2))
    services: dict[str, Any] = {}
    for i, name in enumerate(svc_names):
        svc: dict[str, Any] = {"image": draw(st.sampled_from([BUSYBOX, "nginx:1.25"]))}
        if draw(st.booleans()):
            svc["ports"] = [
                f"{18000 + 10 * i + j}:{p}"
                for j, p in enumerate([80, 81][: draw(st.integers(1, 2))])
            ]
        if draw(st.booleans()):
            svc["volumes"] = draw(st.lists(st.sampled_from(GOOD_VOLUMES), unique=True, max_size=2))
        if draw(st.booleans()):
            svc["environment"] = draw(
                st.dictionaries(
                    st.sampled_from(sorted(GOOD_ENV)),
                    st.sampled_from(sorted(GOOD_ENV.values())),
                    max_size=3,
                )
            )
        if nets and draw(st.booleans()):
            svc["networks"] = draw(st.lists(st.sampled_from(nets), unique=True, min_size=1))
        if draw(st.booleans()):
            svc["healthcheck"] = {"test": ["CMD", "true"], "interval": "5s", "retries": 3}
        if i and draw(st.booleans()):
            dep = svc_names[draw(st.integers(0, i - 1))]
            healthy = "healthcheck" in services[dep]
            svc["depends_on"] = {
                dep: {"condition": "service_healthy" if healthy else "service_started"}
            }
        svc["restart"] = draw(st.sampled_from(["no", "always", "unless-stopped", "on-failure:3"]))
        services[name] = svc
    doc: dict[str, Any] = {} if compose else {"name": "fz"}
    if compose and draw(st.booleans()):
        doc["name"] = "fz"
    doc["services"] = services
    if nets:
        doc["networks"] = {n: {} for n in nets}
    if any("data:/var" in v for s_ in services.values() for v in s_.get("volumes", [])):
        doc["volumes"] = {"data": {}}
    return doc


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*path, i))
    return out


@st.composite
def near_valid(draw: st.DrawFn, compose: bool = False) -> dict[str, Any]:
    """A good stack with up to two things broken: a value replaced, a key dropped or renamed."""
    doc = draw(good_stack(compose))
    for _ in range(draw(st.integers(0, 2))):
        paths = [p for p in _paths(doc) if p]
        path = draw(st.sampled_from(paths))
        parent: Any = doc
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        op = draw(st.sampled_from(["replace", "replace", "odd", "drop", "rename", "wrap"]))
        if op == "replace":
            parent[last] = draw(junk)
        elif op == "odd":
            parent[last] = draw(odd_text)
        elif op == "wrap":
            parent[last] = [parent[last]]
        elif op == "drop":
            del parent[last]
        elif isinstance(parent, dict):
            parent[str(last) + draw(st.sampled_from(["e", "_", "Ü", " "]))] = parent.pop(last)
    return doc
