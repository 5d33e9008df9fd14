"""The synthetic Sheyang demo county (production code never imports it; the CLI and the
dashboard's first start without a configured store do)."""

from geo.demo.build import build_demo, demo_layers, generate

__all__ = ["build_demo", "demo_layers", "generate"]
