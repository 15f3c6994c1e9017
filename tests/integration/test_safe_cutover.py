"""The done-when measurement of issue 19 on the real engine: a continuous HTTP probe (one
request every 50 ms, each counted) through an nginx proxy to the service being changed.

- a start-first update loses no request;
- a failing update (its health check never passes) is rolled back: apply exits 1, says
  "rolled back", and the old version answers again.

The figures are printed (pytest -s) for the README's Safety section.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from stackctl import Deploy, Healthcheck, Service, Stack, UpdateConfig
from tests.conftest import BUSYBOX, DEBIAN
from tests.recording import cli

pytestmark = pytest.mark.integration

NGINX_CONF = """\
worker_processes 1;
error_log stderr;
pid /tmp/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  resolver 127.0.0.11 valid=1s ipv6=off;
  server {
    listen 80;
    location / {
      set $upstream app;
      proxy_pass http://$upstream:8080;
      proxy_connect_timeout 1s;
      proxy_next_upstream error timeout http_502;
    }
  }
}
"""
SERVE = 'mkdir -p /www && echo "$$VERSION" > /www/index.html && exec httpd -f -p 8080 -h /www'


def cutover_stack(name: str, version: int, check: str, order: str) -> Stack:
    """``proxy`` (nginx, its config from the stack's folder) in front of ``app`` (a web
    server answering its version)."""
    app = Service(
        "app",
        image=BUSYBOX,
        command=["sh", "-c", SERVE],
        environment={"VERSION": f"v{version}"},
        healthcheck=Healthcheck.shell(check, interval="500ms", retries=2),
        deploy=Deploy(update_config=UpdateConfig(order=order)),  # type: ignore[arg-type]
    )
    proxy = Service(
        "proxy",
        image=DEBIAN,
        command=["nginx", "-c", "/etc/nginx/proxy.conf", "-g", "daemon off;"],
        volumes=["./nginx.conf:/etc/nginx/proxy.conf:ro"],
    )
    return Stack(name, services=[app, proxy])


GOOD = "wget -q -O /dev/null http://127.0.0.1:8080/"


@dataclass
class Probe:
    """GET ``url`` every 50 ms until stopped; counts answers by body, and failures."""

    url: str
    answers: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    last: str = ""
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            t = time.monotonic()
            try:
                with urllib.request.urlopen(self.url, timeout=2) as r:
                    body = r.read().decode().strip()
                self.answers[body] = self.answers.get(body, 0) + 1
                self.last = body
            except Exception as e:
                self.failures.append(f"{time.strftime('%H:%M:%S')} {e}")
            self._stop.wait(max(0.0, 0.05 - (time.monotonic() - t)))

    def __enter__(self) -> Probe:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()

    @property
    def total(self) -> int:
        return sum(self.answers.values()) + len(self.failures)


def write_stack(folder: Path, name: str, version: int, check: str, order: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nginx.conf").write_text(NGINX_CONF)
    path = folder / "stack.py"
    path.write_text(
        "from tests.integration.test_safe_cutover import cutover_stack\n"
        f"stack = cutover_stack({name!r}, {version}, {check!r}, {order!r})\n"
    )
    return path


def proxy_url(docker_client, stack: str) -> str:
    info = docker_client.api.inspect_container(f"{stack}-proxy-1")
    ip = next(iter(info["NetworkSettings"]["Networks"].values()))["IPAddress"]
    return f"http://{ip}:80/"


def answering(url: str, body: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.read().decode().strip() == body:
                    return
        except Exception:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} never answered {body!r}")


@pytest.mark.engines("host")  # the probe reaches the proxy's address on the host's bridge
@pytest.mark.parametrize("order", ["start-first", "stop-first"])
def test_update_under_a_continuous_probe(
    order, docker_host, docker_client, stack_name, tmp_path
) -> None:
    s = stack_name
    first = cli(docker_host, "apply", "--yes", write_stack(tmp_path, s, 1, GOOD, order))
    assert first.code == 0, first.text
    url = proxy_url(docker_client, s)
    answering(url, "v1")

    with Probe(url) as update:
        good = cli(docker_host, "apply", "--yes", write_stack(tmp_path, s, 2, GOOD, order))
        answering(url, "v2")
        time.sleep(1)
    assert good.code == 0, good.text
    assert update.last == "v2"

    with Probe(url) as failing:
        bad = cli(
            docker_host,
            "apply",
            "--yes",
            "--wait-timeout",
            "30",
            write_stack(tmp_path, s, 3, "echo v3-health-fails; false", order),
        )
    with Probe(url) as after:
        time.sleep(2)
    assert bad.code == 1, bad.text
    assert "rolled back" in bad.text and "v3-health-fails" in bad.text, bad.text
    # While it was being checked, the new container could answer too (it joins the
    # networks with the service's aliases); once rolled back, only the old version does.
    assert after.answers == {"v2": after.total}, after

    print(
        f"\n{order}: good update: {update.total} requests, {len(update.failures)} lost "
        f"({update.answers}); failing update rolled back: {failing.total} requests, "
        f"{len(failing.failures)} lost ({failing.answers}); after it: {after.answers}, "
        f"{len(after.failures)} lost; first failures: "
        f"{(update.failures + failing.failures)[:3]}"
    )
    if order == "start-first":
        assert update.failures == [] and failing.failures == []
    else:  # stop-first: the old version is down from its stop to the new one's start
        assert failing.answers.get("v2")
