"""Issue 24's secret classes, generated: a secret value with ``$``, spaces, unicode or only
1-3 characters, placed in EVERY field of a service (and a network's labels and driver
options) through a secret-looking variable of the ``.env`` file, as a typed Secret used by
a second service, and as an env_file value used elsewhere. The value must appear in none
of: validate (text and --json), plan text and JSON, the saved plan file, the labels
stackctl computes (containers, networks), progress output and import output.

Short values (1-3 characters) are generated with a character that stackctl's own text never
holds, so "appears" keeps its plain meaning; they are hidden where a whole string or a whole
word equals them (see ``stackctl/core/redact.py``), and no message quotes a field's value;
in free text they are found only where quoted ('x', "x"), so they are placed only where
they are a whole value, and a daemon error holding one bare is not checked for them.

Every generated input is counted in ``COUNTS["secret-inputs"]`` (reported at the end).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from stackctl.backends import backend_named
from stackctl.backends.docker.observe import ObservedState
from stackctl.backends.swarm.observe import SwarmObservedState
from stackctl.cli.import_cmd import import_stack
from stackctl.core.redact import collecting, redact_text, redacted_output
from stackctl.errors import StackctlError
from stackctl.planfile import save
from stackctl.progress import JsonReporter, PlainReporter
from stackctl.render import plan_json, plan_text
from tests.fuzz.harness import COUNTS, run_cli
from tests.fuzz.settings import fuzz

BUSYBOX = "stackctl-test/busybox:1"
RARE = "éß雪☃¤ŧ"  # never in stackctl's own text: a short value holding one is findable

_body = st.text(
    alphabet=st.sampled_from("abcdefXYZ0123456789$!@%^&*+=.,:;/?~ -_" + RARE),
    min_size=4,
    max_size=24,
)
_short = st.tuples(
    st.sampled_from(RARE), st.text(alphabet=st.sampled_from("ab1$!" + RARE), max_size=2)
).map(lambda t: t[0] + t[1])


def _usable(v: str) -> bool:
    """Values a ``.env`` line can hold single-quoted (literal) and a YAML plain scalar
    reference carries; not all-space, not a run of stackctl's own words."""
    return bool(v.strip()) and v == v.strip() and "'" not in v and "fz" not in v


SECRETS = st.one_of(
    _body.filter(_usable).filter(lambda v: sum(c.isalnum() for c in v) >= 3),
    _short.filter(_usable),
    st.sampled_from(["p4ss$!word99", "correct horse battery staple", "p ä ß", "$!", "é"]),
)

REF = "${DB_PASSWORD}"
# Every service field, the secret-looking variable in it (YAML stack format).
FIELDS: dict[str, str] = {
    "image": f'image: "{REF}"',
    "command": f"command: \"sh -c 'echo {REF}; sleep 1d'\"",
    "command_list": f'command: ["sh", "-c", "echo {REF}"]',
    "entrypoint": f'entrypoint: ["/bin/{REF}"]',
    "environment": f'environment: {{URL: "x://u:{REF}@h"}}',
    "env_file": f'env_file: ["{REF}.env"]',
    "ports": f'ports: ["{REF}:80"]',
    "expose": f'expose: ["{REF}"]',
    "volumes": f'volumes: ["{REF}:/data"]',
    "dns": f'dns: ["{REF}"]',
    "dns_search": f'dns_search: ["{REF}"]',
    "extra_hosts": f'extra_hosts: ["h:{REF}"]',
    "hostname": f'hostname: "{REF}"',
    "user": f'user: "{REF}"',
    "working_dir": f'working_dir: "/{REF}"',
    "labels": f'labels: {{note: "{REF}"}}',
    "healthcheck": f'healthcheck: {{test: ["CMD", "check", "{REF}"]}}',
    "restart": f'restart: "{REF}"',
    "cap_add": f'cap_add: ["{REF}"]',
    "cap_drop": f'cap_drop: ["{REF}"]',
    "devices": f'devices: ["/dev/{REF}"]',
    "security_opt": f'security_opt: ["label={REF}"]',
    "sysctls": f'sysctls: {{net.core.somaxconn: "{REF}"}}',
    "stop_signal": f'stop_signal: "{REF}"',
    "stop_grace_period": f'stop_grace_period: "{REF}"',
    "shm_size": f'shm_size: "{REF}"',
    "logging": f'logging: {{driver: json-file, options: {{tag: "{REF}"}}}}',
    "container_name": f'container_name: "{REF}"',
    "pull_policy": f'pull_policy: "{REF}"',
    "replicas": f'replicas: "{REF}"',
    "init": f'init: "{REF}"',
    "tty": f'tty: "{REF}"',
    "read_only": f'read_only: "{REF}"',
    "privileged": f'privileged: "{REF}"',
    "stdin_open": f'stdin_open: "{REF}"',
    "depends_on": f'depends_on: ["{REF}"]',
    "networks": f'networks: ["{REF}"]',
    "secrets": f'secrets: ["{REF}"]',
    "deploy": f'deploy: {{labels: {{a: "{REF}"}}, resources: {{limits: {{memory: "{REF}"}}}}}}',
    "network_labels": "",  # below: the network's labels and driver options
}

ENGINES = {"docker": ObservedState(), "swarm": SwarmObservedState()}


# Fields where the value sits inside a longer string: a short value is hidden only where a
# whole string or a whole word equals it, so these get long values only.
EMBEDDED = {
    "command",
    "command_list",
    "entrypoint",
    "environment",
    "env_file",
    "ports",
    "volumes",
    "extra_hosts",
    "working_dir",
    "security_opt",
    "devices",
    "healthcheck",
}


