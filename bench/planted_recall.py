"""Are the demo's planted patterns found?  Recall and other grids flagged, per pattern.

For each planted pattern (``planted`` table of the demo GeoPackage; 12 grids hold most of
its events) this prints how many of those grids the analysis puts in the expected class
(recall, out of 12) and how many other grids it puts there ("others": not planted, so either
false discoveries or real hot spots of the synthetic background, which is denser where more
people live). Gi* is the page's default: the excess over the count expected for the
residents, analytic z with FDR. The rows are the page's settings (queen neighbours, weekly
and monthly bins) and the 10 nearest grids. P5 (burst) and P6 (repeat caller)
are warnings: found when one warning holds every planted event.

No peer: nothing else plants these patterns. Run: ``python bench/planted_recall.py [--quick]``
from the repository root (``--quick``: the small county and the patterns it holds, 999
permutations for the emerging analysis).
"""

from __future__ import annotations

import pandas as pd
import pyogrio
from _demo import arguments, county_gpkg

from geo.core.scope import Scope
from geo.grids.aggregate import IssueFilter
from geo.hotspots.alerts import detect_alerts
from geo.hotspots.emerging import emerging_hotspots, space_time_cube
from geo.hotspots.excess import expected_counts, poisson_excess
from geo.hotspots.local import gi_star, grid_counts, grid_weights
from geo.store.base import open_store
from geo.store.county import load_county

EXPECTED = {
    # hot in at least 90 % of the bins (a Mann-Kendall trend on the z-scores may make it
    # intensifying or diminishing on top)
    "P1": ("persistent_hot", "intensifying_hot", "diminishing_hot"),
    "P2": ("new_hot", "consecutive_hot", "intensifying_hot"),
    "P3": ("oscillating_hot", "sporadic_hot", "consecutive_hot", "new_hot"),
    "P4": ("diminishing_hot", "historical_hot"),
}


def main() -> None:
    args = arguments(__doc__)
    permutations = 999 if args.quick else 9999
    path = county_gpkg(args.quick)
    data = load_county(open_store(path), scope=Scope.county())
    planted = pyogrio.read_dataframe(path, layer="planted").set_index("pattern_id")
    weights = {
        "queen": grid_weights(data.grids),
        "knn10": grid_weights(data.grids, k=10, method="knn"),
    }
    rows = []
    for pid, expected in EXPECTED.items():
        if pid not in planted.index:
            continue
        row = planted.loc[pid]
        grids = str(row["top_grids"]).split(",")
        cats = (str(row["category"]),)
        span = IssueFilter(
            pd.Timestamp(row["start"]).normalize(), pd.Timestamp(row["end"]).normalize(), cats
        )
        counted = grid_counts(data.issues, data.grids, flt=span)
        y = counted["count"].to_numpy(dtype=float)
        # The page's default: Gi* of the excess over the count expected for the residents,
        # analytic z with FDR (grid_counts keeps the grids' order, and so do the weights).
        excess = poisson_excess(y, expected_counts(y, counted["residents"].to_numpy(float)))
        for near, w in weights.items():
            gi = gi_star(excess, w, permutations=0, signed=True).to_frame()
            gi = gi.set_index("grid_code")
            hot = gi["hotspot_class"].str.startswith("hot")
            rows.append(
                (pid, f"Gi* over the span, {near}", hot[grids].sum(), hot.drop(grids).sum())
            )
            for freq in ("week", "month"):
                cube = space_time_cube(data.issues, w, freq=freq, flt=IssueFilter(categories=cats))
                found = emerging_hotspots(cube, w, permutations=permutations).to_frame()
                category = found.set_index("grid_code")["emerging_category"].isin(expected)
                rows.append(
                    (
                        pid,
                        f"emerging, {freq}, {near}",
                        category[grids].sum(),
                        category.drop(grids).sum(),
                    )
                )
    alerts = detect_alerts(data.issues, as_of=data.as_of)
    for pid, kind in (("P5", "burst"), ("P6", "repeat_caller")):
        if pid not in planted.index:
            continue
        events = set(data.issues.loc[data.issues["demo_pattern"] == pid, "ticket_id"])
        of_kind = alerts[alerts["kind"] == kind]
        hit = of_kind["ticket_ids"].map(lambda ids, ev=events: ev <= set(ids))
        rows.append((pid, f"warning {kind}", int(hit.sum()), int(len(of_kind) - hit.sum())))
    table = pd.DataFrame(rows, columns=["pattern", "analysis", "recall_of_12", "others"])
    with pd.option_context("display.width", 120, "display.max_rows", 100):
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
