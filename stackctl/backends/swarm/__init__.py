"""The swarm backend: services, overlay networks and volumes on a swarm manager."""
