"""The same typed stacks on Docker Swarm (``--engine swarm``).

desired.py   stacks -> swarm service specs (canonical config + hash, kept in labels),
             overlay networks, volumes
validate.py  (moved: the swarm rules are stackctl/rules/swarm.py)
observe.py   services, tasks, nodes, networks, volumes: a constant number of list calls
plan.py      the swarm half of the pure planner (``stackctl.plan.plan`` dispatches here)
status.py    replicas per node for ``stackctl status --engine swarm``

The writes and rollout waits live in ``stackctl/engine/swarm.py``.
"""
