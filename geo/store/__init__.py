"""The store (GeoPackage by default, PostGIS when configured), readers and county loading."""

from geo.store.base import Store, StoreError, open_store
from geo.store.county import County, default_store, load_county
from geo.store.readers import parse_columns, read_layer, read_outline, write_output

__all__ = [
    "County",
    "Store",
    "StoreError",
    "default_store",
    "load_county",
    "open_store",
    "parse_columns",
    "read_layer",
    "read_outline",
    "write_output",
]
