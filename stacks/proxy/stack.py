"""The by-name proxy pattern: nginx proxies ``web:8080`` over a shared network.

The backend publishes no port; only nginx is reachable from the host. Both services
join the stack's network ``default`` (Docker name ``proxy_default``), where each
container answers to its service name, so nginx.conf says ``proxy_pass http://web:8080``
whatever the container is called.
"""

from stackctl import Network, Service, Stack, started

shared = Network("default", driver="bridge")  # Docker name: proxy_default

web = Service(
    "web",
    image="hashicorp/http-echo:1.0",
    command=["-listen=:8080", "-text=hello"],
    restart="unless-stopped",
    networks=[shared],  # no ports: reachable only from containers on proxy_default
)

nginx = Service(
    "nginx",
    image="nginx:1.27",
    restart="unless-stopped",
    ports=["127.0.0.1:8080:80"],  # loopback only: put Traefik in front to expose it
    volumes=["./nginx.conf:/etc/nginx/nginx.conf:ro"],
    # nginx resolves ``web`` when it starts and exits if it cannot: start web first.
    depends_on={web: started},
    networks=[shared],
)

stack = Stack("proxy", services=[web, nginx], networks=[shared])
