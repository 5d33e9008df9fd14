"""Facts of the real Sheyang County that the demo generator builds on (FACTS.md)."""

#: Sheyang's metric CRS: CGCS2000 / 3-degree Gauss-Kruger CM 120E. The demo county is
#: generated in it whatever the settings say.
METRIC_CRS = "EPSG:4549"
