"""A small county and the writers that tests/geo/test_store_concurrency.py runs in processes
of their own (``python -m tests.geo.store_workers OP JSON``).

Each writer prints ``ready`` once imported and prepared, waits for a line on stdin (so that
two writers start together), does its work and prints one JSON line with the outcome.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.grids.assign import assign_events
from geo.store.base import Store, StoreError, open_store

METRIC = "EPSG:4549"
X0, Y0 = 524_000.0, 3_737_000.0
CELL_M = 100.0
COLS, ROWS = 6, 4  # village A = columns 0-2, village B = columns 3-5
TOWN = "320924101"
VILLAGE_A, VILLAGE_B = "320924101001", "320924101002"
SOURCE = "12345"


def village_of(col: int) -> str:
    return VILLAGE_A if col < COLS // 2 else VILLAGE_B


def grids_from_labels(labels: dict[tuple[int, int], int]) -> gpd.GeoDataFrame:
    """Grids from cell → label (cells of one village with one label form one grid)."""
    groups: dict[tuple[str, int], list[shapely.Polygon]] = {}
    for (col, row), label in sorted(labels.items()):
        x, y = X0 + col * CELL_M, Y0 + row * CELL_M
        groups.setdefault((village_of(col), label), []).append(
            shapely.box(x, y, x + CELL_M, y + CELL_M)
        )
    rows = [
        {
            "grid_code": f"{village}{label + 1:03d}",
            "grid_name": f"第{label + 1}网格",
            "village_code": village,
            "town_code": TOWN,
            "households": 2 * len(cells),
            "geometry": shapely.union_all(cells),
        }
        for (village, label), cells in sorted(groups.items())
    ]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC)


def initial_grids() -> gpd.GeoDataFrame:
    """Twelve grids, each one column wide and two rows high."""
    return grids_from_labels(
        {(c, r): (c % (COLS // 2)) * 2 + r // 2 for c in range(COLS) for r in range(ROWS)}
    )


def village_a_by_columns() -> gpd.GeoDataFrame:
    """Village A's cells as 3 grids, one column each."""
    return grids_from_labels({(c, r): c for c in range(COLS // 2) for r in range(ROWS)})


def village_a_by_rows() -> gpd.GeoDataFrame:
    """Village A's cells as 4 grids, one row each."""
    return grids_from_labels({(c, r): r for c in range(COLS // 2) for r in range(ROWS)})


def points(grids: gpd.GeoDataFrame, xy: np.ndarray, prefix: str) -> gpd.GeoDataFrame:
    """Issues at ``xy`` assigned to ``grids``, with ids ``<prefix>00000``…"""
    frame = gpd.GeoDataFrame(
        {
            "ticket_id": [f"{prefix}{i:05d}" for i in range(len(xy))],
            "source": SOURCE,
            "ticket_key": [f"{SOURCE}|{prefix}{i:05d}" for i in range(len(xy))],
            "status": "open",
            "generation": np.int64(0),
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=METRIC,
    )
    got = assign_events(frame, grids)
    for col in ("grid_code", "village_code", "town_code", "assign_problem"):
        frame[col] = got[col].astype(str).to_numpy()
    return frame


def county_issues(seed: int = 0, n: int = 120) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    xy = np.column_stack(
        [rng.uniform(X0 + 1, X0 + COLS * CELL_M - 1, n), rng.uniform(Y0 + 1, Y0 + 399, n)]
    )
    return points(initial_grids(), xy, "RX")


def imported_issues(n: int = 3000) -> gpd.GeoDataFrame:
    """Issues well inside village B, where a publish of village A moves nothing."""
    rng = np.random.default_rng(7)
    xy = np.column_stack([rng.uniform(X0 + 320, X0 + 580, n), rng.uniform(Y0 + 20, Y0 + 380, n)])
    return points(initial_grids(), xy, "IMP")


def households() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(3)
    xy = np.column_stack([rng.uniform(X0 + 1, X0 + 599, 200), rng.uniform(Y0 + 1, Y0 + 399, 200)])
    frame = gpd.GeoDataFrame(
        {"household_id": [f"H{i:04d}" for i in range(len(xy))], "residents": 3},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=METRIC,
    )
    got = assign_events(frame, initial_grids())
    for col in ("grid_code", "village_code", "town_code"):
        frame[col] = got[col].astype(str).to_numpy()
    return frame


def seed_county(store: Store) -> None:
    store.write({"grids": initial_grids(), "households": households(), "issues": county_issues()})


def generation(k: int, n_issues: int) -> dict[str, pd.DataFrame]:
    """Layers that all say which write they came from: ``issues`` (``n_issues + k`` rows
    of generation ``k``) and ``meta`` (its ``generation`` row)."""
    rng = np.random.default_rng(k)
    n = n_issues + k
    xy = np.column_stack([rng.uniform(X0, X0 + 600, n), rng.uniform(Y0, Y0 + 400, n)])
    issues = gpd.GeoDataFrame(
        {"ticket_id": [f"G{k}-{i}" for i in range(n)], "generation": np.int64(k)},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=METRIC,
    )
    meta = pd.DataFrame({"key": ["generation", "rows"], "value": [str(k), str(n)]})
    return {"issues": issues, "meta": meta}


# --- the writers ---------------------------------------------------------------------------


def _start(args: dict[str, Any]) -> Store:
    store = open_store(args["location"], schema=args.get("schema", "public"))
    print("ready", flush=True)
    if args.get("wait", True):
        sys.stdin.readline()
    return store


def import_issues(args: dict[str, Any]) -> dict[str, Any]:
    """``store.write({"issues": …})``, as ``python -m geo import --issues`` does."""
    frame = imported_issues()
    store = _start(args)
    store.write({"issues": frame})
    return {"written": len(frame)}


def publish(args: dict[str, Any]) -> dict[str, Any]:
    from geo.planning.versions import ConflictError, VersionedGrids

    store = _start(args)
    vg = VersionedGrids(store)
    try:
        result = vg.publish(vg.read_draft(args["draft"]), author=args["author"], reason="r")
    except ConflictError as exc:
        return {"refused": type(exc).__name__, "message": str(exc)}
    return {"version": result.version}


def upsert(args: dict[str, Any]) -> dict[str, Any]:
    """Tickets ``first`` … ``first + count - 1`` added or updated in batches, each batch
    one transaction keyed by (source, ticket_id): lock, read, append the new, update the rest."""
    store = _start(args)
    added = updated = 0
    ids = [f"T{i:04d}" for i in range(args["first"], args["first"] + args["count"])]
    for start in range(0, len(ids), args["batch"]):
        batch = ids[start : start + args["batch"]]
        with store.transaction() as tx:
            tx.lock("issues")
            have = tx.read(
                "issues", columns=["ticket_id"], where={"source": SOURCE, "ticket_id": batch}
            )
            known = set(have["ticket_id"].astype(str))
            new = [t for t in batch if t not in known]
            if new:
                frame = points(
                    initial_grids(), np.array([[X0 + 450.0, Y0 + 150.0]] * len(new)), "x"
                )
                frame["ticket_id"] = new
                frame["ticket_key"] = [f"{SOURCE}|{t}" for t in new]
                frame["status"] = args["who"]
                tx.append("issues", frame)
            old = sorted(known)
            if old:
                tx.update(
                    "issues",
                    pd.DataFrame(
                        {"ticket_key": [f"{SOURCE}|{t}" for t in old], "status": args["who"]}
                    ),
                    key="ticket_key",
                )
            added, updated = added + len(new), updated + len(old)
    return {"added": added, "updated": updated}


def write_loop(args: dict[str, Any]) -> dict[str, Any]:
    """Write generation 1, 2, … of ``issues`` and ``meta`` together, ``times`` times
    (for ever when 0)."""
    store = open_store(args["location"], schema=args.get("schema", "public"))
    layers = [generation(k, args["rows"]) for k in (1, 2)]
    print("ready", flush=True)
    k = 0
    while args["times"] == 0 or k < args["times"]:
        k += 1
        frames = layers[k % 2] if args["times"] == 0 else generation(k, args["rows"])
        store.write(frames)
    return {"written": k}


def transaction_loop(args: dict[str, Any]) -> dict[str, Any]:
    """Append generation k's rows to ``issues`` and set ``meta`` to k, in one transaction,
    for k = 1, 2, … for ever."""
    store = open_store(args["location"])
    print("ready", flush=True)
    k = int(store.read("meta").set_index("key").loc["generation", "value"])
    while True:
        k += 1
        frames = generation(k, args["rows"])
        with store.transaction() as tx:
            tx.append("issues", frames["issues"])
            total = len(tx.read("issues", columns=["ticket_id"]))
            tx.update(
                "meta",
                pd.DataFrame({"key": ["generation", "rows"], "value": [str(k), str(total)]}),
                key="key",
            )


def publish_loop(args: dict[str, Any]) -> dict[str, Any]:
    """Publish village A split by columns, then by rows, then by columns… for ever."""
    from geo.planning.versions import VersionedGrids

    store = open_store(args["location"])
    vg = VersionedGrids(store)
    vg.versions()
    base = initial_grids()
    base_b = base[base.village_code == VILLAGE_B]
    layers = [pd.concat([base_b, village_a_by_columns()]), pd.concat([base_b, village_a_by_rows()])]
    print("ready", flush=True)
    k = 0
    while True:
        k += 1
        vg.publish(
            gpd.GeoDataFrame(layers[k % 2], geometry="geometry", crs=METRIC),
            author="王规划",
            reason=f"第 {k} 次",
        )


def read_only_probe(args: dict[str, Any]) -> dict[str, Any]:
    """What a user who may only read gets from reading, writing and a transaction."""
    store = _start(args)
    out: dict[str, Any] = {"layers": store.layers(), "grids": len(store.read("grids"))}
    attempts = {
        "write": lambda: store.write({"meta": pd.DataFrame({"key": ["k"], "value": ["v"]})}),
        "transaction": lambda: _append_one(store),
        "create_tables": lambda: store.create_tables(
            {"extra": pd.DataFrame({"key": pd.Series([], dtype="str")})}
        ),
    }
    with store.transaction(readonly=True) as tx:
        out["tx_read"] = len(tx.read("grids", columns=["grid_code"]))
    for name, attempt in attempts.items():
        try:
            attempt()
            out[name] = "written"
        except StoreError as exc:
            out[name] = str(exc)
    out["grids_after"] = len(store.read("grids"))
    return out


def _append_one(store: Store) -> None:
    with store.transaction() as tx:
        tx.append("issues", county_issues(n=1))


def intake(args: dict[str, Any]) -> dict[str, Any]:
    """``python -m geo intake FILE --source 12345`` in this process (geo.intake.intake_file)."""
    from geo.intake import intake_file

    store = _start(args)
    result = intake_file(args["file"], store=store, source=args["source"], user=args["who"])
    return {"new": result.new, "updated": result.updated, "unchanged": result.unchanged}


OPS = {
    "import_issues": import_issues,
    "publish": publish,
    "upsert": upsert,
    "write_loop": write_loop,
    "transaction_loop": transaction_loop,
    "publish_loop": publish_loop,
    "read_only_probe": read_only_probe,
    "intake": intake,
}

if __name__ == "__main__":
    outcome = OPS[sys.argv[1]](json.loads(sys.argv[2]))
    print(json.dumps(outcome, ensure_ascii=False), flush=True)
