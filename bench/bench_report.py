"""The monthly report (月度报告) of the demo county: how long the page's download buttons take.

1. :func:`geo.loop.report.build_report` for the whole county and one month (KPI tables, daily
   intake, 月过堂 with the repeat-complaint alerts detected on ~300,000 tickets, grid status).
2. :func:`geo.views.report_xlsx.excel_bytes` — the workbook (≈ 9,000 rows over 11 sheets), with
   the peer measured in the same run: pandas ``DataFrame.to_excel`` (openpyxl engine) of the
   same tables, plain (no labels, formats, widths or frozen headers).
3. :func:`geo.views.report_pdf.pdf_bytes` — the PDF (chart and maps drawn by matplotlib, tables by
fpdf2).
   No peer: nothing else draws this document.
Then the same for one town (四明镇, 181 grids).

Medians of 3 runs. Run from the repository root with the demo GeoPackage of
``GRIDGOV_DATA_DIR`` (built on first use): ``python bench/bench_report.py [--month 2026-10]``.
"""

from __future__ import annotations

import argparse
import io

import pandas as pd
from _demo import demo_gpkg, median_time

from geo.loop.report import build_report
from geo.store.base import open_store
from geo.store.county import load_county
from geo.views.report_pdf import pdf_bytes
from geo.views.report_xlsx import _report_tables, excel_bytes


def plain_excel(tables: dict[str, pd.DataFrame]) -> bytes:
    """The peer: every table through ``DataFrame.to_excel`` (openpyxl), nothing else."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in tables.items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--month", default="2026-10")
    args = parser.parse_args()
    county = load_county(open_store(demo_gpkg()))
    print(f"{len(county.issues):,} tickets, {len(county.grids):,} grids, month {args.month}")
    for town in (None, "四明镇"):
        build_s, report = median_time(lambda t=town: build_report(county, month=args.month, town=t))
        xlsx_s, xlsx = median_time(lambda r=report: excel_bytes(r))
        tables = _report_tables(report)
        peer_s, _ = median_time(lambda tb=tables: plain_excel(tb))
        pdf_s, pdf = median_time(lambda r=report: pdf_bytes(r))
        rows = sum(len(t) for t in tables.values())
        print(f"\n{report.scope_name}: {rows:,} table rows")
        print(f"  build_report          {build_s:6.2f} s")
        print(
            f"  excel_bytes           {xlsx_s:6.2f} s  ({len(xlsx) / 1e6:.2f} MB); "
            f"peer to_excel {peer_s:.2f} s → ×{xlsx_s / peer_s:.2f}"
        )
        print(f"  pdf_bytes             {pdf_s:6.2f} s  ({len(pdf) / 1e6:.2f} MB)")
        print(f"  report, both files    {build_s + xlsx_s + pdf_s:6.2f} s")


if __name__ == "__main__":
    main()
