"""The division list and the matcher: a rep types or pastes a region the way people write
it, and Kehu reads it as the official division — or says it cannot tell.

These tests read the bundled snapshot directly (no database), the same rows the migration
loads into the Region table.
"""

from __future__ import annotations

import functools
import itertools
import time

import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehu.customers import names
from kehu.customers.duplicates import pair_score
from kehu.customers.regions import snapshot
from kehu.customers.regions.index import CITY, DISTRICT, PROVINCE, RegionIndex
from kehu.customers.regions.matching import STREET_STARTS, match_region, parse_address
from kehu.customers.regions.names import short_name


@functools.cache
def index() -> RegionIndex:
    bundled = snapshot.read()
    return RegionIndex(bundled.rows, as_of=bundled.as_of)


def parsed(text: str) -> tuple[str, str, str]:
    found = parse_address(text, index=index())
    return tuple(d.name if d else "" for d in (found.province, found.city, found.district))


def test_the_bundled_list_is_dated_complete_and_well_formed():
    bundled = snapshot.read()
    assert bundled.as_of == "2023-06-30" and "国家统计局" in bundled.source
    assert bundled.counts() == {1: 31, 2: 369, 3: 2818}
    names = {code: name for code, name, _p, _l in bundled.rows}
    assert names["440305"] == "南山区" and names["110100"] == "北京市"
    assert names["429004"] == "仙桃市"  # a county-level city directly under its province


@pytest.mark.parametrize(("name", "short"), [
    ("广东省", "广东"), ("北京市", "北京"), ("内蒙古自治区", "内蒙古"), ("广西壮族自治区", "广西"),
    ("新疆维吾尔自治区", "新疆"), ("大理白族自治州", "大理"), ("黔东南苗族侗族自治州", "黔东南"),
    ("伊犁哈萨克自治州", "伊犁"), ("浦东新区", "浦东"), ("长白朝鲜族自治县", "长白"),
    ("鄂温克族自治旗", "鄂温克"), ("城区", ""),
])
def test_short_names_are_computed_from_the_official_ones(name, short):
    assert short_name(name) == short


@pytest.mark.parametrize(("text", "expected", "rest"), [
    ("广东省深圳市南山区科技园南区", ("广东省", "深圳市", "南山区"), "科技园南区"),
    ("深圳南山区科技园", ("广东省", "深圳市", "南山区"), "科技园"),
    ("上海浦东新区张江路88号", ("上海市", "上海市", "浦东新区"), "张江路88号"),
    ("北京市北京市东城区东直门", ("北京市", "北京市", "东城区"), "东直门"),
    ("内蒙古呼和浩特赛罕区", ("内蒙古自治区", "呼和浩特市", "赛罕区"), ""),
    ("重庆城口县葛城街道", ("重庆市", "重庆市", "城口县"), "葛城街道"),
    ("湖北省仙桃市干河街道", ("湖北省", "仙桃市", ""), "干河街道"),
    ("吉林船营区", ("吉林省", "吉林市", "船营区"), ""),
    ("海南海口龙华区", ("海南省", "海口市", "龙华区"), ""),
    ("ＡＢＣ广东 深圳", ("", "", ""), "ABC广东深圳"),  # a region must start the address
])
def test_a_pasted_address_gives_its_region_and_the_street(text, expected, rest):
    assert parsed(text) == expected
    assert parse_address(text, index=index()).rest == rest


def test_a_district_in_two_cities_is_ambiguous_without_its_city():
    found = parse_address("朝阳区建国路88号", index=index())
    assert (found.province, found.city, found.district) == (None, None, None)
    assert found.ambiguous == ("北京市朝阳区", "吉林省长春市朝阳区")
    within = parse_address("江苏鼓楼区中山路", index=index())  # Nanjing or Xuzhou
    assert within.province.name == "江苏省" and within.district is None
    assert parsed("北京朝阳区建国路") == ("北京市", "北京市", "朝阳区")
    same_parent = parse_address("甘肃临夏临夏", index=index())  # 临夏市 or 临夏县
    assert same_parent.city.name == "临夏回族自治州" and same_parent.district is None
    assert same_parent.ambiguous == ("甘肃省临夏回族自治州临夏市", "甘肃省临夏回族自治州临夏县")


def test_a_short_name_followed_by_a_street_word_is_the_street():
    assert parsed("中山路1号") == ("", "", "")  # not 广东省中山市
    assert parsed("辽宁朝阳路1号") == ("辽宁省", "", "")
    assert parsed("中山市石岐街道") == ("广东省", "中山市", "")  # the full name is a place


