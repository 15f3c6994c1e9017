"""``build:`` through the daemon: a compose service built from a folder (FROM the offline
busybox image), kept while its context is unchanged, rebuilt (and its container replaced)
when a file the build sends changes, left alone when an ignored file changes; --no-build;
a failed build names its Dockerfile step; build arguments stay secret; a Git URL context
fetched by the daemon from a real ``git daemon`` on the host's loopback."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from stackctl.core.build import LABEL_BUILD_HASH
from stackctl.core.labels import LABEL_STACK
from stackctl.core.plan import Kind
from stackctl.load import load_paths
from tests.conftest import BUSYBOX, cleanup
from tests.engines import EngineTarget
from tests.recording import cli, recorded_apply
from tests.support import make_plan

pytestmark = pytest.mark.integration

LOOP = "trap 'exit 0' TERM; while :; do sleep 0.2; done"


@pytest.fixture
def built(stack_name: str, engine_target: EngineTarget) -> Iterator[str]:
    """The stack's name; afterwards its containers, then every image it built (tagged or
    left dangling by a rebuild), are removed."""
    yield stack_name
    cleanup([stack_name], engine_target.base_url)
    api = engine_target.api()
    try:
        for image in api.images(filters={"label": f"{LABEL_STACK}={stack_name}"}):
            with contextlib.suppress(docker.errors.APIError):
                api.remove_image(image["Id"], force=True)
    finally:
        api.close()


def write_project(folder: Path, name: str, dockerfile: str, args: str = "") -> Path:
    app = folder / "app"
    app.mkdir(parents=True, exist_ok=True)
    (app / "Dockerfile").write_text(textwrap.dedent(dockerfile))
    (app / ".dockerignore").write_text("# scratch files\nignored.txt\n")
    (app / "data.txt").write_text("one\n")
    (app / "ignored.txt").write_text("scratch\n")
    compose = folder / "compose.yaml"
    lines = [
        f"name: {name}",
        "services:",
        "  web:",
        "    build:",
        "      context: ./app",
        "      labels: [org.example.role=web]",
        *(f"      {line}" for line in args.splitlines()),
        f'    command: ["sh", "-c", "{LOOP}"]',
        "    restart: unless-stopped",
    ]
    compose.write_text("\n".join(lines) + "\n")
    return compose


APP = f"""\
    FROM {BUSYBOX}
    COPY . /app
    """


def image_of(api: docker.APIClient, container: str) -> str:
    return str(api.inspect_container(container)["Image"])


def test_build_apply_rebuild_on_change_and_not_on_ignored(
    tmp_path: Path, built: str, engine_target: EngineTarget, engine
) -> None:
    path = write_project(tmp_path / "p", built, APP)
    stacks = load_paths([path])
    image = f"{built}-web:latest"  # Compose v2's name for a built image
    container = f"{built}-web-1"

    first = recorded_apply(engine_target.base_url, stacks)
    assert first.result.ok, first.log
    by_kind = {op.kind: op for op in first.plan.operations}
    assert by_kind[Kind.BUILD].resource == image
    assert by_kind[Kind.BUILD].reason == "image missing"
    assert by_kind[Kind.BUILD].id in by_kind[Kind.CREATE].depends_on  # built before it runs
    api = engine_target.api()
    try:
        info = api.inspect_image(image)
        labels = info["Config"]["Labels"]
        assert labels["org.example.role"] == "web" and labels[LABEL_BUILD_HASH]
        assert image_of(api, container) == info["Id"]
        out = api.exec_start(api.exec_create(container, ["cat", "/app/data.txt"]))
        assert out == b"one\n"

        # a second apply changes nothing; an ignored file changes nothing either
        assert not make_plan(engine, stacks).has_changes
        (tmp_path / "p" / "app" / "ignored.txt").write_text("other scratch\n")
        assert not make_plan(engine, load_paths([path])).has_changes

        # a file the build sends: rebuilt, and the container replaced
        (tmp_path / "p" / "app" / "data.txt").write_text("two\n")
        again = recorded_apply(engine_target.base_url, load_paths([path]))
        assert again.result.ok, again.log
        ops = {op.kind: op for op in again.plan.operations}
        assert set(ops) == {Kind.BUILD, Kind.REPLACE}
        assert ops[Kind.BUILD].reason == "build changed: context"
        assert ops[Kind.REPLACE].reason == "image rebuilt"
        assert ops[Kind.BUILD].id in ops[Kind.REPLACE].depends_on
        new = api.inspect_image(image)["Id"]
        assert new != info["Id"] and image_of(api, container) == new
        out = api.exec_start(api.exec_create(container, ["cat", "/app/data.txt"]))
        assert out == b"two\n"
        assert not make_plan(engine, load_paths([path])).has_changes

        # --no-build: a changed context is not built, the image there is used as it is
        (tmp_path / "p" / "app" / "data.txt").write_text("three\n")
        run = cli(engine_target.base_url, "plan", "--detailed-exitcode", "--no-build", path)
        assert run.code == 0, run.text
        run = cli(engine_target.base_url, "plan", path)
        assert run.code == 0 and "build image " + image in run.text, run.text
        assert "(build changed: context)" in run.text and "(image rebuilt)" in run.text

        # --no-build and no image: a plan error that says what to do
        assert cli(engine_target.base_url, "destroy", "--yes", path).code == 0
        api.remove_image(image, force=True)
        run = cli(engine_target.base_url, "plan", "--no-build", path)
        assert run.code == 1, run.text
        assert f"image '{image}'" in run.text and "--no-build" in run.text
        assert "Traceback" not in run.text
    finally:
        api.close()


def test_a_failed_build_names_its_step_and_changes_nothing(
    tmp_path: Path, built: str, engine_target: EngineTarget
) -> None:
    broken = f"""\
        FROM {BUSYBOX}
        RUN echo about to fail && false
        """
    path = write_project(tmp_path / "p", built, broken)
    run = cli(engine_target.base_url, "apply", "--yes", path)
    assert run.code == 1, run.text
    assert "Step 2/" in run.text and "RUN echo about to fail && false" in run.text
    assert "returned a non-zero code: 1" in run.text and "about to fail" in run.text
    assert "Traceback" not in run.text
    api = engine_target.api()
    try:  # the build runs before anything else: no network, no container
        assert not api.containers(all=True, filters={"label": f"{LABEL_STACK}={built}"})
        assert not api.networks(filters={"label": f"{LABEL_STACK}={built}"})
    finally:
        api.close()


def test_build_arguments_stay_secret(
    tmp_path: Path, built: str, engine_target: EngineTarget
) -> None:
    value = "tok-3f9a-never-shown"
    dockerfile = f"""\
        FROM {BUSYBOX}
        ARG API_TOKEN
        RUN test "$API_TOKEN" = "{value}" && echo token is "$API_TOKEN"
        """
    path = write_project(tmp_path / "p", built, dockerfile, args="args:\n  API_TOKEN: ${API_TOKEN}")
    run = cli(engine_target.base_url, "apply", "--yes", path, API_TOKEN=value)
    assert run.code == 0, run.text
    assert value not in run.text and "token is" in run.text
    run = cli(engine_target.base_url, "plan", "--json", path, API_TOKEN=value)
    assert run.code == 0 and value not in run.text, run.text
    api = engine_target.api()
    try:
        labels = api.inspect_image(f"{built}-web:latest")["Config"]["Labels"]
        assert value not in str(labels)
    finally:
        api.close()
    # the Dockerfile's own text (which holds the value here) is hashed, never shown
    run = cli(engine_target.base_url, "plan", "--detailed-exitcode", path, API_TOKEN=value)
    assert run.code == 0, run.text


# --------------------------------------------------------------------------- remote context


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def git(folder: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(folder), "PATH": "/usr/bin:/bin",
    }  # fmt: skip
    done = subprocess.run(
        ["git", "-C", str(folder), *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture
def git_daemon(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``git daemon`` serving tmp/served/repo.git on 127.0.0.1 (the daemon's builder fetches
    it from there): its ``git://`` URL and the working copy that pushes to it."""
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    (work / "sub" / "Dockerfile").write_text(f"FROM {BUSYBOX}\nCOPY msg.txt /msg.txt\n")
    (work / "sub" / "msg.txt").write_text("from git\n")
    served = tmp_path / "served"
    served.mkdir()
    git(work, "init", "-q", "-b", "main")
    git(work, "add", ".")
    git(work, "commit", "-q", "-m", "first")
    git(served, "clone", "-q", "--bare", str(work), "repo.git")
    git(served / "repo.git", "config", "uploadpack.allowReachableSHA1InWant", "true")  # #<sha>
    git(work, "remote", "add", "origin", str(served / "repo.git"))
    port = free_port()
    daemon = subprocess.Popen(
        ["git", "daemon", "--export-all", "--reuseaddr", f"--base-path={served}",
         "--listen=127.0.0.1", f"--port={port}", str(served)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            assert time.monotonic() < deadline, "git daemon did not listen"
            assert daemon.poll() is None, "git daemon exited"
            time.sleep(0.1)
        yield f"git://127.0.0.1:{port}/repo.git", work
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


@pytest.mark.engines("host")  # the git daemon listens on this machine's loopback
def test_a_git_context_is_fetched_by_the_daemon(
    tmp_path: Path, built: str, engine_target: EngineTarget, git_daemon: tuple[str, Path]
) -> None:
    url, work = git_daemon
    folder = tmp_path / "p"
    folder.mkdir()
    path = folder / "compose.yaml"

    def write_compose(context: str) -> None:
        path.write_text(
            f"name: {built}\nservices:\n  web:\n    build:\n      context: {context}\n"
            f'    command: ["sh", "-c", "{LOOP}"]\n'
        )

    write_compose(f"{url}#main:sub")
    image = f"{built}-web:latest"
    container = f"{built}-web-1"
    run = cli(engine_target.base_url, "plan", path)
    assert run.code == 0, run.text
    assert f"+ build image {image}  (image missing; remote context: the daemon fetches " in run.text
    assert "unpinned-build-context" in run.text or "names the ref 'main'" in run.text

    run = cli(engine_target.base_url, "apply", "--yes", path)
    assert run.code == 0, run.text
    api = engine_target.api()
    try:
        out = api.exec_start(api.exec_create(container, ["cat", "/msg.txt"]))
        assert out == b"from git\n"
        first = api.inspect_image(image)["Id"]
        assert image_of(api, container) == first

        # the branch moves: not fetched again (as Compose, without --build) ...
        (work / "sub" / "msg.txt").write_text("second commit\n")
        git(work, "commit", "-q", "-am", "second")
        git(work, "push", "-q", "origin", "main")
        run = cli(engine_target.base_url, "plan", "--detailed-exitcode", path)
        assert run.code == 0, run.text

        # ... a new pin is a new URL: fetched, rebuilt, the container replaced
        sha = git(work, "rev-parse", "HEAD")
        write_compose(f"{url}#{sha}:sub")
        run = cli(engine_target.base_url, "apply", "--yes", path)
        assert run.code == 0, run.text
        assert "build changed: context" in run.text, run.text
        assert "names the ref" not in run.text  # pinned: no warning
        out = api.exec_start(api.exec_create(container, ["cat", "/msg.txt"]))
        assert out == b"second commit\n"
        assert api.inspect_image(image)["Id"] != first
        run = cli(engine_target.base_url, "plan", "--detailed-exitcode", path)
        assert run.code == 0, run.text
    finally:
        api.close()

    # a ref that does not exist: an error naming the URL, with what to check
    write_compose(f"{url}#no-such-branch:sub")
    run = cli(engine_target.base_url, "apply", "--yes", path)
    assert run.code == 1, run.text
    assert f"could not fetch the remote build context {url}#no-such-branch:sub" in run.text
    assert "the ref after '#' exists" in run.text and "Traceback" not in run.text
