"""stackctl: typed Docker stacks, planned like terraform, applied idempotently.

The public API is the typed stack language re-exported here; everything else is internal.
"""

from stackctl.model import (
    Condition,
    Dependency,
    Deploy,
    Healthcheck,
    Ipam,
    IpamPool,
    Logging,
    Mount,
    Network,
    Placement,
    Port,
    Resources,
    ResourceSpec,
    RestartPolicy,
    Secret,
    SecretSource,
    Service,
    ServiceNetwork,
    ServiceSecret,
    Stack,
    UpdateConfig,
    Volume,
    completed,
    healthy,
    started,
)

__version__ = "0.1.0"

__all__ = [
    "Condition",
    "Dependency",
    "Deploy",
    "Healthcheck",
    "Ipam",
    "IpamPool",
    "Logging",
    "Mount",
    "Network",
    "Placement",
    "Port",
    "ResourceSpec",
    "Resources",
    "RestartPolicy",
    "Secret",
    "SecretSource",
    "Service",
    "ServiceNetwork",
    "ServiceSecret",
    "Stack",
    "UpdateConfig",
    "Volume",
    "__version__",
    "completed",
    "healthy",
    "started",
]
