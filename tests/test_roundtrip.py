"""Property tests: a Stack written as stack YAML or as Python loads back equal."""

from __future__ import annotations

import string
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stackctl.codegen import to_python
from stackctl.dump import to_data, to_stack_yaml
from stackctl.load import load_paths
from stackctl.model import (
    Condition,
    Dependency,
    Deploy,
    Healthcheck,
    Ipam,
    IpamPool,
    Logging,
    Mount,
    Network,
    Port,
    Resources,
    ResourceSpec,
    Secret,
    SecretSource,
    Service,
    ServiceNetwork,
    ServiceSecret,
    Stack,
    Volume,
)
from stackctl.schema import stack_validator

# --------------------------------------------------------------------------- strategies

names = st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True)
env_keys = st.from_regex(r"[A-Z_][A-Z0-9_]{0,8}", fullmatch=True)
# Text people put in values: quotes, dollars, braces, YAML-special words and characters.
text = st.one_of(
    st.text(
        alphabet=st.characters(
            codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"), exclude_characters="\ufeff"
        )
        | st.sampled_from(["$", "{", "}", "'", '"', "\\", "\n", "\t", ":", "#", " ", "-"]),
        max_size=12,
    ),
    st.sampled_from(["yes", "no", "true", "null", "~", "0o17", "0x1f", "1e3", "22:22", "", "007"]),
)
durations = st.sampled_from(["5s", "1m30s", "500ms", "2h", "10s"])
images = st.sampled_from(
    [
        "nginx",
        "postgres:16",
        "ghcr.io/acme/app:1.2",
        "localhost:5000/x/y:latest",
        "redis@sha256:" + "a" * 64,
    ]
)
paths = st.builds(
    lambda base, rest: base + rest,
    st.sampled_from(["./", "/srv/", "../", "~/"]),
    st.text(alphabet=string.ascii_letters + string.digits + "_.-$ ", min_size=1, max_size=8),
)
targets = st.builds(
    lambda rest: "/" + rest, st.text(alphabet=string.ascii_lowercase + "/_", max_size=10)
)


@st.composite
def ports(draw: st.DrawFn) -> Port:
    return Port(
        target=draw(st.integers(1, 65535)),
        published=draw(st.none() | st.integers(0, 65535)),
        host_ip=draw(st.none() | st.sampled_from(["127.0.0.1", "0.0.0.0", "::1", "fe80::1"])),
        protocol=draw(st.sampled_from(["tcp", "udp", "sctp"])),
        mode=draw(st.none() | st.sampled_from(["ingress", "host"])),
    )


@st.composite
def mounts(draw: st.DrawFn, volume_keys: list[str]) -> Mount:
    kind = draw(st.sampled_from(["bind", "volume", "anonymous", "tmpfs"]))
    if kind == "tmpfs":
        return Mount.tmpfs(draw(targets), size=draw(st.none() | st.sampled_from(["64m", "1g"])))
    if kind == "anonymous":
        return Mount(type="volume", target=draw(targets))
    source = (
        draw(paths)
        if kind == "bind"
        else draw(st.sampled_from(volume_keys) | names if volume_keys else names)
    )
    return Mount(
        type=kind,
        source=source,
        target=draw(targets),
        read_only=draw(st.booleans()),
        create_host_path=draw(st.booleans()) if kind == "bind" else True,
        nocopy=draw(st.booleans()) if kind == "volume" else False,
    )


@st.composite
def healthchecks(draw: st.DrawFn) -> Healthcheck:
    options: dict[str, Any] = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "interval": durations,
                "timeout": durations,
                "retries": st.integers(0, 10),
                "start_period": durations,
            },
        )
    )
    form = draw(st.sampled_from(["shell", "cmd", "none", "raw"]))
    if form == "shell":
        return Healthcheck.shell(draw(text.filter(bool)), **options)
    if form == "cmd":
        return Healthcheck.cmd(*draw(st.lists(text, min_size=1, max_size=3)), **options)
    if form == "none":
        return Healthcheck.none()
    return Healthcheck(test=["NONE"], disable=draw(st.booleans()), **options)


env_values = text | st.builds(Secret, text)


