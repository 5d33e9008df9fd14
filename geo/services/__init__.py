"""15-minute service circles: coverage, the road network, siting new service points."""

from geo.services.coverage import coverage, coverage_gaps, service_access
from geo.services.network import RoadNetwork, read_roads
from geo.services.siting import candidates, propose_sites

__all__ = [
    "RoadNetwork",
    "candidates",
    "coverage",
    "coverage_gaps",
    "propose_sites",
    "read_roads",
    "service_access",
]
