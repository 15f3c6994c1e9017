"""GPU requests (issue 18): Compose's ``gpus`` and ``deploy.resources.reservations.devices``.

Each row is a compose service body, the model it loads to, and the ``HostConfig``
``DeviceRequests`` of the create body, as ``docker compose`` sends them (pkg/compose/create.go:
the reservations first, then ``gpus``, whose capabilities always hold ``gpu``; compose-go
defaults the count to all when neither count nor device_ids is given; all is -1).
No daemon: no GPU can run here.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from stackctl import DeviceRequest, Service, Stack
from stackctl.backends.docker.desired import desire
from stackctl.backends.docker.plan import plan
from stackctl.core.plan import Kind
from stackctl.engine.docker import container_config
from stackctl.errors import InvalidStackError
from stackctl.load import load_paths
from tests.test_plan import IMG, applied

_RESERVE = "deploy:\n  resources:\n    reservations:\n      devices:\n"
ALL_GPUS = {
    "Driver": "", "Count": -1, "DeviceIDs": None, "Capabilities": [["gpu"]], "Options": None
}  # fmt: skip

# (compose service body below `image:`, the model's requests, the create body's DeviceRequests)
TABLE: list[tuple[str, dict[str, Any], list[dict[str, Any]]]] = [
    (
        "gpus: all",
        {"gpus": [DeviceRequest(count="all")]},
        [ALL_GPUS],
    ),
    (
        "gpus:\n  - driver: nvidia\n    count: 2",
        {"gpus": [DeviceRequest(driver="nvidia", count=2)]},
        [ALL_GPUS | {"Driver": "nvidia", "Count": 2}],
    ),
    (
        "gpus:\n  - device_ids: ['0', GPU-3a2b]\n    capabilities: [compute, utility]",
        {"gpus": [DeviceRequest(device_ids=["0", "GPU-3a2b"],
                                capabilities=["compute", "utility"])]},
        [ALL_GPUS | {"Count": 0, "DeviceIDs": ["0", "GPU-3a2b"],
                     "Capabilities": [["compute", "utility", "gpu"]]}],
    ),
    (
        _RESERVE + "        - driver: nvidia\n          count: all\n          capabilities: [gpu]",
        {"deploy": {"resources": {"reservations": {"devices": [
            DeviceRequest(driver="nvidia", count="all", capabilities=["gpu"])]}}}},
        [ALL_GPUS | {"Driver": "nvidia"}],
    ),
    (
        _RESERVE + "        - driver: nvidia\n          count: '1'\n          capabilities: [gpu]",
        {"deploy": {"resources": {"reservations": {"devices": [
            DeviceRequest(driver="nvidia", count=1, capabilities=["gpu"])]}}}},
        [ALL_GPUS | {"Driver": "nvidia", "Count": 1}],
    ),
    (
        # no count, no ids: all of them (compose-go's default); options as a list or a map
        _RESERVE + "        - capabilities: [gpu, video]\n"
        "          options: [virtualization=false]",
        {"deploy": {"resources": {"reservations": {"devices": [
            DeviceRequest(capabilities=["gpu", "video"], options={"virtualization": "false"})]}}}},
        [ALL_GPUS | {"Capabilities": [["gpu", "video"]], "Options": {"virtualization": "false"}}],
    ),
    (
        _RESERVE + "        - driver: cdi\n          device_ids: [vendor.com/gpu=0]\n"
        "          capabilities: [gpu]\n"
        "gpus: all",
        {"deploy": {"resources": {"reservations": {"devices": [
            DeviceRequest(driver="cdi", device_ids=["vendor.com/gpu=0"], capabilities=["gpu"])]}}},
         "gpus": "all"},
        [ALL_GPUS | {"Driver": "cdi", "Count": 0, "DeviceIDs": ["vendor.com/gpu=0"]}, ALL_GPUS],
    ),
]  # fmt: skip


def _compose(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "lab" / "compose.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "services:\n  a:\n    image: " + IMG + "\n" + textwrap.indent(body, "    ") + "\n"
    )
    return path


@pytest.mark.parametrize(("body", "model", "requests"), TABLE, ids=[t[0] for t in TABLE])
def test_compose_gpus_load_to_the_model_and_the_create_body(
    tmp_path: Path, body: str, model: dict[str, Any], requests: list[dict[str, Any]]
) -> None:
    [stack] = load_paths([_compose(tmp_path, body)])
    service = stack.services["a"]
    assert service == Service("a", image=IMG, **model)
    [unit] = desire([stack]).containers
    assert container_config(unit, all_networks=True)["HostConfig"]["DeviceRequests"] == requests


def test_no_request_no_device_requests_and_the_hash_unchanged() -> None:
    plain = desire([Stack("lab", services=[Service("a", image=IMG)])])
    body = container_config(plain.containers[0], all_networks=True)
    assert "DeviceRequests" not in body["HostConfig"]
    assert "device_requests" not in plain.containers[0].config


def test_a_gpu_request_changed_is_a_replace_naming_it() -> None:
    before = desire([Stack("lab", services=[Service("a", image=IMG, gpus="all")])])
    after = desire([Stack("lab", services=[Service("a", image=IMG, gpus=[{"count": 1}])])])
    assert before.containers[0].config_hash != after.containers[0].config_hash
    p = plan(after, applied(before))
    assert [op.kind for op in p.operations] == [Kind.REPLACE]
    assert any("device_requests" in str(c) for c in p.operations[0].changes)


ERRORS = [
    (
        "gpus:\n  - count: 1\n    device_ids: ['0']",
        "services.a.gpus.0",
        "count and device_ids exclude each other",
    ),
    (
        _RESERVE + "        - count: two\n          capabilities: [gpu]",
        "services.a.deploy.resources.reservations.devices.0.count",
        "count takes a number or 'all'",
    ),
]


@pytest.mark.parametrize(("body", "path", "says"), ERRORS, ids=[e[2] for e in ERRORS])
def test_bad_requests_are_located(tmp_path: Path, body: str, path: str, says: str) -> None:
    with pytest.raises(InvalidStackError) as info:
        load_paths([_compose(tmp_path, body)])
    found = [(d.path, d.message) for d in info.value.diagnostics if d.severity == "error"]
    assert any(p == path and says in m for p, m in found), found


def test_devices_under_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="devices are reserved, not limited"):
        Service("a", image=IMG, deploy={"resources": {"limits": {"devices": [{"count": 1}]}}})
