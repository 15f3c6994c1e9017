"""The host-gateway pattern: nginx in a container proxies a service on the host.

Inside a container the host is the network's gateway. Fixing the subnet and gateway
makes that address (172.18.0.1) stable, so nginx.conf can say
``proxy_pass http://172.18.0.1:8080``; nginx gets a fixed address too.

The service on the host must listen on 172.18.0.1 or 0.0.0.0 port 8080 (a port
published on 127.0.0.1 only, like proxy/'s, is not reachable through the gateway),
and the host firewall must accept traffic from 172.18.0.0/16.
"""

from stackctl import Ipam, IpamPool, Network, Service, ServiceNetwork, Stack

# Docker hands out 172.17.0.0/16, 172.18.0.0/16, ... to networks made without a subnet,
# so another network may already hold this one (see README: default-address-pools).
net = Network(
    "default",  # Docker name: hostgw_default
    driver="bridge",
    ipam=Ipam(config=[IpamPool(subnet="172.18.0.0/16", gateway="172.18.0.1")]),
)

nginx = Service(
    "nginx",
    image="nginx:1.27",
    restart="unless-stopped",
    ports=["127.0.0.1:8081:80"],
    volumes=["./nginx.conf:/etc/nginx/nginx.conf:ro"],
    networks={net: ServiceNetwork(ipv4_address="172.18.0.2")},
)

stack = Stack("hostgw", services=[nginx], networks=[net])
