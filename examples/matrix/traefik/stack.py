"""Traefik 3, the edge (reference: traefik/compose.yaml). Apply it first: it owns
``traefik_default``, which the matrix stack joins.

Traefik routes by Docker labels through its docker provider: a container is routed when
it says which network Traefik reaches it on (``traefik.docker.network``, this stack's
network), so a second Traefik on the same daemon never picks up another's containers.

Two modes, chosen by the environment when the stack loads:

- a real box (default): ``web`` on :80 redirects to ``websecure`` on :443, certificates
  from Let's Encrypt (HTTP challenge; set ``ACME_EMAIL``), kept in ./letsencrypt;
- ``STACKCTL_MATRIX_LOCAL=1``, a machine without public DNS: ``web`` on 127.0.0.1:80 and
  ``websecure`` on 127.0.0.1:443 with Traefik's default (self-signed) certificate.

``MATRIX_HTTP_PORT`` / ``MATRIX_HTTPS_PORT`` move the published ports, and
``STACKCTL_MATRIX_PREFIX`` prefixes every stack, container and network name (the tests use
both to run beside a real deployment).
"""

import os

from stackctl import (
    Acknowledge,
    Deploy,
    Healthcheck,
    Network,
    Resources,
    ResourceSpec,
    Service,
    Stack,
)

PREFIX = os.environ.get("STACKCTL_MATRIX_PREFIX", "")
LOCAL = os.environ.get("STACKCTL_MATRIX_LOCAL", "") not in ("", "0")
HTTP_PORT = os.environ.get("MATRIX_HTTP_PORT", "80")
HTTPS_PORT = os.environ.get("MATRIX_HTTPS_PORT", "443")

# Compose's implicit project network, with its Docker name spelled out: the matrix stack
# joins it by this name.
EDGE = f"{PREFIX}traefik_default"
edge = Network("default", name=EDGE)

flags = [
    "--entrypoints.web.address=:80",
    "--entrypoints.websecure.address=:443",
    "--providers.docker=true",
    "--providers.docker.exposedbydefault=false",
    f"--providers.docker.network={EDGE}",
    f"--providers.docker.constraints=Label(`traefik.docker.network`,`{EDGE}`)",
    "--ping=true",  # `traefik healthcheck --ping`, on the internal :8080 entrypoint
    "--log.level=INFO",
    "--log.nocolor=true",
]
if LOCAL:
    ports = [f"127.0.0.1:{HTTP_PORT}:80", f"127.0.0.1:{HTTPS_PORT}:443"]
else:
    ports = [f"{HTTP_PORT}:80", f"{HTTPS_PORT}:443"]  # the edge: every interface, on purpose
    flags += [
        "--entrypoints.web.http.redirections.entrypoint.to=websecure",
        "--entrypoints.web.http.redirections.entrypoint.scheme=https",
        "--certificatesresolvers.letsencrypt.acme.email=${ACME_EMAIL:?set ACME_EMAIL}",
        "--certificatesresolvers.letsencrypt.acme.storage=/letsencrypt/acme.json",
        "--certificatesresolvers.letsencrypt.acme.httpchallenge.entrypoint=web",
    ]

traefik = Service(
    "traefik",
    image="stackctl-test/traefik:3.7.15",  # scripts/build-test-images.sh; or traefik:v3.7
    container_name=f"{PREFIX}traefik",
    command=flags,
    restart="always",
    ports=ports,
    volumes=[
        # The docker provider only reads the socket; :ro keeps Traefik from writing to it.
        "/var/run/docker.sock:/var/run/docker.sock:ro",
        "./letsencrypt:/letsencrypt:rw",  # acme.json: the ACME account and certificates
    ],
    acknowledge=[
        Acknowledge(
            "docker-socket",
            reason="Traefik's docker provider routes by container labels, which it reads from the "
            "socket (read-only; only containers on its own network are routed)",
        )
    ],
    healthcheck=Healthcheck.cmd(
        "traefik", "healthcheck", "--ping", interval="2s", timeout="3s", retries=30
    ),
    deploy=Deploy(resources=Resources(limits=ResourceSpec(cpus=0.5, memory="2048M"))),
    networks=[edge],
)

stack = Stack(f"{PREFIX}traefik", services=[traefik], networks=[edge])