@st.composite
def services(
    draw: st.DrawFn, name: str, others: list[str], network_keys: list[str], volume_keys: list[str]
) -> Service:
    fields: dict[str, Any] = {"image": draw(images)}
    optional: dict[str, st.SearchStrategy[Any]] = {
        "container_name": names,
        "hostname": names,
        "command": st.lists(text, max_size=3),
        "entrypoint": st.lists(text, min_size=1, max_size=2),
        "environment": st.dictionaries(env_keys, env_values, max_size=3),
        "ports": st.lists(ports(), max_size=3),
        "volumes": st.lists(mounts(volume_keys), max_size=3),
        "restart": st.sampled_from(["no", "always", "unless-stopped", "on-failure:3"]),
        "healthcheck": healthchecks(),
        "labels": st.dictionaries(text, text, max_size=2),
        "user": st.sampled_from(["1000", "1000:1000", "postgres"]),
        "working_dir": targets,
        "replicas": st.integers(0, 3),
        "read_only": st.booleans(),
        "privileged": st.booleans(),
        "extra_hosts": st.dictionaries(
            names, st.sampled_from(["host-gateway", "10.0.0.1"]), max_size=2
        ),
        "dns": st.lists(st.sampled_from(["1.1.1.1", "9.9.9.9"]), max_size=2),
        "cap_add": st.lists(st.sampled_from(["NET_ADMIN", "SYS_TIME"]), max_size=2),
        "stop_grace_period": durations,
        "init": st.booleans(),
        "shm_size": st.sampled_from(["64m", "1g"]),
        "logging": st.builds(
            Logging,
            driver=st.sampled_from(["json-file", "local"]),
            options=st.dictionaries(names, text, max_size=2),
        ),
        "deploy": st.builds(
            Deploy,
            replicas=st.none() | st.integers(0, 3),
            resources=st.none()
            | st.builds(
                Resources,
                limits=st.builds(
                    ResourceSpec,
                    cpus=st.sampled_from([0.5, 1.0, 2.25]),
                    memory=st.sampled_from(["512m", "2048M"]),
                ),
            ),
        ),
        "secrets": st.lists(
            st.builds(ServiceSecret, source=names, target=st.none() | targets), max_size=2
        ),
    }
    chosen = draw(st.sets(st.sampled_from(sorted(optional)), max_size=8))
    for key in sorted(chosen):
        fields[key] = draw(optional[key])
    if network_keys and draw(st.booleans()):
        keys = draw(st.lists(st.sampled_from(network_keys), unique=True, max_size=3))
        fields["networks"] = {
            k: draw(
                st.builds(ServiceNetwork, aliases=st.lists(names, max_size=2))
                | st.just(ServiceNetwork())
            )
            for k in keys
        }
    if others and draw(st.booleans()):
        deps = draw(st.lists(st.sampled_from(others), unique=True, max_size=2))
        fields["depends_on"] = {
            d: draw(
                st.builds(
                    Dependency,
                    condition=st.sampled_from(list(Condition)),
                    required=st.booleans(),
                    restart=st.booleans(),
                )
            )
            for d in deps
        }
    return Service(name, **fields)


@st.composite
def networks(draw: st.DrawFn, key: str) -> Network:
    if draw(st.booleans()):
        return Network(key, external=True, name=draw(st.none() | names))
    return Network(
        key,
        driver=draw(st.none() | st.sampled_from(["bridge", "overlay"])),
        internal=draw(st.booleans()),
        ipam=draw(st.none() | st.just(Ipam(config=[IpamPool(subnet="172.28.0.0/16")]))),
        labels=draw(st.dictionaries(names, text, max_size=2)),
    )


@st.composite
def stacks(draw: st.DrawFn) -> Stack:
    service_names = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    network_keys = draw(st.lists(names, max_size=3, unique=True))
    volume_keys = draw(st.lists(names, max_size=2, unique=True))
    built = [
        draw(services(n, service_names[:i] + service_names[i + 1 :], network_keys, volume_keys))
        for i, n in enumerate(service_names)
    ]
    return Stack(
        draw(names),
        services=built,
        networks=[draw(networks(k)) for k in network_keys],
        volumes=[Volume(k, external=draw(st.booleans())) for k in volume_keys],
        secrets=draw(
            st.lists(
                st.builds(SecretSource, names, file=st.none() | paths),
                max_size=2,
                unique_by=lambda s: s.key,
            )
        ),
        engine=draw(st.none() | st.sampled_from(["docker", "swarm"])),
    )


# --------------------------------------------------------------------------- properties

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(stacks())
def test_stack_yaml_round_trip(stack: Stack) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stack.yaml"
        path.write_text(to_stack_yaml(stack))
        assert load_paths([path]) == [stack]


@SETTINGS
@given(stacks())
def test_python_round_trip(stack: Stack) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stack.py"
        path.write_text(to_python(stack))
        assert load_paths([path]) == [stack]


@SETTINGS
@given(stacks())
def test_dumped_data_validates_against_the_schema(stack: Stack) -> None:
    errors = list(stack_validator().iter_errors(to_data(stack)))
    assert errors == []
    raw = stack.model_dump(mode="json", exclude_defaults=True)  # the canonical long forms too
    for svc in raw.get("services", {}).values():
        svc.pop("name", None)
    for section in ("networks", "volumes", "secrets"):
        for item in raw.get(section, {}).values():
            item.pop("key", None)
    assert list(stack_validator().iter_errors(raw)) == []
