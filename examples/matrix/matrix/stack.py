"""Matrix behind Traefik (reference: matrix/compose.yaml).

Synapse with Postgres, the web-facing helpers (nginx for ``/.well-known`` and the
reverse-proxy hops, ntfy, a sticker picker, pushbits) and the chat bridges.

Two networks, both made elsewhere, so both are external:

- ``traefik_default``: owned by the traefik stack; Traefik reaches services through it.
- ``matrix_network``: the private back end (Postgres lives only here). No stack defines
  it: create it once with ``docker network create matrix_network``.

Images are exactly the homelab's, ``:latest`` and untagged ones included, so this stays a
mirror of the real workload; ``stackctl validate`` warns about the unpinned tags.
"""

from stackctl import Healthcheck, Network, Service, Stack, healthy

edge = Network("traefik_default", external=True)
matrix_net = Network("matrix_network", external=True)

# --------------------------------------------------------------------------- database

postgres = Service(
    "postgres",
    image="postgres:14",
    hostname="postgres",
    container_name="postgres",
    restart="always",
    environment={
        "POSTGRES_USER": "synapse_user",
        # Interpolated by the loader from the environment or .env; loading fails with
        # this message when it is unset rather than starting a database without one.
        "POSTGRES_PASSWORD": "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}",
    },
    volumes=[
        # Runs once, on the first start with an empty data dir: creates the databases.
        "./Matrix/postgres/create_db.sh:/docker-entrypoint-initdb.d/20-create_db.sh",
        "./Matrix/postgres/data:/var/lib/postgresql/data",
    ],
    # Synapse and the bridges fail on start without a database, so they wait for this.
    healthcheck=Healthcheck.shell(
        "pg_isready -U synapse_user", interval="5s", timeout="5s", retries=5
    ),
    networks=[matrix_net],  # never on the edge network: nothing outside needs Postgres
)

# --------------------------------------------------------------------------- homeserver

synapse = Service(
    "synapse",
    image="matrixdotorg/synapse:latest",
    hostname="synapse",
    container_name="synapse",
    restart="unless-stopped",
    depends_on={postgres: healthy},
    environment={"TZ": "Asia/Shanghai", "SYNAPSE_CONFIG_PATH": "/data/homeserver.yaml"},
    volumes=["./Matrix/synapse:/data"],
    # matrix-wechat registers with Synapse as an appservice at start, so it waits for this.
    healthcheck=Healthcheck.shell(
        "curl -fsS http://localhost:8008/health || exit 1",
        interval="15s",
        timeout="5s",
        retries=3,
        start_period="30s",  # schema migrations after an upgrade take a while
    ),
    networks=[edge, matrix_net],
)

# --------------------------------------------------------------------------- web helpers

# Traefik -> nginx -> synapse / matrix-wechat, and the /.well-known/matrix delegation
# files (see nginx.conf). nginx resolves upstream names when it starts, so it restarts
# until synapse, matrix-wechat and ``web`` (another stack's front end) are up.
nginx = Service(
    "nginx",
    image="nginx:latest",
    restart="unless-stopped",
    volumes=[
        "./nginx.conf:/etc/nginx/conf.d/default.conf:ro",
        "./well-known:/var/www/.well-known:ro",
    ],
    networks=[edge, matrix_net],
)

# Push notifications (also a UnifiedPush distributor for Matrix clients).
ntfy = Service(
    "ntfy",
    image="binwiederhier/ntfy",
    command="serve",
    restart="unless-stopped",
    networks=[edge],
)

stickerpicker = Service(
    "stickerpicker",
    image="code.loveblancs.com/sora/stickerpicker:latest",
    container_name="sticker",
    restart="always",
    networks=[edge],
)

# Relays notifications from scripts (through Traefik) into Matrix rooms; it logs in to
# Synapse over matrix_network.
pushbits = Service(
    "pushbits",
    image="ghcr.io/pushbits/server:latest",
    networks=[edge, matrix_net],
)

# --------------------------------------------------------------------------- bridges

# The mautrix bridges keep their state in Postgres, so they wait for it to be healthy.
mautrix_telegram = Service(
    "mautrix-telegram",
    image="dock.mau.dev/mautrix/telegram",
    container_name="mautrix-telegram",
    restart="unless-stopped",
    depends_on={postgres: healthy},
    volumes=["./Matrix/mautrix-telegram:/data"],
    networks=[matrix_net, edge],
)

matrix_gmessage = Service(
    "matrix-gmessage",
    image="dock.mau.dev/mautrix/gmessages",
    container_name="matrix-gmessage",
    restart="unless-stopped",
    depends_on={postgres: healthy},
    volumes=["./Matrix/matrix-gmessage:/data"],
    networks=[matrix_net, edge],
)

mautrix_discord = Service(
    "mautrix-discord",
    image="dock.mau.dev/mautrix/discord",
    container_name="mautrix-discord",
    restart="unless-stopped",
    depends_on={postgres: healthy},
    volumes=["./Matrix/mautrix-discord:/data"],
    networks=[matrix_net, edge],
)

# The WeChat bridge talks to Synapse directly, so it waits for Synapse, not Postgres.
# Its WeChat agent (on a Windows machine) connects on port 20002: published directly,
# and also reachable through Traefik -> nginx at /_wechat/.
matrix_wechat = Service(
    "matrix-wechat",
    image="lxduo/matrix-wechat:2",
    hostname="matrix-wechat",
    container_name="matrix-wechat",
    restart="unless-stopped",
    ports=["20002:20002"],
    depends_on={synapse: healthy},
    volumes=["./Matrix/matrix-wechat:/data"],
    networks=[matrix_net, edge],
)

stack = Stack(
    "matrix",
    services=[
        nginx,
        ntfy,
        stickerpicker,
        pushbits,
        synapse,
        mautrix_telegram,
        matrix_gmessage,
        matrix_wechat,
        mautrix_discord,
        postgres,
    ],
    networks=[matrix_net, edge],
)
