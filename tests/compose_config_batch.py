"""``docker-compose -f FILE config`` for many files in one process (docker-compose 1.29).

Run with the interpreter of docker-compose's own shebang (``head -1 $(command -v
docker-compose)``), which has its ``compose`` package: a process per file would cost about
a second of start-up each. Reads a JSON list of ``{"file": PATH, "env": {VAR: VALUE}}`` on
stdin; prints a JSON list of ``{"file", "ok", "error", "warnings", "services"}``: what
``config`` would have said (its error, the warnings it logs such as an unset variable) and
the services of the configuration it prints. Needs no daemon. Standard library and
compose's own modules only: this is not stackctl's interpreter.
"""

import json
import logging
import os
import sys


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def config_of(path, env):
    """What ``docker-compose -f path config`` says, as a result row."""
    from compose.cli.command import get_config_from_options
    from compose.config.serialize import serialize_config

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    collect = _Collect()
    logging.getLogger().addHandler(collect)
    row = {"file": path, "ok": False, "error": None, "warnings": [], "services": []}
    cwd = os.getcwd()
    try:
        os.chdir(os.path.dirname(os.path.abspath(path)))  # as `cd FOLDER; docker-compose -f F`
        config = get_config_from_options(".", {"--file": [os.path.abspath(path)]}, {})
        serialize_config(config)  # what `config` prints: it must serialize too
        row["services"] = sorted(s["name"] for s in config.services)
        row["ok"] = True
    except Exception as e:  # any refusal is the answer, in compose's words
        row["error"] = f"{type(e).__name__}: {getattr(e, 'msg', None) or e}"
    finally:
        os.chdir(cwd)
        logging.getLogger().removeHandler(collect)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    row["warnings"] = collect.messages
    return row


def main():
    logging.getLogger().setLevel(logging.WARNING)
    jobs = json.load(sys.stdin)
    json.dump([config_of(job["file"], job.get("env") or {}) for job in jobs], sys.stdout)


if __name__ == "__main__":
    main()
