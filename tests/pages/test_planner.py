"""AppTest of the 网格规划 page: pick a village, edit, check, publish, conflicts.

These tests publish new grid versions, so they run on their own copy of the demo county
(the session's demo stays as the other page tests expect it), and they clear Streamlit's
resource cache around each test so the store of one copy never leaks into another test.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import shapely

from geo.demo.build import DEMO_FILENAME
from geo.planning.edit import rename
from geo.planning.grid_files import export_bytes
from geo.planning.versions import VersionedGrids
from geo.store.base import open_store
from tests.pages.signin import signed_in

REPO = Path(__file__).resolve().parents[2]
TOWN = "320924101"  # 合德镇
FIRST, SECOND, THIRD = (f"{TOWN}{i:03d}" for i in (1, 2, 3))


@pytest.fixture(scope="module")
def planner_dir(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("planner-data")
    shutil.copy(demo_dir / DEMO_FILENAME, folder / DEMO_FILENAME)
    return folder


@pytest.fixture
def app(planner_dir: Path, monkeypatch: pytest.MonkeyPatch):
    """``AppTest`` of dashboard.py on this module's copy of the demo county."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("GRIDGOV_DATA_DIR", str(planner_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    st.cache_resource.clear()
    yield AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=300)
    st.cache_resource.clear()


def _open(app, village: str | None = None, user: str = "planner"):
    at = signed_in(app, user)
    at.switch_page("pages/views/planner.py").run()
    assert not at.exception, at.exception
    if village:
        at.selectbox(key="plan_village").set_value(village).run()
        assert not at.exception, at.exception
    return at


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _texts(at, kind: str) -> list[str]:
    return [e.value for e in getattr(at, kind)]


def _grids(folder: Path, village: str):
    grids = open_store(folder / DEMO_FILENAME).read("grids")
    return grids[grids.village_code == village].sort_values("grid_code")


def _map_args(at) -> dict:
    maps = [c for c in at.get("component_instance") if "st_folium" in c.proto.component_name]
    return json.loads(maps[0].proto.json_args)


def test_page_renders_in_chinese_and_english(app, planner_dir):
    at = _open(app)
    assert at.title[0].value == "网格规划 · 合德镇 · 明湖社区"
    assert any("示例数据（合成）" in w for w in _texts(at, "warning"))
    assert _metrics(at)["网格数"] == str(len(_grids(planner_dir, FIRST)))
    args = _map_args(at)
    links = args["js_links"] + args["css_links"]
    assert "/app/static/vendor/leaflet-draw/leaflet.draw.js" in links
    assert all(link.startswith("/app/static/") for link in links), links
    assert "L.Control.Draw" in args["script"]
    assert json.dumps("画线（拆分网格）") in args["script"]  # the tools speak Chinese
    assert any(s.startswith("可以发布") for s in _texts(at, "success"))
    assert "用地图左上角的画线工具" in _texts(at, "info")[0]  # nothing drawn yet
    metrics = next(d.value for d in at.dataframe if "超出标准" in d.value.columns)
    assert list(metrics["网格编码"]) == list(_grids(planner_dir, FIRST).grid_code)

    at.sidebar.radio(key="_lang_widget").set_value("en").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Grid planner · 合德镇 · 明湖社区"
    assert {"Grids", "Errors / warnings", "Draft"} <= set(_metrics(at))
    assert "Draw a line (split grids)" in _map_args(at)["script"]
    assert any(s.startswith("Publishable") for s in _texts(at, "success"))


