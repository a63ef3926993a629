"""Regions (行政区划): the bundled GB/T 2260 list, its table, the matcher and the picker's reads.

`match_region` and `parse_address` live in `matching`; the list is read from the Region
table (`index.current`), which migration 0013 fills from `data/regions-*.json` and
`kehu regions update FILE` replaces.
"""