@pytest.mark.parametrize(("typed", "expected", "code"), [
    (("广东", "深圳", ""), ("广东省", "深圳市", ""), "440300"),
    (("北京", "", "朝阳区"), ("北京市", "北京市", "朝阳区"), "110105"),
    (("", "深圳", "南山"), ("广东省", "深圳市", "南山区"), "440305"),
    (("内蒙古", "", ""), ("内蒙古自治区", "", ""), "150000"),
    (("北京市", "市辖区", "东城区"), ("北京市", "北京市", "东城区"), "110101"),
    (("广东省", "东莞市", "南城街道"), ("广东省", "东莞市", "南城街道"), "441900"),  # no county level
    (("", "", ""), ("", "", ""), None),
])
def test_region_fields_match_in_full_or_short(typed, expected, code):
    found = match_region(*typed, index=index())
    assert (found.province, found.city, found.district) == expected
    assert found.code == code and found.ok


@pytest.mark.parametrize(("typed", "field", "reason"), [
    (("广东省", "深训市", "南山区"), "city", "“深训市”不在行政区划中（2023-06-30）"),
    (("浙江", "深圳", ""), "city", "“深圳”不在浙江省"),
    (("", "", "朝阳区"), "district", "“朝阳区”有多处：北京市朝阳区、吉林省长春市朝阳区，请写明上级地区"),
    (("火星", "", ""), "province", "“火星”不在行政区划中（2023-06-30）"),
])
def test_a_region_that_matches_nothing_is_kept_as_typed_with_a_reason(typed, field, reason):
    found = match_region(*typed, index=index())
    assert found.code is None and found.problems == {field: reason}
    assert found.city == typed[1]  # the bad part as typed


def test_a_problem_is_worded_in_the_language_of_whoever_reads_it():
    """The matcher keeps one answer per place whatever the language, and words problems
    in the reader's: a Chinese reader first, then an English one, then Chinese again."""
    typed = ("浙江", "深圳", "")
    with translation.override("zh-hans"):
        assert match_region(*typed, index=index()).problems == {"city": "“深圳”不在浙江省"}
    with translation.override("en"):
        worded = match_region(*typed, index=index()).problems["city"]
    assert "浙江省" in worded and "不在" not in worded
    with translation.override("zh-hans"):
        assert match_region(*typed, index=index()).problems == {"city": "“深圳”不在浙江省"}
        assert match_region("浙江", "杭州", "", index=index()).problems == {}


def _triples() -> list[tuple]:
    ix = index()
    out = []
    for district in (d for d in ix.by_code.values() if d.level == DISTRICT):
        city = ix.by_code[district.parent]
        out.append((ix.by_code[city.parent], city, district))
    for city in (d for d in ix.by_code.values() if d.level == CITY and not ix.children_of(d.code)):
        out.append((ix.by_code[city.parent], city, None))
    return out


def _spelled(division, short: bool) -> str:
    """The division's name, or its short name where that names it alone among its siblings
    (临夏 is 临夏市 and 临夏县 of 临夏州 both: the parser rightly calls it ambiguous)."""
    siblings = index().children_of(division.parent)
    alone = sum(1 for d in siblings if division.short in (d.short, d.name)) == 1
    return division.short if short and division.short and alone else division.name


_region_chars = {c for name in index().names for c in name}
# Street text: anything that does not itself continue a division's name or start a street
# word after a short name (中山路 is a road, not 中山市).
STREET = st.text(alphabet=st.sampled_from(sorted(set("科技园创业大厦甲乙丙栋层室单元0123456789-#")
                                                  - _region_chars - set("".join(STREET_STARTS)))),
                 max_size=12)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(place=st.sampled_from(_triples()), shorts=st.tuples(st.booleans(), st.booleans(),
                                                           st.booleans()),
       city_written=st.booleans(), street=STREET)
def test_any_division_written_with_or_without_suffixes_parses_back_to_itself(
        place, shorts, city_written, street):
    province, city, district = place
    municipality = city.name == province.name
    parts = [_spelled(province, shorts[0])]
    if city_written or not municipality:
        parts.append(_spelled(city, shorts[1]))
    if district is not None:
        parts.append(_spelled(district, shorts[2]))
    found = parse_address("".join(parts) + street, index=index())
    assert (found.province, found.city, found.district) == place, "".join(parts) + street
    assert found.rest == street


