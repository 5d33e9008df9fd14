"""Placing 100,000 hotline addresses on the demo gazetteer: GridGov's Gazetteer vs an exact join.

The addresses are those of the demo's 12345 tickets (every one has its address; 30 % of them
came without coordinates and were written with planted noise: full-width digits, Chinese
numerals, no town, typos, no house number, village only, nothing useful — see data/README.md),
a random 100,000 of them, against the demo's ``gazetteer`` layer (standard addresses of
compounds and rural houses, POIs, villages).

GridGov: ``Gazetteer.build(layer)`` then ``.match(addresses)`` (normalisation, dictionary
parsing, n-gram TF-IDF name similarity, address / village / none). The peer, as its users
would write it: NFKC, spaces and punctuation out, the county prefix stripped, then a pandas
``merge`` of the addresses' text on the gazetteer's address text — exact matches only, so
it places no typo, no Chinese numeral and nothing at village level.

Printed: seconds and addresses per second of both (medians of 3; GridGov's build and match
apart), the match rate of each by level (the peer's "village" level: the text of a village
entry), and where both placed an address whether at the same point; they must, and GridGov
must place every address the peer places (exit 1 otherwise).

Run: ``python bench/bench_gazetteer.py [N] [--quick]`` from the repository root (``--quick``:
5,000 addresses on the small county, one run).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyogrio
from _demo import arguments, check, county_gpkg, median_time

from geo.intake import Gazetteer

PREFIX = r"^(?:江苏省)?(?:盐城市)?(?:射阳县)?"


def peer_normalise(text: pd.Series) -> pd.Series:
    """What a user would do before joining: full-width folded, spaces and punctuation out,
    the county prefix stripped."""
    s = text.fillna("").astype(str).str.normalize("NFKC")
    s = s.str.replace(r"[^\u4e00-\u9fffA-Za-z0-9]", "", regex=True)
    return s.str.replace(PREFIX, "", regex=True)


def peer(addresses: pd.Series, layer: pd.DataFrame) -> pd.DataFrame:
    """Exact join on normalised text; the first gazetteer entry of a text wins."""
    keys = pd.DataFrame(
        {
            "key": peer_normalise(layer["address"]),
            "x": layer.geometry.x.to_numpy(),
            "y": layer.geometry.y.to_numpy(),
            "kind": layer["kind"].to_numpy(),
        }
    ).drop_duplicates("key")
    left = pd.DataFrame({"key": peer_normalise(addresses).to_numpy()})
    return left.merge(keys, on="key", how="left")


def main() -> None:
    args = arguments(
        __doc__, add=lambda p: p.add_argument("n", nargs="?", type=int, default=100_000)
    )
    path = county_gpkg(args.quick)
    if "gazetteer" not in set(pyogrio.list_layers(path)[:, 0]):
        raise SystemExit(f"{path} has no gazetteer layer: rebuild it (python -m geo demo --out …)")
    layer = pyogrio.read_dataframe(path, layer="gazetteer", use_arrow=True)
    issues = pyogrio.read_dataframe(
        path, layer="issues", columns=["address"], read_geometry=False, use_arrow=True
    )
    pool = issues["address"].fillna("")
    pool = pool[pool != ""].reset_index(drop=True)
    n = min(5_000 if args.quick else args.n, len(pool))
    repeat = 1 if args.quick else 3
    rng = np.random.default_rng(0)
    addresses = pool.iloc[rng.choice(len(pool), n, replace=False)].reset_index(drop=True)

    t_build, gaz = median_time(lambda: Gazetteer.build(layer), repeat)
    t_match, ours = median_time(lambda: gaz.match(addresses), repeat)
    t_peer, theirs = median_time(lambda: peer(addresses, layer), repeat)
    t_ours = t_build + t_match

    levels = ours["match_level"].value_counts().reindex(["address", "village", "none"])
    levels = levels.fillna(0).astype(int)
    peer_hit = theirs["x"].notna().to_numpy()
    peer_point = peer_hit & (theirs["kind"] != "village").to_numpy()
    ours_hit = (ours["match_level"] != "none").to_numpy()
    ours_point = (ours["match_level"] == "address").to_numpy()
    both = peer_hit & ours_hit
    same = np.hypot(
        ours["x"].to_numpy()[both] - theirs["x"].to_numpy()[both],
        ours["y"].to_numpy()[both] - theirs["y"].to_numpy()[both],
    )
    agree = float((same < 0.01).mean()) if both.any() else float("nan")
    print(
        f"addresses: {n:,} ({addresses.nunique():,} distinct); gazetteer: {len(layer):,} "
        f"entries ({', '.join(f'{k} {v:,}' for k, v in layer['kind'].value_counts().items())}); "
        f"median of {repeat}"
    )
    print(f"GridGov Gazetteer.build:            {t_build:7.3f} s")
    print(f"GridGov match:                      {t_match:7.3f} s  ({n / t_match:,.0f} addresses/s)")
    print(f"GridGov build + match:              {t_ours:7.3f} s  ({n / t_ours:,.0f} addresses/s)")
    print(f"pandas exact join (peer):           {t_peer:7.3f} s  ({n / t_peer:,.0f} addresses/s)")
    print(f"ratio GridGov / peer, build included: {t_ours / t_peer:.1f}x the peer's time")
    print(
        f"GridGov placed {levels['address'] / n:.1%} at an address or POI, "
        f"{levels['village'] / n:.1%} at a village, {levels['none'] / n:.1%} not at all"
    )
    print(
        f"peer placed {peer_point.mean():.1%} at an address or POI and "
        f"{(peer_hit & ~peer_point).mean():.1%} at a village (exact text of an entry only)"
    )
    print(
        f"of the {both.sum():,} both placed, {agree:.2%} at the same point (GridGov at the same "
        f"level: {((ours_point == peer_point)[both]).mean():.2%}); GridGov placed "
        f"{(ours_hit & ~peer_hit).sum():,} the peer did not (at a point: "
        f"{(ours_point & ~peer_hit).sum():,}), the peer {(peer_hit & ~ours_hit).sum():,} "
        "GridGov did not"
    )
    check(both.any() and agree == 1.0, "GridGov and the exact join chose different points")
    check(not (peer_hit & ~ours_hit).any(), "an exact gazetteer text GridGov did not place")


if __name__ == "__main__":
    main()
