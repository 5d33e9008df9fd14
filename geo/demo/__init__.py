"""The synthetic Sheyang demo county (production code never imports it; the CLI and the
dashboard's first start without a configured store do)."""

from geo.demo.build import add_demo_accounts, build_demo, demo_layers, generate

__all__ = ["add_demo_accounts", "build_demo", "demo_layers", "generate"]
