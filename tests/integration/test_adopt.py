"""Adopting a running docker compose project, for real: Debian's docker-compose (1.29)
brings a project up (a postgres with a named volume holding a row, a busybox web, an nginx
proxy in front, published on 127.0.0.1), a probe GETs it every 50 ms; then stackctl,
given the same compose file, adopts it without touching a container, changes one field,
and destroys what compose made.

docker-compose is pointed at the engine under test with DOCKER_HOST; nothing is
bind-mounted from this machine (the nginx config is written by its command), so the test
runs on either engine.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import docker
import pytest

from tests.conftest import BUSYBOX, DEBIAN
from tests.recording import cli, cli_env

pytestmark = pytest.mark.integration  # docker-compose: scripts/install-test-tools.sh

COMPOSE = """\
services:
  db:
    image: {debian}
    command: stackctl-postgres
    volumes:
      - pgdata:/var/lib/postgresql/data
    healthcheck:
      test: ["CMD", "pg_isready", "-h", "127.0.0.1"]
      interval: 1s
      timeout: 3s
      retries: 30
  web:
    image: {busybox}
    command: httpd -f -p 8080 -h /www
    init: true
    environment:
      GREETING: {greeting}
    depends_on:
      - db
  proxy:
    image: {debian}
    command:
      - sh
      - -c
      - >-
        echo 'server {{ listen 80; resolver 127.0.0.11 valid=1s ipv6=off;
        location / {{ set $$up http://web:8080; proxy_pass $$up; }} }}'
        > /etc/nginx/sites-enabled/default && exec nginx -g 'daemon off;'
    ports:
      - "127.0.0.1:{port}:80"
    depends_on:
      - web
volumes:
  pgdata:
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write(folder: Path, port: int, greeting: str = "hello") -> Path:
    path = folder / "docker-compose.yml"
    text = COMPOSE.format(debian=DEBIAN, busybox=BUSYBOX, port=port, greeting=greeting)
    path.write_text(text)
    return path


class Probe:
    """GET the proxy every 50 ms in a thread; count the answers and the failures."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.ok = 0
        self.failed: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=2) as r:
                    r.read()
                self.ok += 1
            except OSError as e:
                self.failed.append(str(e))
            self._stop.wait(0.05)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


def wait_for(check, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def ids(client: docker.DockerClient, project: str) -> dict[str, str]:
    """Service -> container id of what runs for ``project`` (compose's labels)."""
    found = client.containers.list(
        all=True, filters={"label": f"com.docker.compose.project={project}"}
    )
    stackctl = client.containers.list(all=True, filters={"label": f"io.stackctl.stack={project}"})
    out = {c.labels.get("com.docker.compose.service", ""): c.id for c in found}
    out |= {c.labels["io.stackctl.service"]: c.id for c in stackctl}
    return out


def test_adopt_a_running_compose_project_without_downtime(
    docker_host: str, docker_client: docker.DockerClient, stack_name: str, tmp_path: Path
) -> None:
    s, client = stack_name, docker_client
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    path = write(tmp_path, port)
    env = cli_env(docker_host, COMPOSE_PROJECT_NAME=s)
    up = subprocess.run(
        ["docker-compose", "-p", s, "-f", str(path), "up", "-d"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert up.returncode == 0, up.stderr
    db = client.containers.get(f"{s}_db_1")
    wait_for(
        lambda: (
            client.containers.get(db.id).attrs["State"].get("Health", {}).get("Status") == "healthy"
        )
    )
    for sql in ("create table t (x text)", "insert into t values ('kept')"):
        assert db.exec_run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-c", sql]).exit_code == 0
    wait_for(lambda: answers(url))
    before = ids(client, s)
    assert set(before) == {"db", "web", "proxy"}

    # Without --adopt: refused, as one problem, with the hint.
    refused = cli(docker_host, "plan", path, COMPOSE_PROJECT_NAME=s)
    assert refused.code == 1 and "Traceback" not in refused.text
    assert f"docker compose project '{s}' already runs here" in refused.err
    assert refused.err.count("already runs here") == 1 and "--adopt" in refused.err

    shown = cli(docker_host, "plan", "--adopt", path, COMPOSE_PROJECT_NAME=s)
    assert shown.code == 0, shown.text
    for service in ("db", "web", "proxy"):
        assert (
            f"= adopt container {s}-{service}-1  (made by docker compose, config matches)"
            in shown.out
        )
    assert f"= adopt network {s}_default" in shown.out and f"= adopt volume {s}_pgdata" in shown.out
    assert "replace" not in shown.out.replace("0 to replace", "")

    with Probe(url) as probe:
        time.sleep(0.5)
        applied = cli(docker_host, "apply", "--adopt", "--yes", path, COMPOSE_PROJECT_NAME=s)
        time.sleep(0.5)
    assert applied.code == 0, applied.text
    assert probe.failed == [] and probe.ok > 5
    assert ids(client, s) == before  # not one container recreated
    assert {
        c.name for c in client.containers.list(filters={"label": f"com.docker.compose.project={s}"})
    } == {
        f"{s}-db-1",
        f"{s}-web-1",
        f"{s}-proxy-1",
    }  # compose v1's names became stackctl's (docker rename: still running)

    again = cli(docker_host, "plan", "--detailed-exitcode", path, COMPOSE_PROJECT_NAME=s)
    assert again.code == 0, again.text
    assert "No changes" in again.out
    status = cli(docker_host, "status", path, COMPOSE_PROJECT_NAME=s)
    assert status.code == 0 and status.out.count("in sync") == 3, status.text

    # One field changed: only that service is replaced.
    write(tmp_path, port, greeting="hi")
    changed = cli(docker_host, "plan", path, COMPOSE_PROJECT_NAME=s)
    assert changed.code == 0, changed.text
    assert f"-/+ replace container {s}-web-1" in changed.out and "env.GREETING" in changed.out
    assert "1 to replace" in changed.out and "adopt" not in changed.out
    done = cli(docker_host, "apply", "--yes", path, COMPOSE_PROJECT_NAME=s)
    assert done.code == 0, done.text
    after = ids(client, s)
    assert after["db"] == before["db"] and after["proxy"] == before["proxy"]
    assert after["web"] != before["web"]
    assert client.containers.get(after["web"]).labels["io.stackctl.stack"] == s
    wait_for(lambda: answers(url))
    out = db.exec_run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "select x from t"])
    assert out.output.strip() == b"kept"

    # destroy: what compose made goes too, but its volume (and the adoption record).
    gone = cli(docker_host, "destroy", "--yes", path, COMPOSE_PROJECT_NAME=s)
    assert gone.code == 0, gone.text
    assert ids(client, s) == {}
    assert not client.networks.list(names=[f"{s}_default"])
    volumes = {v.name for v in client.volumes.list() if v.name.startswith(s)}
    assert volumes == {f"{s}_pgdata", f"{s}_stackctl-adoption"}
    wiped = cli(docker_host, "destroy", "--volumes", "--yes", path, COMPOSE_PROJECT_NAME=s)
    assert wiped.code == 0, wiped.text
    assert not [v for v in client.volumes.list() if v.name.startswith(s)]
