"""geo.core.settings: which size rule a grid follows."""

from __future__ import annotations

from geo.core.settings import AREA_TYPE_OF_KIND, RURAL, URBAN, GridSizeRule, Settings


def test_size_rule_by_area_type():
    cfg = Settings(rural_rule=GridSizeRule(40, 250, 2500), urban_rule=GridSizeRule(40, 400, 2500))
    assert cfg.size_rule(URBAN) is cfg.urban_rule
    assert cfg.size_rule(" 城镇 ") is cfg.urban_rule
    for other in (RURAL, "", None, float("nan"), "社区"):  # 社区 is a village kind, not a type
        assert cfg.size_rule(other) is cfg.rural_rule


def test_area_type_of_a_village_kind():
    assert AREA_TYPE_OF_KIND == {"社区": "城镇", "村": "农村"}
