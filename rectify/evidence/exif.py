"""What a photo's EXIF says — capture time, GPS position, camera — and the warnings drawn from it
(taken before the measure started, far from the task's location, no capture time).

These are signals for the reviewer (初审), never grounds to refuse an upload: EXIF is easily
stripped (messaging apps, screenshots) and easily forged.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zoneinfo
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class PhotoMeta:
    """What a photo's EXIF says. A photo without EXIF gets a ``PhotoMeta`` with every field None
    (never ``None`` itself), so that ``photo_warnings`` can say what is missing."""

    taken_at: dt.datetime | None = None  # aware; EXIF offset if present, else settings.TIME_ZONE
    offset_known: bool = False  # True when OffsetTime* gave the zone, False when assumed
    latitude: float | None = None  # decimal degrees, WGS-84 as phones write it; south negative
    longitude: float | None = None  # west negative
    camera: str | None = None  # "Make Model"

    @property
    def is_empty(self) -> bool:
        return self.taken_at is None and self.latitude is None and self.camera is None


# --- EXIF ----------------------------------------------------------------------------------

_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_TAG_MAKE, _TAG_MODEL, _TAG_DATETIME = 0x010F, 0x0110, 0x0132
_TAG_ORIGINAL, _TAG_DIGITIZED = 0x9003, 0x9004
_TAG_OFFSET, _TAG_OFFSET_ORIGINAL, _TAG_OFFSET_DIGITIZED = 0x9010, 0x9011, 0x9012


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value or "").replace("\x00", "").strip()


def _parse_exif_datetime(value, offset) -> tuple[dt.datetime | None, bool]:
    text = _text(value)
    m = re.match(r"^(\d{4})[:\-/](\d{2})[:\-/](\d{2})[ T](\d{2}):(\d{2}):(\d{2})", text)
    if not m:
        return None, False  # missing, blank or "0000:00:00 00:00:00"-style placeholders
    try:
        naive = dt.datetime(*(int(g) for g in m.groups()))
    except ValueError:
        return None, False
    om = re.match(r"^([+-])(\d{2}):(\d{2})$", _text(offset))
    if om:
        delta = dt.timedelta(hours=int(om.group(2)), minutes=int(om.group(3)))
        if delta < dt.timedelta(hours=15):
            tz = dt.timezone(-delta if om.group(1) == "-" else delta)
            return naive.replace(tzinfo=tz), True
    return naive.replace(tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE)), False


def _dms_to_degrees(value, ref) -> float | None:
    try:
        parts = [float(p) for p in (value if isinstance(value, tuple | list) else (value,))]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not parts or len(parts) > 3 or any(math.isnan(p) or math.isinf(p) or p < 0 for p in parts):
        return None
    degrees = sum(p / 60**i for i, p in enumerate(parts))
    return -degrees if _text(ref).upper()[:1] in ("S", "W") else degrees


def read_photo_meta(im) -> PhotoMeta:
    """EXIF capture time, GPS position and camera; anything unreadable is simply absent."""
    try:
        exif = im.getexif()
        sub = exif.get_ifd(_EXIF_IFD)
        gps = exif.get_ifd(_GPS_IFD)
    except Exception:  # malformed EXIF must not reject an otherwise good photo
        return PhotoMeta()
    taken_at, offset_known = None, False
    for tag, offset_tag in (
        (_TAG_ORIGINAL, _TAG_OFFSET_ORIGINAL),
        (_TAG_DIGITIZED, _TAG_OFFSET_DIGITIZED),
        (_TAG_DATETIME, _TAG_OFFSET),
    ):
        value = sub.get(tag) if tag != _TAG_DATETIME else exif.get(tag)
        taken_at, offset_known = _parse_exif_datetime(value, sub.get(offset_tag))
        if taken_at is not None:
            break
    lat = _dms_to_degrees(gps.get(2), gps.get(1)) if gps.get(2) is not None else None
    lng = _dms_to_degrees(gps.get(4), gps.get(3)) if gps.get(4) is not None else None
    if lat is None or lng is None or not (-90 <= lat <= 90 and -180 <= lng <= 180) or (lat == lng == 0):
        lat = lng = None  # 0,0 is what cameras without a fix write
    make, model = _text(exif.get(_TAG_MAKE)), _text(exif.get(_TAG_MODEL))
    camera = model if make and model.lower().startswith(make.lower()) else f"{make} {model}".strip()
    return PhotoMeta(taken_at=taken_at, offset_known=offset_known, latitude=lat, longitude=lng,
                     camera=camera or None)


# --- warnings ------------------------------------------------------------------------------


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points in kilometres."""
    lat1, lng1, lat2, lng2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


def photo_warnings(
    meta: PhotoMeta | None,
    *,
    measure_start: dt.date | None,
    task_location: tuple[float, float] | None,
    max_distance_km: float = 5.0,
    now: dt.datetime | None = None,
) -> list[str]:
    """Chinese warnings to show next to a photo: capture time and place against the measure.

    These are signals for the reviewer (初审), never grounds to refuse an upload: EXIF is easily
    stripped (messaging apps, screenshots) and easily forged.
    """
    meta = meta or PhotoMeta()
    out: list[str] = []
    local_tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    if meta.taken_at is None:
        out.append("照片无拍摄时间信息（可能经过编辑、转发或截图），无法核对拍摄时间")
    else:
        taken_at = meta.taken_at if meta.taken_at.tzinfo else meta.taken_at.replace(tzinfo=local_tz)
        local = taken_at.astimezone(local_tz)
        shown = local.strftime("%Y-%m-%d %H:%M")
        if measure_start is not None and local.date() < measure_start:
            out.append(f"拍摄时间（{shown}）早于措施开始日期（{measure_start.isoformat()}）")
        now = now or dt.datetime.now(dt.UTC)
        if taken_at > now + dt.timedelta(days=1):
            out.append(f"拍摄时间（{shown}）晚于当前时间，相机时钟可能有误")
    if task_location is not None:
        if meta.latitude is None or meta.longitude is None:
            out.append("照片无拍摄位置信息，无法核对拍摄地点")
        else:
            km = haversine_km((meta.latitude, meta.longitude), task_location)
            if km > max_distance_km:
                out.append(f"拍摄地点距任务位置约 {km:.1f} 公里")
    return out