def test_merge_check_refuse_and_publish(app, planner_dir):
    grids = _grids(planner_dir, SECOND)
    geoms = grids.geometry.to_numpy()
    a, b = next(
        (i, j)
        for i in range(len(geoms))
        for j in range(i + 1, len(geoms))
        if shapely.relate_pattern(geoms[i], geoms[j], "****1****")  # share an edge
    )
    pair = [grids.grid_code.iloc[a], grids.grid_code.iloc[b]]
    at = _open(app, SECOND)
    n = len(grids)
    at.radio(key="plan_op").set_value("merge").run()
    at.multiselect(key="plan_merge").set_value(pair).run()
    at.button(key="plan_do_merge").click().run()
    assert not at.exception, at.exception
    assert _metrics(at)["网格数"] == str(n - 1)
    assert _metrics(at)["草案"] == "1 项修改未保存"
    assert any(f"并入 {pair[0]}" in c for c in _texts(at, "caption"))
    assert any("与发布版相比：2 个网格有变化" in m for m in _texts(at, "markdown"))

    assert at.button(key="plan_publish").disabled  # a planner saves; a reviewer publishes
    assert not any(
        "plan_author" in str(w.key) for w in at.text_input
    )  # the author is who signed in

    # An uploaded layer with a grid lacking its worker: the check blocks publishing.
    bad = at.session_state["plan_benches"][SECOND].grids.copy()
    bad.loc[bad.index[0], "grid_worker"] = ""
    upload = ("edited.geojson", export_bytes(bad, "geojson"), "application/geo+json")
    at.file_uploader(key="plan_upload").set_value(upload).run()
    at.button(key="plan_do_upload").click().run()
    assert not at.exception, at.exception
    assert "不能发布：1 个错误，" in " ".join(_texts(at, "error"))
    report = next(d.value for d in at.dataframe if "怎么改" in d.value.columns)
    assert "未配备网格员" in set(report["问题"])

    at.button(key="plan_undo").click().run()  # back to the merge
    assert not any(e.startswith("不能发布") for e in _texts(at, "error"))
    at.button(key="plan_save").click().run()
    assert "草案已保存为第 1 版。" in _texts(at, "success")

    # The reviewer opens the planner's saved draft and publishes it.
    from streamlit.testing.v1 import AppTest

    review = _open(AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=300), SECOND,
                   "reviewer")  # fmt: skip
    assert _metrics(review)["网格数"] == str(n - 1)
    assert review.button(key="plan_save").disabled  # a reviewer does not edit
    store = open_store(planner_dir / DEMO_FILENAME)
    before = store.version()
    review.text_input(key="plan_reason").input("合并两个小网格")
    review.button(key="plan_publish").click().run()
    assert not review.exception, review.exception
    assert any(s.startswith("已发布网格第 2 版") for s in _texts(review, "success"))
    assert store.version() != before  # the county cache, keyed on it, reloads
    assert len(_grids(planner_dir, SECOND)) == n - 1
    # The page now shows the published layer: same count, no difference, a fresh draft.
    assert _metrics(review)["网格数"] == str(n - 1) and _metrics(review)["草案"] == "草案第 0 版"
    assert "草案与当前发布版相同。" in _texts(review, "info")
    history = next(d.value for d in review.dataframe if "发布人" in d.value.columns)
    assert history.iloc[0][["版本", "发布人", "原因"]].tolist() == [2, "reviewer", "合并两个小网格"]


def test_refused_edit_and_save_conflict(app, planner_dir):
    grids = _grids(planner_dir, THIRD)
    geoms = grids.geometry.to_numpy()
    far = next(j for j in range(1, len(geoms)) if not shapely.intersects(geoms[0], geoms[j]))
    at = _open(app, THIRD)
    at.radio(key="plan_op").set_value("merge").run()
    at.multiselect(key="plan_merge").set_value([grids.grid_code.iloc[0], grids.grid_code.iloc[far]])
    at.run()
    at.button(key="plan_do_merge").click().run()
    assert any("没有公共边" in e for e in _texts(at, "error"))  # says which grids and why
    assert _metrics(at)["网格数"] == str(len(grids))  # nothing changed

    code = grids.grid_code.iloc[0]
    at.radio(key="plan_op").set_value("rename").run()
    at.selectbox(key="plan_rename_grid").set_value(code).run()
    at.text_input(key="plan_new_name").input("河西网格")
    at.button(key="plan_do_rename").click().run()
    at.button(key="plan_save").click().run()
    assert "草案已保存为第 1 版。" in _texts(at, "success")

    # Another planner saves the same draft meanwhile.
    vg = VersionedGrids(open_store(planner_dir / DEMO_FILENAME))
    draft = vg.open_draft(THIRD, "李四")
    assert draft.revision == 1
    vg.save_draft(
        draft,
        rename(draft.grids, code, "李四的名字").grids,
        author="李四",
        reason="另一位规划员",
        expected_revision=1,
    )

    at.text_input(key="plan_new_name").input("河西第一网格")
    at.button(key="plan_do_rename").click().run()
    at.button(key="plan_save").click().run()
    assert not at.exception, at.exception
    conflict = next(e for e in _texts(at, "error") if e.startswith("保存冲突"))
    assert "李四" in conflict and "已另存为草案" in conflict
    kept = vg.drafts(THIRD)
    assert "conflicted" in set(kept.status)
