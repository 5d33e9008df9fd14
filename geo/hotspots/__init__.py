"""Hot spots: spatial weights, Gi*, local Moran, emerging hot spots, early warnings."""

from geo.hotspots.alerts import Alert, detect_alerts
from geo.hotspots.emerging import emerging_hotspots, space_time_cube
from geo.hotspots.local import GridWeights, fdr_bh, gi_star, grid_counts, grid_weights, local_moran

__all__ = [
    "Alert",
    "GridWeights",
    "detect_alerts",
    "emerging_hotspots",
    "fdr_bh",
    "gi_star",
    "grid_counts",
    "grid_weights",
    "local_moran",
    "space_time_cube",
]
