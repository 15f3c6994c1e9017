"""Traefik, the edge proxy. Apply this stack first: it owns ``traefik_default``.

Other stacks (whoami, matrix ...) put a service behind Traefik by joining
``traefik_default`` as an external network and setting ``traefik.*`` labels.
"""

from stackctl import Deploy, Network, Resources, ResourceSpec, Service, Stack

# Compose's implicit project network, with its Docker name spelled out: other stacks
# join it by this name, so it must not change if this stack is ever renamed.
edge = Network("default", name="traefik_default")

traefik = Service(
    "traefik",
    image="traefik:v3.1",
    container_name="traefik",
    # Static config from flags. A traefik.yml in ./config would take precedence over
    # every flag, so keep ./config for dynamic files only.
    command="--api.insecure=true --providers.docker",
    restart="always",
    ports=["80:80", "443:443"],  # the edge: published on every interface on purpose
    volumes=[
        # Discovery only reads the socket; :ro keeps Traefik from writing to it.
        "/var/run/docker.sock:/var/run/docker.sock:ro",
        "./config:/etc/traefik",
        "./letsencrypt:/letsencrypt:rw",  # acme.json: keys, git-ignored
    ],
    deploy=Deploy(resources=Resources(limits=ResourceSpec(cpus=0.5, memory="2048M"))),
    networks=[edge],
)

stack = Stack("traefik", services=[traefik], networks=[edge])
