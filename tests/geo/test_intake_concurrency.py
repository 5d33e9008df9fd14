"""Intake in processes of its own, against other writers of the same store: an intake while a
publish re-draws the village its tickets fall in, and two intakes of overlapping files."""

from __future__ import annotations

import numpy as np
import pandas as pd
from openpyxl import Workbook

from geo.core.settings import DISPLAY_CRS
from geo.intake.ingest import LEDGER
from geo.planning.versions import VersionedGrids
from tests.geo import store_workers as w
from tests.geo.test_store_concurrency import (  # noqa: F401 - the fixture
    Worker,
    assert_consistent,
    saved_draft,
    store,
    together,
    where,
)


def export(path, ids, *, seed: int = 0) -> str:
    """An export whose tickets fall in village A (which the publish re-draws)."""
    rng = np.random.default_rng(seed)
    xy = np.column_stack(
        [rng.uniform(w.X0 + 5, w.X0 + 295, len(ids)), rng.uniform(w.Y0 + 5, w.Y0 + 395, len(ids))]
    )
    import geopandas as gpd

    lonlat = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=w.METRIC).to_crs(DISPLAY_CRS)
    book = Workbook()
    sheet = book.active
    sheet.append(["12345工单明细"])
    sheet.append(["工单编号", "受理时间", "诉求类别", "经度", "纬度"])
    for ticket, p in zip(ids, lonlat, strict=True):
        sheet.append([ticket, "2026-11-20 09:00", "环境卫生", round(p.x, 8), round(p.y, 8)])
    book.save(path)
    return str(path)


def test_an_intake_during_a_publish_leaves_every_ticket_in_a_current_grid(store, tmp_path):  # noqa: F811
    draft_id, _ = saved_draft(store)
    ids = [f"IN{i:05d}" for i in range(400)]
    file = export(tmp_path / "a.xlsx", ids)
    published, took = together(
        Worker("publish", **where(store), draft=draft_id, author="王规划"),
        Worker("intake", **where(store), file=file, source="12345", who="a"),
    )
    assert published == {"version": 2} and took == {"new": 400, "updated": 0, "unchanged": 0}
    grids = store.read("grids")
    assert sorted(grids.grid_code) == sorted(VersionedGrids(store).read_version(2).grid_code)
    issues = store.read("issues")
    taken = issues[issues["ticket_id"].isin(ids)]
    assert len(taken) == 400
    # Whichever went first, each ticket is in the grid of version 2 that holds it.
    truth = w.points(grids, np.column_stack([taken.geometry.x, taken.geometry.y]), "t")
    assert taken["grid_code"].tolist() == truth["grid_code"].tolist()
    assert set(taken["grid_code"]) <= set(grids[grids.village_code == w.VILLAGE_A].grid_code)
    assert_consistent(store)


def test_two_intakes_of_overlapping_files_take_turns(store, tmp_path):  # noqa: F811
    first = export(tmp_path / "a.xlsx", [f"OV{i:04d}" for i in range(0, 300)], seed=1)
    second = export(tmp_path / "b.xlsx", [f"OV{i:04d}" for i in range(200, 500)], seed=2)
    a, b = together(
        Worker("intake", **where(store), file=first, source="12345", who="a"),
        Worker("intake", **where(store), file=second, source="12345", who="b"),
    )
    # The 100 shared tickets are new to whichever went first and updated by the other
    # (their locations differ between the files).
    assert a["new"] + b["new"] == 500 and a["updated"] + b["updated"] == 100
    issues = store.read("issues")
    ours = issues[issues["ticket_id"].astype(str).str.startswith("OV")]
    assert len(ours) == 500 and ours["ticket_id"].is_unique
    ledger = pd.DataFrame(store.read(LEDGER))
    assert sorted(ledger["user"]) == ["a", "b"]
    assert_consistent(store)
