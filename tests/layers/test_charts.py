"""layers.charts: the small charts read in the page's terms."""

from __future__ import annotations

import pandas as pd

from layers.charts import share_bars


def test_share_bars_put_the_worst_first_in_percent_with_every_name() -> None:
    shares = pd.Series([0.62, 0.31, 0.9], index=["合德镇", "临海镇", "海河镇"])
    spec = share_bars(shares, label="覆盖率", name_label="镇（区）", target=0.8).to_dict()
    bars, rule = spec["layer"]
    y, x = bars["encoding"]["y"], bars["encoding"]["x"]
    assert y["sort"] == ["临海镇", "合德镇", "海河镇"]  # lowest first, at the top
    assert y["axis"]["labelOverlap"] is False  # every town named, not every other one
    assert x["axis"]["format"] == ".0%" and x["scale"]["domain"] == [0, 1]
    assert rule["mark"]["type"] == "rule" or rule["mark"] == "rule"
    data = spec["datasets"][rule["data"]["name"]]
    assert data == [{"share": 0.8}]