def test_every_division_in_every_spelling_parses_back_to_itself():
    """The property above, exhaustively over the list (every division, full and short names
    in all combinations, the municipality's city written or not) with one street."""
    wrong = []
    for province, city, district in _triples():
        municipality = city.name == province.name
        for p, c, d in itertools.product((False, True), repeat=3):
            for city_written in (True, False) if municipality else (True,):
                parts = [_spelled(province, p)] + ([_spelled(city, c)] if city_written else [])
                parts += [_spelled(district, d)] if district else []
                found = parse_address("".join(parts) + "科技园1号", index=index())
                if (found.province, found.city, found.district) != (province, city, district):
                    wrong.append("".join(parts))
    assert wrong == []


def test_every_division_of_the_list_matches_itself_as_fields():
    ix = index()
    for province, city, district in _triples():
        found = match_region(province.name, city.name, district.name if district else "", index=ix)
        assert found.code == (district or city).code, (province.name, city.name, district)
    assert len([d for d in ix.by_code.values() if d.level == PROVINCE]) == 31


def test_parsing_is_fast_enough_for_an_import():
    ix = index()
    texts = ["广东省深圳市南山区科技园南区", "朝阳区建国路88号", "上海浦东新区张江路"] * 300
    started = time.perf_counter()
    for text in texts:
        parse_address(text, index=ix)
    per_parse = (time.perf_counter() - started) / len(texts)
    assert per_parse < 0.002  # measured ~25 µs; a loaded CI machine gets 80× headroom


def test_the_place_lists_of_company_names_come_from_the_division_list():
    """customers/names.py: the provinces are the bundled list's short names and 港澳台; the
    cities an explicit allow-list, every one a short name of the list."""
    provinces = {d.short for d in index().provinces()}
    assert len(provinces) == 31 and set(names.PROVINCES) == provinces | {"香港", "澳门", "台湾"}
    shorts = {d.short for d in index().by_code.values()}
    assert set(names.CITIES) <= shorts, set(names.CITIES) - shorts


@pytest.mark.parametrize(("name", "key"), [
    ("北京字节跳动科技有限公司", "字节跳动科技"), ("字节跳动科技（北京）有限公司", "字节跳动科技"),
    ("内蒙古伊利实业集团股份有限公司", "伊利实业"), ("广西柳工机械股份有限公司", "柳工机械"),
    ("新疆金风科技股份有限公司", "金风科技"), ("香港中华煤气有限公司", "中华煤气"),
    ("台湾积体电路制造股份有限公司", "积体电路制造"), ("深圳市腾讯计算机系统有限公司", "腾讯计算机系统"),
    ("黑龙江北大荒农业股份有限公司", "北大荒农业"), ("吉林化纤股份有限公司", "化纤"),
    ("宁夏宝丰能源集团股份有限公司", "宝丰能源"), ("西藏药业股份有限公司", "药业"),
    ("阿里巴巴集团", "阿里巴巴"), ("大理药业股份有限公司", "大理药业"),
    ("乌鲁木齐城投有限公司", "城投"), ("呼和浩特市春华水务有限公司", "春华水务"),
])
def test_stored_name_keys_are_unchanged(name, key):
    assert names.name_key(name) == key


def test_a_customers_city_is_its_place_by_its_short_name():
    """Two people of one name: 大理白族自治州 and 大理 are one city, not a clash."""
    a = {"kind": "person", "name": "张三", "city": "大理白族自治州"}
    b = {"kind": "person", "name": "张三", "city": "大理"}
    assert pair_score(a, b) == (0.6, ["同名同城"])


def test_a_divisions_path_runs_from_its_province_down():
    nanshan = index().by_code["440305"]
    assert [d.name for d in index().path(nanshan)] == ["广东省", "深圳市", "南山区"]
    assert [d.name for d in index().path(index().by_code["440000"])] == ["广东省"]
    assert index().province_of(nanshan).code == "440000"


def test_the_index_is_read_only_and_no_read_adds_to_it():
    ix = index()
    sizes = len(ix.children), len(ix.names)
    assert ix.children_of("440305") == () and ix.named("火星", PROVINCE) == []
    assert ix.only_city(ix.by_code["440000"]) is None
    assert (len(ix.children), len(ix.names)) == sizes
    with pytest.raises(TypeError):
        ix.children["440305"] = ()  # type: ignore[index]
