"""A demo that runs on any machine with a Docker engine and no registry access.

The by-name proxy pattern, with the images `scripts/build-test-images.sh` builds offline:
nginx (real nginx from Debian) proxies `web:8080` by the backend's service name on a
shared network, and publishes 127.0.0.1:8080. Postgres (real PostgreSQL) has a
`pg_isready` health check, and the backend starts only once it is healthy.

    stackctl plan examples/demo
    stackctl apply examples/demo --yes --wait
    curl http://127.0.0.1:8080/
    stackctl destroy examples/demo --yes
"""

from stackctl import Healthcheck, Network, Service, Stack, Volume, healthy

DEBIAN = "stackctl-test/debian:bookworm"
BUSYBOX = "stackctl-test/busybox:1"

shared = Network("shared")
pgdata = Volume("pgdata")

postgres = Service(
    "postgres",
    image=DEBIAN,
    command=["stackctl-postgres"],
    restart="unless-stopped",
    networks=[shared],
    volumes={pgdata: "/var/lib/postgresql/data"},
    stop_signal="SIGINT",
    healthcheck=Healthcheck.shell(
        "pg_isready -h 127.0.0.1", interval="1s", timeout="3s", retries=30
    ),
)

web = Service(
    "web",
    image=BUSYBOX,
    init=True,
    command=[
        "sh",
        "-c",
        "mkdir -p /www && echo 'hello from web, proxied by nginx' > /www/index.html"
        " && exec httpd -f -p 8080 -h /www",
    ],
    restart="unless-stopped",
    networks=[shared],
    depends_on={postgres: healthy},
)

nginx = Service(
    "nginx",
    image=DEBIAN,
    command=["nginx", "-g", "daemon off;"],
    restart="unless-stopped",
    networks=[shared],
    ports=["127.0.0.1:8080:80"],
    volumes=["./nginx.conf:/etc/nginx/nginx.conf:ro"],
    depends_on=[web],
    healthcheck=Healthcheck.cmd("curl", "-fsS", "http://127.0.0.1/", interval="1s", retries=30),
)

stack = Stack("demo", services=[postgres, web, nginx], networks=[shared], volumes=[pgdata])
