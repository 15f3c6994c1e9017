"""``stackctl pull``: fetch the stacks' images, change nothing else (as ``docker compose pull``)."""

from __future__ import annotations

from stackctl import pipeline
from stackctl.cli import app
from stackctl.cli.common import (
    Engine,
    Files,
    Paths,
    Profiles,
    Strict,
    load_options,
    print_warnings,
)
from stackctl.errors import StackctlError


@app.command()
def pull(
    paths: Paths = None,
    files: Files = None,
    profiles: Profiles = None,
    strict: Strict = False,
    engine: Engine = "docker",
) -> int:
    """Pull every image of the stacks (registry credentials from the docker CLI's config);
    containers are not touched: `stackctl plan` then shows what the new images replace."""
    options = load_options(files, profiles)
    loaded = pipeline.load(paths or [], strict=strict, engine=engine, options=options)
    print_warnings(loaded.warnings)
    if loaded.engine != "docker":
        raise StackctlError(
            "stackctl pull pulls to one Docker host; a swarm pulls on each node as it updates",
            hint="run it without --engine swarm, or let `apply --engine swarm` update services",
        )
    eng = loaded.backend.connect()
    failed = 0
    for image in loaded.desired.images:
        print(f"pulling {image}", flush=True)
        try:
            eng.pull(image)
        except StackctlError as e:
            print(f"error: {e}", flush=True)
            failed += 1
    if failed:
        print(f"{failed} image(s) could not be pulled.")
        return 1
    print(f"Pulled {len(loaded.desired.images)} image(s); nothing else was changed.")
    return 0
