"""``build:`` without a daemon: the model's forms, the compose mapping, the context digest
(``.dockerignore`` honoured) and the planner's build rows (missing, changed, pull_policy
build, --no-build, built by someone else; a remote context)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import ValidationError

from stackctl import Build, Service, Stack
from stackctl.backends.docker.desired import DesiredState, desire
from stackctl.backends.docker.observe import ObservedContainer, ObservedState, parse_built
from stackctl.backends.docker.plan import plan
from stackctl.core.build import LABEL_BUILD, parts_from_labels
from stackctl.core.labels import sha256
from stackctl.core.plan import Kind, build_id
from stackctl.core.redact import collecting, redact_known
from stackctl.engine.build_context import context_digest, context_files
from stackctl.errors import InvalidStackError, PlanError
from stackctl.load import load_paths
from stackctl.model.build import git_ref, pinned_ref, remote_kind, shown_url
from stackctl.render import plan_text

# --------------------------------------------------------------------------- model


def test_short_form_is_the_context() -> None:
    assert Service("web", build="./app").build == Build("./app")


def test_long_form_defaults_the_context_and_reads_args_as_compose_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FROM_ENV", "e")
    monkeypatch.delenv("UNSET_HERE", raising=False)
    svc = Service(
        "web",
        build={"dockerfile": "Dockerfile.dev", "args": ["A=1", "FROM_ENV", "UNSET_HERE"]},
    )
    assert svc.build is not None
    assert svc.build.context == "."
    assert svc.build.args == {"A": "1", "FROM_ENV": "e"}  # unset: the ARG default applies
    mapped = Service("web", build={"args": {"N": 3, "FROM_ENV": None, "UNSET_HERE": None}})
    assert mapped.build is not None and mapped.build.args == {"N": "3", "FROM_ENV": "e"}


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"name": "web"}, "needs `image` .what to run. or `build`"),
        ({"name": "web", "image": "x:1", "pull_policy": "build"}, "needs a `build` section"),
        ({"name": "web", "build": "ssh://git@host/a/b.git"}, "cannot fetch"),
        ({"name": "web", "build": "ssh://u:tok@host/a"}, "ssh://u:\\*\\*\\*@host/a"),
        (
            {"name": "web", "build": {"context": "git@h:a/b.git", "dockerfile_inline": "FROM x"}},
            "needs a local context",
        ),
        (
            {"name": "web", "build": {"context": "https://h/a.tgz", "dockerfile": "/srv/D"}},
            "absolute path, but the context is remote",
        ),
        (
            {"name": "web", "build": {"dockerfile": "D", "dockerfile_inline": "FROM x"}},
            "not both",
        ),
        ({"name": "web", "build": {"context": ".", "ssh": ["default"]}}, "ssh"),
    ],
)
def test_refused_forms(data: dict[str, object], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        Service(**data)  # type: ignore[arg-type]


# docker's rules (docker/cli urlutil.IsGitURL, IsURL): context -> kind, ref, pinned
CONTEXTS: list[tuple[str, str, str | None, bool]] = [
    (".", "local", None, False),
    ("./app", "local", None, False),
    ("/srv/app", "local", None, False),
    ("app#x", "local", "x", False),  # a folder may hold '#'
    ("https://github.com/firecrawl/firecrawl.git#main:apps/nuq-postgres", "git", "main", False),
    ("https://github.com/o/r.git", "git", None, False),
    ("http://host/o/r.git#v1.4.2", "git", "v1.4.2", True),
    ("git://127.0.0.1:9418/repo.git#main:sub", "git", "main", False),
    ("git@github.com:o/r.git#" + "0f" * 20, "git", "0f" * 20, True),
    ("git@github.com:o/r#refs/tags/stable:dir", "git", "refs/tags/stable", True),
    ("github.com/o/r#2024.05", "git", "2024.05", True),
    ("github.com/o/r#abc1234:dir", "git", "abc1234", True),
    ("https://github.com/o/r.git#:dir", "git", None, False),  # a folder of the default branch
    ("https://host/ctx.tar.gz", "url", None, False),
    ("https://github.com/o/r", "url", None, False),  # no .git: a tarball or a Dockerfile
]


@pytest.mark.parametrize(("context", "kind", "ref", "pinned"), CONTEXTS)
def test_context_kinds_follow_dockers_rules(
    context: str, kind: str, ref: str | None, pinned: bool
) -> None:
    assert remote_kind(context) == kind
    assert Build(context).remote is (kind != "local")
    if kind == "git":
        assert git_ref(context) == ref
        assert pinned_ref(git_ref(context)) is pinned


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:tok@github.com/o/r.git#main", "https://user:***@github.com/o/r.git#main"),
        ("https://tok@github.com/o/r.git", "https://***@github.com/o/r.git"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),
        ("https://github.com/o/r@x.git", "https://github.com/o/r@x.git"),
    ],
)
def test_a_token_in_a_context_url_is_hidden(url: str, shown: str) -> None:
    assert shown_url(url) == shown


def test_image_name_is_composes() -> None:
    stack = Stack(
        "media", services=[Service("app", build="."), Service("b", image="me/b", build=".")]
    )
    assert stack.image_name(stack.services["app"]) == "media-app:latest"
    assert stack.image_name(stack.services["b"]) == "me/b:latest"


# --------------------------------------------------------------------------- compose


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return folder


def test_compose_build_loads_without_image(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "compose.yaml": """\
                name: media
                services:
                  app:
                    build:
                      context: ./app
                      args: [VERSION=2]
                      target: prod
                    pull_policy: build
                """,
            "app/Dockerfile": "FROM busybox\n",
        },
    )
    [stack] = load_paths([tmp_path / "compose.yaml"])
    svc = stack.services["app"]
    assert svc.image is None and svc.pull_policy == "build"
    assert svc.build == Build("./app", args={"VERSION": "2"}, target="prod")


def test_compose_build_option_the_builder_lacks_is_refused_with_a_hint(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"compose.yaml": "services:\n  app:\n    build:\n      context: .\n      tags: [x]\n"},
    )
    with pytest.raises(InvalidStackError) as info:
        load_paths([tmp_path / "compose.yaml"])
    [d] = info.value.diagnostics
    assert d.path == "services.app.build.tags" and d.line == 5
    assert d.hint is not None and "image:" in d.hint


def test_missing_context_and_dockerfile_are_located(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "compose.yaml": """\
                services:
                  a:
                    build: ./nowhere
                  b:
                    build:
                      context: .
                      dockerfile: Missing.dockerfile
                """
        },
    )
    stacks = load_paths([tmp_path / "compose.yaml"])
    with pytest.raises(InvalidStackError) as info:
        desire(stacks)
    found = {(d.path, d.line) for d in info.value.diagnostics}
    assert found == {("services.a.build.context", 3), ("services.b.build.dockerfile", 7)}


# --------------------------------------------------------------------------- context digest


def test_context_digest_honours_dockerignore(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".dockerignore": "# comment\n*.log\nnode_modules\n!keep.log\n",
            "Dockerfile": "FROM busybox\n",
            "src/main.py": "print(1)\n",
            "debug.log": "noise\n",
            "keep.log": "kept\n",
            "node_modules/x/index.js": "x\n",
        },
    )
    files = context_files(tmp_path, "Dockerfile")
    assert "debug.log" not in files and "node_modules/x/index.js" not in files
    assert {"Dockerfile", "keep.log", "src/main.py", ".dockerignore"} <= set(files)
    before = context_digest(tmp_path, "Dockerfile")
    (tmp_path / "debug.log").write_text("more noise\n")
    (tmp_path / "node_modules/x/index.js").write_text("y\n")
    (tmp_path / "Dockerfile").write_text("FROM busybox:2\n")  # its own part
    assert context_digest(tmp_path, "Dockerfile") == before
    (tmp_path / "keep.log").write_text("changed\n")
    assert context_digest(tmp_path, "Dockerfile") != before
    after = context_digest(tmp_path, "Dockerfile")
    (tmp_path / "src/main.py").chmod(0o755)  # a mode is content too (COPY keeps it)
    assert context_digest(tmp_path, "Dockerfile") != after


# --------------------------------------------------------------------------- planner


IMG_ID = "sha256:" + "b" * 64


def project(tmp_path: Path, **build: object) -> Stack:
    write(tmp_path, {"app/Dockerfile": "FROM busybox\nCOPY . /app\n", "app/data.txt": "1\n"})
    svc = Service("web", build={"context": "./app", **build}, command=["sleep", "1"])
    return Stack("media", services=[svc]).with_origin(tmp_path / "stack.py")


def applied(desired: DesiredState) -> ObservedState:
    """The daemon right after an apply: the image built with the desired digests."""
    [b] = desired.builds
    labels = dict(b.labels)
    raw = [{"Id": IMG_ID, "RepoTags": [b.image], "Labels": labels}]
    containers = tuple(
        ObservedContainer(
            id=f"id-{c.name}",
            name=c.name,
            labels=dict(c.labels),
            state="running",
            health=None,
            exit_code=None,
            image_id=IMG_ID,
            image=c.image,
            networks={n.name: None for n in c.networks},
        )
        for c in desired.containers
    )
    from stackctl.core.resources import ObservedNetwork

    networks = tuple(
        ObservedNetwork(f"net-{n.name}", n.name, dict(n.labels), n.driver, "local")
        for n in desired.networks
    )
    return ObservedState(
        containers=containers,
        networks=networks,
        images={b.image: IMG_ID},
        built=parse_built(raw),
    )


def built_as(observed: ObservedState, **parts: str) -> ObservedState:
    [(image, digests)] = observed.built.items()
    return replace(observed, built={image: {**digests, **parts}})


Row = tuple[
    str,
    dict[str, object],
    Callable[[ObservedState], ObservedState],
    bool,
    list[tuple[str, str, str]],
]

ROWS: list[Row] = [
    ("in place: nothing", {}, lambda o: o, False, []),
    (
        "image missing: built, then the container",
        {},
        lambda o: replace(o, images={}, built={}, containers=()),
        False,
        [("build", "media-web:latest", "image missing"), ("create", "media-web-1", "missing")],
    ),
    (
        "context changed: rebuilt, container replaced",
        {},
        lambda o: built_as(o, context="0" * 64),
        False,
        [
            ("build", "media-web:latest", "build changed: context"),
            ("replace", "media-web-1", "image rebuilt"),
        ],
    ),
    (
        "Dockerfile and args changed: both named",
        {},
        lambda o: built_as(o, dockerfile="1" * 64, args="hmac:0000000000000000"),
        False,
        [
            ("build", "media-web:latest", "build changed: dockerfile, args"),
            ("replace", "media-web-1", "image rebuilt"),
        ],
    ),
    (
        "built by someone else (no digests): rebuilt",
        {},
        lambda o: replace(o, built={}),
        False,
        [
            (
                "build",
                "media-web:latest",
                "image not built by stackctl (no build digests in its labels)",
            ),
            ("replace", "media-web-1", "image rebuilt"),
        ],
    ),
    (
        "pull_policy build: always built",
        {"pull_policy": "build"},
        lambda o: o,
        False,
        [
            ("build", "media-web:latest", "pull_policy: build"),
            ("replace", "media-web-1", "image rebuilt"),
        ],
    ),
    (
        "--no-build, changed context: the image there is used",
        {},
        lambda o: built_as(o, context="0" * 64),
        True,
        [],
    ),
    (
        "--no-build, container missing: created from the image there",
        {},
        lambda o: replace(o, containers=()),
        True,
        [("create", "media-web-1", "missing")],
    ),
]


@pytest.mark.parametrize(
    ("title", "extra", "scenario", "no_build", "expected"), ROWS, ids=[r[0] for r in ROWS]
)
def test_build_rows(
    tmp_path: Path,
    title: str,
    extra: dict[str, object],
    scenario: Callable[[ObservedState], ObservedState],
    no_build: bool,
    expected: list[tuple[str, str, str]],
) -> None:
    policy = extra.get("pull_policy")
    stack = project(tmp_path)
    if policy:
        stack = Stack(
            "media", services=[stack.services["web"].model_copy(update={"pull_policy": policy})]
        ).with_origin(tmp_path / "stack.py")
    desired = desire([stack])
    p = plan(desired, scenario(applied(desired)), no_build=no_build)
    got = [(op.kind.value, op.resource, op.reason) for op in p.operations if op.kind != Kind.WAIT]
    assert got == expected
    ops = p.by_id()
    for op in p.operations:  # a container runs only after its image is built
        if op.kind in (Kind.CREATE, Kind.REPLACE) and build_id("media-web:latest") in ops:
            assert build_id("media-web:latest") in op.depends_on


def test_no_build_without_the_image_is_a_plan_error(tmp_path: Path) -> None:
    desired = desire([project(tmp_path)])
    observed = replace(applied(desired), images={}, built={}, containers=())
    with pytest.raises(PlanError) as info:
        plan(desired, observed, no_build=True)
    assert "'media-web:latest'" in str(info.value) and "--no-build" in str(info.value)


def test_a_built_image_is_never_pulled(tmp_path: Path) -> None:
    stack = project(tmp_path)
    desired = desire([stack])
    p = plan(desired, ObservedState())
    assert Kind.PULL not in {op.kind for op in p.operations}
    text = plan_text(p)
    assert "+ build image media-web:latest  (image missing)" in text
    assert "1 image to build." in text


def test_labels_hold_digests_not_argument_values(tmp_path: Path) -> None:
    stack = project(tmp_path, args={"API_TOKEN": "tok-never-in-a-label"})
    [b] = desire([stack]).builds
    assert "tok-never-in-a-label" not in str(b.labels)
    assert parts_from_labels(b.labels) == b.digests
    assert b.args == {"API_TOKEN": "tok-never-in-a-label"}  # the build itself gets it
    assert LABEL_BUILD in b.labels


# --------------------------------------------------------------------------- import


def test_import_writes_the_typed_build_and_loads_back_equal(tmp_path: Path) -> None:
    from stackctl.codegen import to_python

    write(
        tmp_path,
        {
            "compose.yaml": """\
                name: media
                services:
                  short:
                    build: ./app
                  long:
                    image: me/long:1
                    build:
                      context: ./app
                      dockerfile: Dockerfile
                      args: {VERSION: "2"}
                      target: prod
                      no_cache: true
                """,
            "app/Dockerfile": "FROM busybox\n",
        },
    )
    [stack] = load_paths([tmp_path / "compose.yaml"])
    text = to_python(stack)
    assert 'Service("short", build="./app")' in text
    assert 'build=Build(\n        "./app",' in text and "from stackctl import Build" in text
    (tmp_path / "py").mkdir()
    (tmp_path / "py" / "stack.py").write_text(text)
    [again] = load_paths([tmp_path / "py" / "stack.py"])
    assert again.services == stack.services


@pytest.mark.parametrize("context", ["/", "/proc", "../../../../../../../.."])
def test_a_context_of_the_whole_host_is_refused_not_walked(tmp_path: Path, context: str) -> None:
    stack = Stack("media", services=[Service("web", build=context)]).with_origin(
        tmp_path / "stack.py"
    )
    with pytest.raises(InvalidStackError) as info:
        desire([stack])
    [d] = info.value.diagnostics
    assert d.path == "services.web.build.context" and "whole of it" in d.message


# --------------------------------------------------------------------------- remote context

REPO = "https://user:tok@git.example/o/web.git"


def remote_stack(context: str = REPO + "#v1.2:app", **build: object) -> Stack:
    svc = Service("web", build={"context": context, **build}, command=["sleep", "1"])
    return Stack("media", services=[svc]).with_origin(Path("/nowhere/stack.py"))


def test_a_remote_context_is_not_read_here() -> None:
    """No folder, no Dockerfile on this machine: the daemon fetches both."""
    [b] = desire([remote_stack(dockerfile="docker/Dockerfile.prod")]).builds
    assert b.remote == REPO + "#v1.2:app"
    assert b.context == "" and b.dockerfile == "docker/Dockerfile.prod"
    assert b.dockerfile_text is None
    assert parts_from_labels(b.labels) == b.digests
    assert "tok" not in str(b.labels)


def test_a_token_in_a_remote_context_is_hidden_from_every_output_and_digested_keyed() -> None:
    url = "https://user:s3cr3t-t0ken@git.example/o/web.git#v1.2:app"
    with collecting():
        [b] = desire([remote_stack(url)]).builds
        said = redact_known(f"fatal: unable to access '{url}': 403")  # a daemon's error
    assert "s3cr3t-t0ken" not in said and said.startswith("fatal: unable to access")
    assert b.digests["context"] != sha256(url)  # not checkable against a guessed token


def remote_digests(**build: object) -> dict[str, str]:
    [b] = desire([remote_stack(**build)]).builds
    return b.digests


@pytest.mark.parametrize(
    ("change", "parts"),
    [
        ({}, []),
        ({"context": REPO + "#v1.3:app"}, ["context"]),  # a new pin: a new URL
        ({"dockerfile": "Dockerfile.prod"}, ["dockerfile", "options"]),
        ({"args": {"VERSION": "2"}}, ["args"]),
        ({"target": "prod"}, ["options"]),
        ({"labels": {"a": "b"}}, ["options"]),
    ],
)
def test_a_remote_builds_identity_is_its_url_dockerfile_args_and_options(
    change: dict[str, object], parts: list[str]
) -> None:
    base = remote_digests()
    changed = remote_digests(**change)
    assert [p for p in base if base[p] != changed[p]] == parts


REMOTE_ROWS: list[tuple[str, Callable[[ObservedState], ObservedState], list[tuple[str, str]]]] = [
    ("in place: nothing (the ref is not fetched again)", lambda o: o, []),
    (
        "image missing: built, the daemon fetching the URL",
        lambda o: replace(o, images={}, built={}, containers=()),
        [
            (
                "build",
                "image missing; remote context: the daemon fetches "
                "https://user:***@git.example/o/web.git#v1.2:app",
            ),
            ("create", "missing"),
        ],
    ),
    (
        "URL changed: rebuilt, container replaced",
        lambda o: built_as(o, context="0" * 64),
        [
            (
                "build",
                "build changed: context; remote context: the daemon fetches "
                "https://user:***@git.example/o/web.git#v1.2:app",
            ),
            ("replace", "image rebuilt"),
        ],
    ),
]


@pytest.mark.parametrize(
    ("title", "scenario", "expected"), REMOTE_ROWS, ids=[r[0] for r in REMOTE_ROWS]
)
def test_remote_build_rows(
    title: str,
    scenario: Callable[[ObservedState], ObservedState],
    expected: list[tuple[str, str]],
) -> None:
    desired = desire([remote_stack()])
    p = plan(desired, scenario(applied(desired)))
    got = [(op.kind.value, op.reason) for op in p.operations if op.kind != Kind.WAIT]
    assert got == expected
    assert "tok" not in plan_text(p)


def test_pull_policy_build_fetches_a_remote_context_on_every_apply() -> None:
    stack = remote_stack()
    web = stack.services["web"].model_copy(update={"pull_policy": "build"})
    desired = desire([Stack("media", services=[web]).with_origin(Path("/nowhere/stack.py"))])
    p = plan(desired, applied(desired))
    [build] = [op for op in p.operations if op.kind == Kind.BUILD]
    assert build.reason.startswith("pull_policy: build; remote context: the daemon fetches")


def test_compose_remote_context_loads_and_plans(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "compose.yaml": """\
                name: fc
                services:
                  db:
                    build:
                      context: "https://github.com/firecrawl/firecrawl.git#main:apps/nuq-postgres"
                      dockerfile: Dockerfile
                """
        },
    )
    [stack] = load_paths([tmp_path / "compose.yaml"])
    [b] = desire([stack]).builds
    assert b.remote == "https://github.com/firecrawl/firecrawl.git#main:apps/nuq-postgres"
    assert b.image == "fc-db:latest"
