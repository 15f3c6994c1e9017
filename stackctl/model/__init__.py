"""The typed stack language: frozen pydantic models, unknown fields rejected.

A stack is written in Python (the primary form), as a stack YAML/JSON file, or as a
compose file; every loader ends here. Inputs are accepted in their friendly forms
(``"127.0.0.1:8080:80/tcp"``, ``"./data:/data:ro"``, objects or names as references)
and normalised to one canonical form, so two spellings of one stack compare equal.

    from stackctl import Stack, Service, Network, Healthcheck, healthy

    edge = Network("traefik_default", external=True)
    db = Service("postgres", image="postgres:14", networks=[edge],
                 healthcheck=Healthcheck.shell("pg_isready -U synapse", interval="5s"))
    app = Service("synapse", image="matrixdotorg/synapse:v1.99", depends_on={db: healthy},
                  networks=[edge])
    stack = Stack("matrix", services=[db, app], networks=[edge])

The package's modules, in import order (each imports only the ones above it):

fields.py    field types: durations, sizes, image references, scalars, commands, lists,
             KEY=VALUE maps, restart and extra_hosts forms; ``_Model``, the frozen base
network.py   the stack-level resources: Network (Ipam, IpamPool), Volume, SecretSource
build.py     Build: a service's image built from a folder and a Dockerfile
service.py   Service and its parts: Port, Mount, Healthcheck, Condition, Dependency,
             Deploy (Resources, ResourceSpec, DeviceRequest, RestartPolicy, UpdateConfig,
             Placement),
             Logging, ServiceNetwork, ServiceSecret, Secret
stack.py     Stack
"""

from stackctl.model.build import Build
from stackctl.model.fields import (
    Command,
    Duration,
    ImageRef,
    Scalar,
    Size,
    StrList,
    StrMap,
)
from stackctl.model.network import ConfigSource, Ipam, IpamPool, Network, SecretSource, Volume
from stackctl.model.service import (
    Acknowledge,
    Condition,
    Dependency,
    Deploy,
    DeviceRequest,
    Environment,
    EnvValue,
    Healthcheck,
    Logging,
    Mount,
    Mounts,
    Placement,
    Port,
    Ports,
    Resources,
    ResourceSpec,
    RestartPolicy,
    Secret,
    Service,
    ServiceConfig,
    ServiceNetwork,
    ServiceSecret,
    Ulimit,
    UpdateConfig,
    completed,
    healthy,
    started,
)
from stackctl.model.stack import Stack

__all__ = [
    "Acknowledge",
    "Build",
    "Command",
    "Condition",
    "ConfigSource",
    "Dependency",
    "Deploy",
    "DeviceRequest",
    "Duration",
    "EnvValue",
    "Environment",
    "Healthcheck",
    "ImageRef",
    "Ipam",
    "IpamPool",
    "Logging",
    "Mount",
    "Mounts",
    "Network",
    "Placement",
    "Port",
    "Ports",
    "ResourceSpec",
    "Resources",
    "RestartPolicy",
    "Scalar",
    "Secret",
    "SecretSource",
    "Service",
    "ServiceConfig",
    "ServiceNetwork",
    "ServiceSecret",
    "Size",
    "Stack",
    "StrList",
    "StrMap",
    "Ulimit",
    "UpdateConfig",
    "Volume",
    "completed",
    "healthy",
    "started",
]
