"""`python -m geo hotspots` and `python -m geo alerts` on a small lattice with a planted cluster."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.cli.main import main


def _lattice(tmp_path):
    cells, codes = [], []
    for i in range(7):
        for j in range(7):
            cells.append(
                shapely.box(
                    500_000 + 200 * i, 3_740_000 + 200 * j, 500_200 + 200 * i, 3_740_200 + 200 * j
                )
            )
            codes.append(f"320924101001{i * 7 + j + 1:03d}")
    grids = gpd.GeoDataFrame(
        {
            "grid_code": codes,
            "village_code": "320924101001",
            "town_code": "320924101",
            "residents": 300,
            "grid_worker": "张三",
        },
        geometry=cells,
        crs="EPSG:4549",
    )
    path = tmp_path / "grids.gpkg"
    grids.to_file(path, layer="grids")
    return grids, path


def _events(grids, tmp_path, rng):
    rows = []
    centre = {
        "320924101001025",
        "320924101001024",
        "320924101001026",
        "320924101001018",
        "320924101001032",
    }  # the middle cell and its four edge neighbours
    for code, geom in zip(grids.grid_code, grids.geometry, strict=True):
        n = 25 if code in centre else int(rng.integers(0, 3))
        for k in range(n):
            x, y = shapely.get_coordinates(geom.centroid)[0] + rng.uniform(-60, 60, 2)
            day = pd.Timestamp("2026-10-01") + pd.Timedelta(days=int(rng.integers(0, 35)))
            rows.append(
                {
                    "ticket_id": f"{code}-{k}",
                    "received_at": day,
                    "category": "环境卫生",
                    "source": "12345",
                    "caller_phone": f"138{rng.integers(0, 10**8):08d}",
                    "x": x,
                    "y": y,
                }
            )
    frame = pd.DataFrame(rows)
    lonlat = gpd.GeoSeries(gpd.points_from_xy(frame.x, frame.y), crs="EPSG:4549").to_crs(4326)
    frame["经度"], frame["纬度"] = lonlat.x, lonlat.y
    path = tmp_path / "events.csv"
    frame.drop(columns=["x", "y"]).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def test_hotspots_cli_finds_the_planted_cluster(tmp_path, capsys):
    grids, grid_path = _lattice(tmp_path)
    events = _events(grids, tmp_path, np.random.default_rng(0))
    out = tmp_path / "hot.csv"
    code = main(
        [
            "hotspots",
            "--grids",
            str(grid_path),
            "--events",
            str(events),
            "--from",
            "2026-10-01",
            "--to",
            "2026-11-04",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    table = pd.read_csv(out, dtype={"grid_code": str})
    assert len(table) == 49
    assert {
        "grid_code",
        "count",
        "rate_per_1000",
        "gi_z",
        "p_sim",
        "p_fdr",
        "hotspot_class",
        "lisa_type",
        "emerging_category",
        "trend_tau",
        "trend_p",
    } <= set(table.columns)
    middle = table.set_index("grid_code").loc["320924101001025"]
    assert middle["hotspot_class"].startswith("hot")
    assert middle["lisa_type"] == "HH"
    corner = table.set_index("grid_code").loc["320924101001001"]
    assert not corner["hotspot_class"].startswith("hot")
    assert "个热点 / " in capsys.readouterr().out


def _run_hotspots(grid_path, events, out, *extra):
    return main(["hotspots", "--grids", str(grid_path), "--events", str(events), "--from",
                 "2026-10-01", "--to", "2026-11-04", "--out", str(out), *extra])  # fmt: skip


def test_a_repeated_ticket_counts_once(tmp_path, capsys):
    grids, grid_path = _lattice(tmp_path)
    events = _events(grids, tmp_path, np.random.default_rng(0))
    frame = pd.read_csv(events, dtype=str)
    twice = pd.concat([frame, frame.iloc[:20]], ignore_index=True)  # 20 rows listed again
    doubled = tmp_path / "twice.csv"
    twice.to_csv(doubled, index=False, encoding="utf-8-sig")
    assert _run_hotspots(grid_path, events, tmp_path / "a.csv") == 0
    capsys.readouterr()
    assert _run_hotspots(grid_path, doubled, tmp_path / "b.csv") == 0
    assert "20 row(s) repeat a ticket id already listed" in capsys.readouterr().err
    once = pd.read_csv(tmp_path / "a.csv", dtype={"grid_code": str}).set_index("grid_code")
    again = pd.read_csv(tmp_path / "b.csv", dtype={"grid_code": str}).set_index("grid_code")
    assert once["count"].equals(again["count"])


def test_the_default_tests_the_excess_for_the_residents(tmp_path):
    grids, _ = _lattice(tmp_path)
    events = _events(grids, tmp_path, np.random.default_rng(0))
    # The planted centre is where everybody lives: its counts are what its people bring.
    crowded = grids.assign(residents=np.where(grids.grid_code.isin({
        "320924101001025", "320924101001024", "320924101001026", "320924101001018",
        "320924101001032"}), 12_000, 300))  # fmt: skip
    crowded_path = tmp_path / "crowded.gpkg"
    crowded.to_file(crowded_path, layer="grids")
    assert _run_hotspots(crowded_path, events, tmp_path / "excess.csv") == 0
    assert _run_hotspots(crowded_path, events, tmp_path / "count.csv", "--value", "count") == 0
    excess = pd.read_csv(tmp_path / "excess.csv", dtype={"grid_code": str}).set_index("grid_code")
    counts = pd.read_csv(tmp_path / "count.csv", dtype={"grid_code": str}).set_index("grid_code")
    middle = "320924101001025"
    assert counts.loc[middle, "hotspot_class"].startswith("hot")  # many issues …
    assert not excess.loc[middle, "hotspot_class"].startswith("hot")  # … for many people
    assert excess.loc[middle, "ratio"] < 1.5 and excess["expected"].sum() == pytest.approx(
        excess["count"].sum()
    )


def test_grids_without_residents_get_a_clear_answer(tmp_path, capsys):
    grids, _ = _lattice(tmp_path)
    events = _events(grids, tmp_path, np.random.default_rng(0))
    bare = tmp_path / "bare.gpkg"
    grids.drop(columns="residents").to_file(bare, layer="grids")
    assert _run_hotspots(bare, events, tmp_path / "x.csv") == 2
    assert "--value count" in capsys.readouterr().err
    assert _run_hotspots(bare, events, tmp_path / "x.csv", "--value", "count") == 0


def test_space_time_options_scan_and_outliers_in_the_output(tmp_path, capsys):
    grids, grid_path = _lattice(tmp_path)
    events = _events(grids, tmp_path, np.random.default_rng(0))
    out = tmp_path / "st.csv"
    options = ["--neighbours", "rook", "--min-neighbours", "3", "--time-step", "2"]
    assert _run_hotspots(grid_path, events, out, *options, "--window", "cube", "--scan", "199") == 0
    table = pd.read_csv(out, dtype={"grid_code": str}).set_index("grid_code")
    assert {"n_hot_bins", "n_cold_bins", "outlier_category", "n_HH_bins", "scan_cluster",
            "scan_p"} <= set(table.columns)  # fmt: skip
    centre = ["320924101001025", "320924101001024", "320924101001026"]
    assert (table.loc[centre, "scan_cluster"] == 1).all()
    assert table.loc[centre, "scan_p"].max() <= 0.01
    for wrong in ("hexagon", "knn:x"):
        assert _run_hotspots(grid_path, events, out, "--neighbours", wrong) == 2
        assert "--neighbours" in capsys.readouterr().err
    assert _run_hotspots(grid_path, events, out, "--window", "individual") == 2
    assert "time_step=0" in capsys.readouterr().err


def test_alerts_cli_writes_masked_warnings(tmp_path):
    _, grid_path = _lattice(tmp_path)
    rows = [
        {
            "ticket_id": f"B{k}",
            "received_at": pd.Timestamp("2026-11-03 09:00") + pd.Timedelta(minutes=10 * k),
            "category": "劳动保障",
            "caller_phone": f"1390000{k:04d}",
            "lon": 120.0 + 0.0,
            "lat": 0.0,
        }
        for k in range(6)
    ]
    centre = gpd.GeoSeries([shapely.Point(500_700, 3_740_700)], crs="EPSG:4549").to_crs(4326)
    frame = pd.DataFrame(rows).assign(lon=float(centre.x[0]), lat=float(centre.y[0]))
    events = tmp_path / "burst.csv"
    frame.to_csv(events, index=False)
    out = tmp_path / "alerts.csv"
    assert (
        main(["alerts", "--grids", str(grid_path), "--events", str(events), "--out", str(out)]) == 0
    )
    alerts = pd.read_csv(out, dtype=str)
    assert (alerts["kind"] == "burst").sum() == 1
    assert not alerts.apply(lambda c: c.str.contains("13900000001", na=False)).any().any()
    # One evidence column, in Chinese unless --lang en asks for English.
    burst = alerts[alerts["kind"] == "burst"].iloc[0]
    assert "evidence_zh" not in alerts.columns and "evidence_en" not in alerts.columns
    assert burst["evidence"].endswith("个不同来电人或上报人）。")
    english = tmp_path / "alerts-en.xlsx"
    argv = ["alerts", "--grids", str(grid_path), "--events", str(events), "--lang", "en"]
    assert main([*argv, "--out", str(english)]) == 0
    shown = pd.read_excel(english, dtype=str)
    assert shown.loc[shown["kind"] == "burst", "evidence"].iloc[0].startswith("6 “劳动保障” issues")
