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

Medians of 3 runs. Both workbooks must hold the same tables (read back: after GridGov's
summary sheet, one sheet per table with the peer's shape; exit 1 otherwise). Run from the
repository root with the demo GeoPackage of ``GRIDGOV_DATA_DIR`` (built on first use):
``python bench/bench_report.py [--month 2026-10] [--quick]`` (``--quick``: the small county,
one run each).
"""

from __future__ import annotations

import io

import pandas as pd
from _demo import arguments, check, county_gpkg, median_time

from geo.core.scope import Scope
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


def same_tables(ours: bytes, peer: bytes) -> list[str]:
    """Sheets whose shape differs between the two workbooks (GridGov's summary sheet aside)."""
    mine = list(pd.read_excel(io.BytesIO(ours), sheet_name=None).values())[1:]
    theirs = pd.read_excel(io.BytesIO(peer), sheet_name=None)
    if len(mine) != len(theirs):
        return [f"{len(mine)} table sheets against {len(theirs)}"]
    return [
        f"{name}: {a.shape} against {b.shape}"
        for a, (name, b) in zip(mine, theirs.items(), strict=True)
        if a.shape != b.shape
    ]


def main() -> None:
    args = arguments(__doc__, add=lambda p: p.add_argument("--month", default="2026-10"))
    repeat = 1 if args.quick else 3
    county = load_county(open_store(county_gpkg(args.quick)), scope=Scope.county())
    print(f"{len(county.issues):,} tickets, {len(county.grids):,} grids, month {args.month}")
    for town in (None, "四明镇"):
        build_s, report = median_time(
            lambda t=town: build_report(county, month=args.month, town=t), repeat
        )
        xlsx_s, xlsx = median_time(lambda r=report: excel_bytes(r), repeat)
        tables = _report_tables(report)
        peer_s, plain = median_time(lambda tb=tables: plain_excel(tb), repeat)
        pdf_s, pdf = median_time(lambda r=report: pdf_bytes(r), repeat)
        differ = same_tables(xlsx, plain)
        rows = sum(len(t) for t in tables.values())
        print(f"\n{report.scope_name}: {rows:,} table rows")
        print(f"  build_report          {build_s:6.2f} s")
        print(
            f"  excel_bytes           {xlsx_s:6.2f} s  ({len(xlsx) / 1e6:.2f} MB); "
            f"peer to_excel {peer_s:.2f} s → ×{xlsx_s / peer_s:.2f}"
        )
        print(f"  pdf_bytes             {pdf_s:6.2f} s  ({len(pdf) / 1e6:.2f} MB)")
        print(f"  report, both files    {build_s + xlsx_s + pdf_s:6.2f} s")
        print(f"  same tables in both workbooks: {not differ}")
        check(not differ, f"{report.scope_name}: the workbooks differ: {'; '.join(differ)}")


if __name__ == "__main__":
    main()
