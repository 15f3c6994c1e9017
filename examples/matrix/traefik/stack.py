"""Traefik, the homelab's edge proxy (reference: traefik/compose.yaml).

Traefik watches the Docker socket and routes to containers on its project network,
``traefik_default``. This stack owns that network: other stacks (matrix, whoami) join it
as an external network, so this stack is applied first.
"""

from stackctl import Deploy, Network, Resources, ResourceSpec, Service, Stack

# Compose calls the project's implicit network ``default`` and names it
# ``<project>_default``. Naming it explicitly keeps the Docker name ``traefik_default``
# stable even if this stack is renamed: other stacks refer to it by that name.
edge = Network("default", name="traefik_default")

traefik = Service(
    "traefik",
    image="traefik",  # unpinned, as the homelab runs it today (stackctl warns about it)
    container_name="traefik",
    command="--api.insecure=true --providers.docker",
    restart="always",
    ports=["80:80", "443:443"],  # the edge: published on every interface on purpose
    volumes=[
        # Traefik only reads the socket (container discovery); read-only limits the
        # damage a compromised proxy can do, though the socket remains powerful.
        "/var/run/docker.sock:/var/run/docker.sock:ro",
        "./config:/etc/traefik",
        "./letsencrypt:/letsencrypt:rw",  # ACME account and certificates (acme.json)
    ],
    deploy=Deploy(resources=Resources(limits=ResourceSpec(cpus=0.5, memory="2048M"))),
    networks=[edge],
)

stack = Stack("traefik", services=[traefik], networks=[edge])