def _write(folder: Path, secret: str, field: str) -> Path:
    embedded = f', x.y: "pre-{REF}-post"' if len(secret) >= 4 else ""
    (folder / ".env").write_text(f"DB_PASSWORD='{secret}'\n", encoding="utf-8")
    line = FIELDS[field]
    service = f"    image: {BUSYBOX}\n" if field != "image" else ""
    if line:
        service += f"    {line}\n"
    path = folder / "stack.yaml"
    path.write_text(
        "name: fz\n"
        "services:\n"
        f"  web:\n{service}"
        "    networks: [back]\n" * (field not in ("networks",)) + "  other:\n"
        f"    image: {BUSYBOX}\n"
        "    networks: [back]\n"
        "    environment: {MODE: x}\n"
        "networks:\n"
        "  back:\n"
        f'    labels: {{owner: "{REF}"}}\n'
        f'    driver_opts: {{com.docker.network.bridge.name: "{REF}"{embedded}}}\n',
        encoding="utf-8",
    )
    return path


def _outputs(path: Path, secret: str) -> list[tuple[str, str]]:
    """Everything stackctl lets out for ``path``: (where, text)."""
    out: list[tuple[str, str]] = []
    for argv in (["validate", str(path)], ["validate", "--json", str(path)]):
        run = run_cli(argv)
        out.append((" ".join(argv[:2]), run.text))
    from stackctl.pipeline import check

    for engine, observed in ENGINES.items():
        buf = io.StringIO()
        with collecting() as known:
            checked = check([path], engine=engine)
            with contextlib.redirect_stdout(buf), redacted_output(known):
                for d in checked.diagnostics:
                    print(d.format())
            if checked.desired is None:
                continue
            backend = backend_named(engine)
            desired = checked.desired
            units: Any = desired.containers if engine == "docker" else desired.services
            for u in units:
                out.append((f"{engine} labels", json.dumps(u.labels, ensure_ascii=False)))
                out.append((f"{engine} config", json.dumps(u.config, ensure_ascii=False)))
            for n in desired.networks:
                out.append((f"{engine} network", json.dumps(n.labels, ensure_ascii=False)))
            plan = backend.plan(desired, observed, prune=False)
            # as the CLI prints them: through the run's output pass (cli.main)
            shown = plan_text(plan, verbose=True)
            out.append((f"{engine} plan", redact_text(shown, known)))
            doc = json.dumps(plan_json(plan), ensure_ascii=False)
            out.append((f"{engine} plan json", redact_text(doc, known)))
            saved = path.parent / f"{engine}.plan"
            save(saved, plan, [path], {})
            out.append((f"{engine} saved plan", saved.read_text(encoding="utf-8")))
            # progress: a daemon error quoting the value, as apply's reporters print it
            progress = io.StringIO()
            with contextlib.redirect_stdout(progress), redacted_output(known):
                op = plan.operations[-1]
                said = f'daemon: invalid value "{secret}" (and {secret}!)'
                PlainReporter(sys.stdout).failed(op, said)
                JsonReporter(sys.stdout).failed(op, said)
            shown = progress.getvalue()
            if len(secret) < 4:  # 1-3 characters: found only where quoted (module doc)
                shown = shown.replace(f"(and {secret}!)", "")
            out.append((f"{engine} progress", shown))
        out.append((f"{engine} diagnostics", buf.getvalue()))
    with collecting() as known:
        try:
            code, _ = import_stack(path)
            out.append(("import", code))  # as written to -o FILE: no output pass there
        except StackctlError as e:
            out.append(("import error", redact_text(str(e), known)))  # printed by cli.main
    return out


@fuzz(150)
@given(secret=SECRETS, field=st.sampled_from(sorted(FIELDS)))
def test_a_generated_secret_in_any_field_leaks_nowhere(secret: str, field: str) -> None:
    assume(len(secret) >= 4 or field not in EMBEDDED)
    COUNTS["secret-inputs"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), secret, field)
        for where, text in _outputs(path, secret):
            COUNTS["secret-outputs"] += 1
            assert secret not in text, f"{field}: {secret!r} leaked in {where}:\n{text}"


def _py(value: str) -> str:
    """A Python literal for a plain (interpolated) string: ``$`` doubled."""
    return repr(value.replace("$", "$$"))


@fuzz(60)
@given(secret=SECRETS.filter(lambda v: len(v) >= 4), where=st.sampled_from(["typed", "env_file"]))
def test_a_typed_or_env_file_secret_used_by_another_service_leaks_nowhere(
    secret: str, where: str
) -> None:
    """A typed Secret in one service's environment (or an env_file value), used in a
    second service's string command (words split), health check, labels and a network's
    labels: hidden everywhere, not only where it sits in ``environment``."""
    COUNTS["secret-inputs"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "app.env").write_text(f"BLOB='{secret}'\n", encoding="utf-8")
        holder = (
            f"environment={{'CONFIG': Secret({secret!r})}}"
            if where == "typed"
            else "env_file=['./app.env']"
        )
        path = folder / "stack.py"
        path.write_text(
            "from stackctl import Healthcheck, Network, Secret, Service, Stack\n"
            f"back = Network('back', labels={{'owner': {_py(secret)}}})\n"
            f"db = Service('db', image={BUSYBOX!r}, {holder}, networks=[back])\n"
            f"web = Service('web', image={BUSYBOX!r}, networks=[back],\n"
            f"    command={_py('sh -c ' + secret + ' --flag')},\n"
            f"    healthcheck=Healthcheck.shell({_py('check ' + secret)}),\n"
            f"    labels={{'note': {_py(secret)}}})\n"
            "stack = Stack('fz', services=[db, web], networks=[back])\n",
            encoding="utf-8",
        )
        for place, text in _outputs(path, secret):
            COUNTS["secret-outputs"] += 1
            assert secret not in text, f"{where}: {secret!r} leaked in {place}:\n{text}"
