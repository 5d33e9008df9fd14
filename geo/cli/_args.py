"""Help texts shared by the subcommands."""

COLUMNS_HELP = (
    "列名映射 / column mapping, our_name=their_name pairs applying to every input, "
    "e.g. grid_code=WGBM,lon=经度,lat=纬度"
)
