"""whoami: a tiny HTTP echo behind Traefik, to check routing end to end.

``curl -H 'Host: whoami.localhost' http://127.0.0.1/`` answers with the request as
the container saw it.
"""

from stackctl import Network, Service, Stack

# Owned by the traefik stack, so external here: apply traefik first.
edge = Network("traefik_default", external=True)

whoami = Service(
    "whoami",
    image="traefik/whoami:v1.10",
    restart="unless-stopped",
    # No published port: Traefik reaches it over traefik_default.
    labels={
        "traefik.enable": "true",
        # ${WHOAMI_HOST} comes from the environment or .env (see .env.example).
        "traefik.http.routers.whoami.rule": "Host(`${WHOAMI_HOST:-whoami.localhost}`)",
        "traefik.http.services.whoami.loadbalancer.server.port": "80",
        # Which network Traefik should use to reach the container (matters as soon as
        # it joins a second one).
        "traefik.docker.network": "traefik_default",
    },
    networks=[edge],
)

stack = Stack("whoami", services=[whoami], networks=[edge])
