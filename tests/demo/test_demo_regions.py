"""Demo customers' places (demo/regions.py) are real divisions: every place the demo may
draw matches the list with the code it carries."""

from __future__ import annotations

from kehu.customers.regions import snapshot
from kehu.customers.regions.index import RegionIndex
from kehu.customers.regions.matching import match_region
from kehu.demo.regions import CITY_WEIGHTS, weighted_places


def test_every_demo_place_matches_the_list_with_its_code():
    bundled = snapshot.read()
    index = RegionIndex(bundled.rows, as_of=bundled.as_of)
    places, weights = weighted_places(index)
    assert len(places) == len(weights) > 1000
    for place in places:
        found = match_region(place.province, place.city, place.district, index=index)
        assert (found.province, found.city, found.district, found.code) == \
            (place.province, place.city, place.district, place.code), place
    assert {p.province for p in places} == {province for province, _c, _w in CITY_WEIGHTS}
    assert weighted_places(index)[0] is places  # built once per list
    assert weighted_places(RegionIndex(bundled.rows))[0] is not places  # a new list: again
