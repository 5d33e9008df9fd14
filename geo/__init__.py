"""GridGov domain: grids, issues, service points, coordinate systems and analysis."""
