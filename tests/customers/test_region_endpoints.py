"""The picker's reads (customers/views/regions.py): a division's children with the one a
municipality implies marked, the path to a stored code, the parse with the region said in
full; 404 for an unknown parent or code; an ETag of the loaded list, answered 304."""

from __future__ import annotations

import pytest

from kehu.customers.builder import builder_data
from kehu.customers.regions import index as region_index
from kehu.customers.regions.picker import picker_config
from kehu.customers.templatetags.region_picker import region_picker_attrs

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_index():
    region_index.forget()
    yield
    region_index.forget()


def test_a_municipalitys_one_city_is_marked_and_no_other_child_is(alice, login):
    client = login(alice)
    beijing = client.get("/customers/regions/?parent=110000").json()["regions"]
    assert beijing == [{"code": "110100", "name": "北京市", "level": 2, "implied": True}]
    guangdong = client.get("/customers/regions/?parent=440000").json()["regions"]
    assert len(guangdong) == 21 and not any("implied" in r for r in guangdong)
    shenzhen = client.get("/customers/regions/?parent=440300").json()["regions"]
    assert not any("implied" in r for r in shenzhen)


def test_the_parse_says_the_region_in_full_once(alice, login):
    client = login(alice)
    found = client.get("/customers/regions/parse/", {"q": "上海浦东新区张江路 88 号"}).json()
    assert found["full_name"] == "上海市浦东新区" and found["rest"] == "张江路88号"
    assert client.get("/customers/regions/parse/", {"q": "广东深圳南山区"}).json()["full_name"] == \
        "广东省深圳市南山区"
    nothing = client.get("/customers/regions/parse/", {"q": "科技园"}).json()
    assert nothing["full_name"] == "" and nothing["province"] is None


def test_the_builder_and_the_template_tag_give_the_picker_one_config():
    config = picker_config()
    assert builder_data(initial=None, owners=[], tags=[])["regions"] == config
    attrs = region_picker_attrs()
    assert f'data-children-url="{config["url"]}"' in attrs
    assert f'data-parse-url="{config["parse_url"]}"' in attrs


def test_a_read_carries_an_etag_of_the_loaded_list_and_is_answered_304(alice, login):
    client = login(alice)
    first = client.get("/customers/regions/?parent=440000")
    etag = first["ETag"]
    assert first.status_code == 200 and first["Cache-Control"] == "private, max-age=3600"
    assert client.get("/customers/regions/?parent=440000")["ETag"] == etag
    assert client.get("/customers/regions/?parent=440300")["ETag"] != etag
    again = client.get("/customers/regions/?parent=440000", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    parsed = client.get("/customers/regions/parse/", {"q": "广东深圳"})
    assert client.get("/customers/regions/parse/", {"q": "广东深圳"},
                      headers={"If-None-Match": parsed["ETag"]}).status_code == 304


def test_an_unknown_parent_or_code_is_404(alice, login):
    client = login(alice)
    missing = client.get("/customers/regions/?parent=999999")
    assert missing.status_code == 404 and missing.json()["regions"] == []
    assert client.get("/customers/regions/?parent=440305").json()["regions"] == []  # a district
    gone = client.get("/customers/regions/?code=999999")
    assert gone.status_code == 404 and gone.json()["path"] == []
    # An ETag sent back is no 304 for a missing one.
    assert client.get("/customers/regions/?code=999999",
                      headers={"If-None-Match": gone["ETag"]}).status_code == 404
    path = client.get("/customers/regions/?code=110105").json()["path"]
    assert [p["name"] for p in path] == ["北京市", "北京市", "朝阳区"]

