"""Matrix behind Traefik (reference: matrix/compose.yaml): Synapse, Postgres, and nginx
for ``/.well-known`` and the reverse-proxy hop.

    Traefik (traefik stack) -> nginx -> synapse:8008 -> postgres:5432

Networks: ``traefik_default`` is the traefik stack's (external here: Traefik reaches nginx
through it); ``matrix_network`` is this stack's private back end, named as in the
homelab (Postgres lives only there).

Images are built offline by ``scripts/build-test-images.sh``: real Synapse (PyPI's
matrix-synapse) and real PostgreSQL and nginx (Debian's). Data lives in named volumes
(``synapse_data``, ``pgdata``): a replaced container keeps it, ``destroy`` keeps it.

The environment chooses the mode when the stack loads (see ../traefik/stack.py):
``STACKCTL_MATRIX_LOCAL=1`` serves ``matrix.localhost`` (the same routes on http and on
https with Traefik's default certificate, and the shared-secret registration API that
``scripts/demo.sh matrix`` uses); otherwise ``MATRIX_DOMAIN`` (say example.com) with a Let's
Encrypt certificate. ``STACKCTL_MATRIX_PREFIX`` prefixes every name.
"""

import os

from stackctl import Healthcheck, Network, Service, Stack, Volume, healthy

PREFIX = os.environ.get("STACKCTL_MATRIX_PREFIX", "")
LOCAL = os.environ.get("STACKCTL_MATRIX_LOCAL", "") not in ("", "0")
DOMAIN = (
    "matrix.localhost"
    if LOCAL
    else "${MATRIX_DOMAIN:?set MATRIX_DOMAIN (or STACKCTL_MATRIX_LOCAL=1)}"
)
EDGE = f"{PREFIX}traefik_default"

DEBIAN = "stackctl-test/debian:bookworm"  # PostgreSQL 15 and nginx-light from Debian
SYNAPSE = "stackctl-test/synapse:1.163.2"

edge = Network("traefik_default", name=EDGE, external=True)  # the traefik stack's
matrix_net = Network("matrix_network", name=f"{PREFIX}matrix_network")
pgdata = Volume("pgdata")
synapse_data = Volume("synapse_data")

# --------------------------------------------------------------------------- database

postgres = Service(
    "postgres",
    image=DEBIAN,
    hostname="postgres",
    container_name=f"{PREFIX}postgres",
    # PostgreSQL in the foreground (initdb on first start); it trusts clients on
    # matrix_network, which only this stack's services join.
    command=["stackctl-postgres"],
    stop_signal="SIGINT",  # a fast, clean shutdown
    restart="always",
    volumes={pgdata: "/var/lib/postgresql/data"},
    # Synapse fails on start without its database, so it waits for this.
    healthcheck=Healthcheck.shell(
        "pg_isready -h 127.0.0.1 -U postgres", interval="2s", timeout="5s", retries=30
    ),
    networks=[matrix_net],  # never on the edge network: nothing outside needs Postgres
)

# --------------------------------------------------------------------------- homeserver

# Synapse wants its database with C collation: made once, before Synapse starts.
CREATE_DB = (
    "psql -h postgres -U postgres -tAc \"select 1 from pg_database where datname = 'synapse'\""
    " | grep -q 1 || createdb -h postgres -U postgres -T template0 -E UTF8"
    " --lc-collate=C --lc-ctype=C synapse"
)
config = [
    "-c",
    "/config/homeserver.yaml",
    "-c",
    "/config/local.yaml" if LOCAL else "/config/domain.yaml",
]

synapse = Service(
    "synapse",
    image=SYNAPSE,
    hostname="synapse",
    container_name=f"{PREFIX}synapse",
    restart="unless-stopped",
    depends_on={postgres: healthy},
    command=["sh", "-c", f'{CREATE_DB} && exec synapse-start "$$@"', "synapse-start", *config],
    environment={
        "SYNAPSE_CACHE_FACTOR": "1.0",  # Synapse's global cache factor
        "TZ": "Etc/UTC",
    },
    volumes=[
        "./synapse:/config:ro",  # homeserver.yaml (+ local.yaml or domain.yaml)
        {"type": "volume", "source": "synapse_data", "target": "/data"},  # keys, media
    ],
    # nginx waits for this, so Traefik routes to a homeserver that answers.
    healthcheck=Healthcheck.shell(
        "curl -fsS http://localhost:8008/health || exit 1",
        interval="2s",
        timeout="5s",
        retries=60,
        start_period="120s",  # the first start makes the database schema
    ),
    networks=[matrix_net],
)

# --------------------------------------------------------------------------- web

# Traefik -> nginx -> synapse, and /.well-known/matrix (see nginx.conf). In local mode it
# also passes the shared-secret registration API (admin.conf); on a real box it does not.
nginx_mounts = ["./nginx.conf:/etc/nginx/sites-enabled/default:ro"]
if LOCAL:
    nginx_mounts.append("./admin.conf:/etc/nginx/matrix/admin.conf:ro")

router = f"{PREFIX}matrix"
labels = {
    "traefik.enable": "true",
    "traefik.docker.network": EDGE,  # Traefik reaches nginx on the edge network
    f"traefik.http.services.{router}.loadbalancer.server.port": "80",
    f"traefik.http.routers.{router}-secure.rule": f"Host(`{DOMAIN}`)",
    f"traefik.http.routers.{router}-secure.entrypoints": "websecure",
}
if LOCAL:  # plain http too (no certificate to trust), and https with Traefik's default one
    labels[f"traefik.http.routers.{router}-secure.tls"] = "true"
    labels[f"traefik.http.routers.{router}.rule"] = f"Host(`{DOMAIN}`)"
    labels[f"traefik.http.routers.{router}.entrypoints"] = "web"
else:  # http redirects to https (traefik stack); the certificate comes from Let's Encrypt
    labels[f"traefik.http.routers.{router}-secure.tls.certresolver"] = "letsencrypt"

nginx = Service(
    "nginx",
    image=DEBIAN,
    container_name=f"{PREFIX}matrix-nginx",
    command=["nginx", "-g", "daemon off;"],
    restart="unless-stopped",
    depends_on={synapse: healthy},
    volumes=nginx_mounts,
    labels=labels,
    healthcheck=Healthcheck.cmd(
        "curl", "-fsS", "http://127.0.0.1/.well-known/matrix/server", interval="2s", retries=30
    ),
    networks=[edge, matrix_net],
)

stack = Stack(
    f"{PREFIX}matrix",
    services=[postgres, synapse, nginx],
    networks=[matrix_net, edge],
    volumes=[pgdata, synapse_data],
)
