"""Evidence files (佐证材料): what a county reporter may upload, where it lands, what EXIF says.

Fixtures are generated here (Pillow, python-docx, xlsxwriter); nothing needs the database.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import stat
import time
import zipfile
from fractions import Fraction
from pathlib import Path

import docx
import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from PIL import ExifTags, Image, features
from PIL.TiffImagePlugin import IFDRational

from rectify.core.sm3 import sm3_hex, sm3_pure
from rectify.evidence import inspect as inspection
from rectify.evidence.exif import PhotoMeta, haversine_km, photo_warnings
from rectify.evidence.hashing import SM3Stream
from rectify.evidence.inspect import EvidenceRejected, inspect_upload
from rectify.evidence.serve import attachment_response
from rectify.evidence.store import EvidenceAltered, EvidenceStore

# A spot in 零陵区 (invented task location) and the photo's position ~1 km away.
TASK_SPOT = (26.2210, 111.6130)
PHOTO_LAT, PHOTO_LNG = 26.2295, 111.6178
PHOTO_TAKEN = "2025:03:01 10:20:30"
FIXTURES = Path(__file__).parent / "fixtures" / "evidence"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TIME_ZONE = "Asia/Shanghai"
    return settings.MEDIA_ROOT


# --- fixture builders ----------------------------------------------------------------------


def _dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = Fraction(round(((value - degrees) * 60 - minutes) * 60 * 10000), 10000)
    return IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(seconds.numerator, seconds.denominator)


def jpeg_bytes(size=(640, 480), *, exif: Image.Exif | None = None, colour=(40, 140, 60)) -> bytes:
    buf = io.BytesIO()
    image = Image.new("RGB", size, colour)
    image.save(buf, "JPEG", quality=90, **({"exif": exif} if exif is not None else {}))
    return buf.getvalue()


def gps_exif(lat: float, lng: float, *, taken: str = PHOTO_TAKEN, offset: str | None = None,
             orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "HUAWEI"
    exif[ExifTags.Base.Model] = "HUAWEI P60"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.DateTimeOriginal] = taken
    if offset:
        sub[ExifTags.Base.OffsetTimeOriginal] = offset
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N" if lat >= 0 else "S"
    gps[ExifTags.GPS.GPSLatitude] = _dms(lat)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E" if lng >= 0 else "W"
    gps[ExifTags.GPS.GPSLongitude] = _dms(lng)
    return exif


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (200, 100), (200, 30, 30, 128)).save(buf, "PNG")
    return buf.getvalue()


MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def docx_bytes() -> bytes:
    document = docx.Document()
    document.add_paragraph("东湖黑臭水体整改完成情况说明")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def xlsx_bytes() -> bytes:
    buf = io.BytesIO()
    workbook = xlsxwriter.Workbook(buf, {"in_memory": True})
    sheet = workbook.add_worksheet("进展")
    sheet.write_row(0, 0, ["任务编号", "进展"])
    sheet.write_row(1, 0, ["YZ-001", "已完成"])
    workbook.close()
    return buf.getvalue()


def zip_bomb_docx(path, *, zeros: int = 300 * 1024 * 1024) -> None:
    """A .docx-looking zip whose one part inflates to 300 MB of zeros (~300 KB on disk)."""
    chunk = b"\0" * (1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with zf.open("word/document.xml", "w", force_zip64=True) as part:
            for _ in range(zeros // len(chunk)):
                part.write(chunk)


# --- type checks ---------------------------------------------------------------------------


def test_check_19_php_script_renamed_jpg_is_rejected():
    with pytest.raises(EvidenceRejected) as exc:
        inspect_upload("现场照片.jpg", b'<?php system($_GET["c"]); ?>')
    assert "不支持的文件类型" in exc.value.message
    assert "现场照片.jpg" in exc.value.message


def test_zero_byte_file_is_rejected():
    with pytest.raises(EvidenceRejected) as exc:
        inspect_upload("空.pdf", b"")
    assert "文件为空" in exc.value.message and "空.pdf" in exc.value.message


def test_oversized_file_is_rejected_with_the_limit_in_mb():
    data = jpeg_bytes() + b"\0" * (1024 * 1024)
    with pytest.raises(EvidenceRejected) as exc:
        inspect_upload("大图.jpg", data, max_bytes=1024 * 1024)
    assert "1 MB" in exc.value.message and "上限" in exc.value.message


def test_oversized_stream_stops_reading_at_the_limit():
    class Stream(io.RawIOBase):  # a non-seekable upload that would go on for 1 GB
        read_total = 0

        def readable(self):
            return True

        def readinto(self, b):
            Stream.read_total += len(b)
            b[:] = b"\xff" * len(b)
            return len(b)

    with pytest.raises(EvidenceRejected):
        inspect_upload("x.jpg", io.BufferedReader(Stream()), max_bytes=2 * 1024 * 1024)
    assert Stream.read_total < 4 * 1024 * 1024


def test_size_cap_comes_from_settings(settings):
    settings.EVIDENCE_MAX_BYTES = 1000
    with pytest.raises(EvidenceRejected, match="KB"):
        inspect_upload("a.pdf", MINIMAL_PDF + b" " * 1000)


def test_pdf_is_accepted():
    got = inspect_upload("验收报告.pdf", MINIMAL_PDF)
    assert (got.kind, got.mime, got.extension, got.size) == ("pdf", "application/pdf", "pdf", len(MINIMAL_PDF))
    assert got.digest == sm3_hex(MINIMAL_PDF)
    assert got.exif is None


def test_truncated_pdf_is_rejected():
    with pytest.raises(EvidenceRejected, match="PDF"):
        inspect_upload("半截.pdf", MINIMAL_PDF[:40])


def test_docx_and_xlsx_are_accepted():
    assert inspect_upload("说明.docx", docx_bytes()).kind == "docx"
    got = inspect_upload("台账.XLSX", xlsx_bytes())
    assert (got.kind, got.extension) == ("xlsx", "xlsx")


def test_docx_renamed_xlsx_is_rejected():
    with pytest.raises(EvidenceRejected) as exc:
        inspect_upload("台账.xlsx", docx_bytes())
    assert "Word" in exc.value.message and "不符" in exc.value.message


def test_plain_zip_and_macro_workbook_are_rejected():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(EvidenceRejected, match="不支持的文件类型"):
        inspect_upload("a.docx", buf.getvalue())

    buf = io.BytesIO(xlsx_bytes())
    with zipfile.ZipFile(buf, "a") as zf:
        zf.writestr("xl/vbaProject.bin", b"\0" * 100)
    with pytest.raises(EvidenceRejected, match="宏"):
        inspect_upload("a.xlsx", buf.getvalue())


def test_check_19_zip_bomb_docx_is_rejected_quickly(tmp_path):
    bomb = tmp_path / "bomb.docx"
    zip_bomb_docx(bomb)
    assert bomb.stat().st_size < 2 * 1024 * 1024
    started = time.monotonic()
    with pytest.raises(EvidenceRejected, match="压缩炸弹"):
        inspect_upload("整改报告.docx", bomb)
    assert time.monotonic() - started < 1.0


def test_zip_total_uncompressed_size_is_bounded(monkeypatch):
    monkeypatch.setattr(inspection, "ZIP_MAX_UNCOMPRESSED", 10_000)
    with pytest.raises(EvidenceRejected, match="解压后"):
        inspect_upload("说明.docx", docx_bytes())


def test_too_many_zip_entries_is_rejected():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w/>")
        for i in range(inspection.ZIP_MAX_ENTRIES):
            zf.writestr(f"word/media/{i}.xml", "")
    with pytest.raises(EvidenceRejected, match="部件"):
        inspect_upload("a.docx", buf.getvalue())


def test_extension_must_agree_with_content():
    with pytest.raises(EvidenceRejected, match="不符"):
        inspect_upload("photo.png", jpeg_bytes())
    with pytest.raises(EvidenceRejected, match="无扩展名"):
        inspect_upload("photo", jpeg_bytes())
    assert inspect_upload("photo.JPEG", jpeg_bytes()).extension == "jpg"


def test_image_that_does_not_decode_is_rejected():
    data = jpeg_bytes()
    with pytest.raises(EvidenceRejected, match="无法解码"):
        inspect_upload("坏图.jpg", data[: len(data) // 2])
    with pytest.raises(EvidenceRejected, match="无法解码"):
        inspect_upload("坏图.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)


def test_decompression_bomb_image_is_rejected(settings):
    settings.EVIDENCE_MAX_IMAGE_PIXELS = 1_000_000
    buf = io.BytesIO()
    Image.new("L", (2000, 2000)).save(buf, "PNG")  # 4 Mpx of black: a few KB
    with pytest.raises(EvidenceRejected, match="尺寸过大"):
        inspect_upload("大图.png", buf.getvalue())


def test_heic_is_refused_with_a_clear_message_unless_pillow_decodes_it():
    # a real 64×48 HEIC made with libheif's heif-enc (x265); Pillow 13 alone cannot decode HEVC
    data = (FIXTURES / "green-64x48.heic").read_bytes()
    try:
        got = inspect_upload("IMG_0001.HEIC", data)
    except EvidenceRejected as exc:
        assert "HEIC" in exc.message and "不支持" in exc.message and "JPEG" in exc.message
    else:  # an installation that registered pillow-heif
        assert (got.kind, got.extension, got.mime) == ("photo", "heic", "image/heic")


def test_garbage_in_a_heic_container_is_refused():
    for brand in (b"heic", b"mif1"):
        with pytest.raises(EvidenceRejected, match="HEIC"):
            inspect_upload("x.heic", b"\0\0\0\x18ftyp" + brand + b"\0\0\0\0mif1heic" + b"\0" * 200)


@pytest.mark.skipif(not features.check("avif"), reason="Pillow built without AVIF")
def test_avif_in_the_same_container_is_accepted_when_pillow_decodes_it():
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 140, 60)).save(buf, "AVIF")
    got = inspect_upload("IMG_0002.avif", buf.getvalue())
    assert (got.kind, got.extension, got.mime, got.width) == ("photo", "avif", "image/avif", 64)


def test_pixel_cap_above_pillows_own_limit_still_refuses_bombs(settings, monkeypatch):
    settings.EVIDENCE_MAX_IMAGE_PIXELS = 10**9
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100_000)  # Pillow raises past twice this
    buf = io.BytesIO()
    Image.new("L", (1000, 1000)).save(buf, "PNG")
    with pytest.raises(EvidenceRejected, match="尺寸过大"):
        inspect_upload("大图.png", buf.getvalue())


def test_png_is_accepted_as_photo():
    got = inspect_upload("截图.png", png_bytes())
    assert (got.kind, got.mime, got.width, got.height) == ("photo", "image/png", 200, 100)
    assert got.exif == PhotoMeta()


def test_file_objects_and_paths_are_inspected_in_place_and_rewound(tmp_path):
    data = jpeg_bytes()
    fh = io.BytesIO(data)
    assert inspect_upload("a.jpg", fh).digest == sm3_hex(data)
    assert fh.tell() == 0
    path = tmp_path / "a.jpg"
    path.write_bytes(data)
    assert inspect_upload("a.jpg", path).digest == sm3_hex(data)


def test_django_uploads_are_inspected_then_saved(media_root):
    data = jpeg_bytes(exif=gps_exif(PHOTO_LAT, PHOTO_LNG))
    small = SimpleUploadedFile("现场.jpg", data, content_type="application/x-php")  # browser's type ignored
    inspected = inspect_upload(small.name, small)
    assert inspected.kind == "photo" and inspected.exif.latitude is not None
    rel = EvidenceStore().save(inspected, small)
    assert (media_root / rel).read_bytes() == data

    big = TemporaryUploadedFile("说明.pdf", "application/pdf", len(MINIMAL_PDF), None)
    big.write(MINIMAL_PDF)
    big.seek(0)
    inspected = inspect_upload(big.name, big)
    assert EvidenceStore().save(inspected, big.temporary_file_path()).endswith(".pdf")
    big.close()

    declared_too_big = SimpleUploadedFile("x.pdf", MINIMAL_PDF)
    declared_too_big.size = 10**9
    with pytest.raises(EvidenceRejected, match="上限"):
        inspect_upload("x.pdf", declared_too_big)


def test_non_seekable_stream_is_spooled_and_inspected():
    data = docx_bytes()

    class Pipe(io.RawIOBase):
        def __init__(self):
            self.src = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, b):
            chunk = self.src.read(len(b))
            b[: len(chunk)] = chunk
            return len(chunk)

    got = inspect_upload("说明.docx", io.BufferedReader(Pipe()))
    assert got.kind == "docx" and got.digest == sm3_hex(data) and got.size == len(data)


def test_original_name_is_sanitised_for_display():
    got = inspect_upload("C:\\Users\\县局\\..\\现场\u202egpj.exe.pdf", MINIMAL_PDF)
    assert got.original_name == "现场gpj.exe.pdf"
    assert "/" not in got.original_name and "\\" not in got.original_name


def test_streaming_sm3_matches_one_shot_and_pure_python():
    data = os.urandom(30_000)
    for pure in (False, True):
        h = SM3Stream(pure=pure)
        for i in range(0, len(data), 1_777):
            h.update(data[i : i + 1_777])
        assert h.hexdigest() == sm3_pure(data) == sm3_hex(data)


# --- EXIF ----------------------------------------------------------------------------------


def test_jpeg_without_exif_gives_empty_meta_and_a_no_time_warning():
    got = inspect_upload("无exif.jpg", jpeg_bytes())
    assert got.kind == "photo" and got.exif == PhotoMeta() and got.exif.is_empty
    warnings = photo_warnings(got.exif, measure_start=dt.date(2025, 1, 1), task_location=None)
    assert len(warnings) == 1 and "无拍摄时间" in warnings[0]
    warnings = photo_warnings(got.exif, measure_start=None, task_location=TASK_SPOT)
    assert any("无拍摄位置" in w for w in warnings)


def test_jpeg_with_gps_is_read_back():
    got = inspect_upload("现场.jpg", jpeg_bytes(exif=gps_exif(PHOTO_LAT, PHOTO_LNG)))
    meta = got.exif
    assert abs(meta.latitude - PHOTO_LAT) < 1e-4
    assert abs(meta.longitude - PHOTO_LNG) < 1e-4
    assert meta.camera == "HUAWEI P60"
    assert meta.taken_at == dt.datetime(2025, 3, 1, 10, 20, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert not meta.offset_known  # no OffsetTimeOriginal: read in settings.TIME_ZONE


def test_southern_western_position_and_explicit_offset():
    exif = gps_exif(-33.8568, -70.6483, offset="-04:00")
    meta = inspect_upload("s.jpg", jpeg_bytes(exif=exif)).exif
    assert abs(meta.latitude + 33.8568) < 1e-4 and abs(meta.longitude + 70.6483) < 1e-4
    assert meta.offset_known and meta.taken_at.utcoffset() == dt.timedelta(hours=-4)


def test_gps_photo_warnings_distance_and_start_date():
    meta = inspect_upload("现场.jpg", jpeg_bytes(exif=gps_exif(PHOTO_LAT, PHOTO_LNG))).exif
    near = photo_warnings(meta, measure_start=dt.date(2025, 2, 1), task_location=TASK_SPOT)
    assert near == []

    far_spot = (26.5800, 111.8600)  # ~46 km away, in 祁阳 direction
    expected_km = haversine_km((PHOTO_LAT, PHOTO_LNG), far_spot)
    far = photo_warnings(meta, measure_start=None, task_location=far_spot)
    assert far == [f"拍摄地点距任务位置约 {expected_km:.1f} 公里"]
    assert 40 < expected_km < 50

    late = photo_warnings(meta, measure_start=dt.date(2025, 4, 1), task_location=None)
    assert late == ["拍摄时间（2025-03-01 10:20）早于措施开始日期（2025-04-01）"]


def test_capture_time_in_the_future_is_flagged():
    meta = PhotoMeta(taken_at=dt.datetime(2031, 1, 1, tzinfo=dt.UTC))
    got = photo_warnings(meta, measure_start=None, task_location=None, now=dt.datetime(2025, 6, 1, tzinfo=dt.UTC))
    assert len(got) == 1 and "晚于当前时间" in got[0]


def test_haversine_known_distance():
    # 永州 (零陵) to 长沙, about 280 km as the crow flies
    assert 250 < haversine_km((26.22, 111.61), (28.23, 112.94)) < 290
    assert haversine_km(TASK_SPOT, TASK_SPOT) == 0


# --- store ---------------------------------------------------------------------------------


def test_store_is_content_addressed_and_dedupes(media_root):
    data = jpeg_bytes(exif=gps_exif(PHOTO_LAT, PHOTO_LNG))
    store = EvidenceStore()
    first = inspect_upload("a.jpg", data)
    second = inspect_upload("同一张照片.jpeg", data)
    rel1 = store.save(first, data)
    rel2 = store.save(second, io.BytesIO(data))
    d = first.digest
    assert rel1 == rel2 == f"evidence/{d[:2]}/{d[2:4]}/{d}.jpg"
    files = [p for p in (media_root / "evidence").rglob("*") if p.is_file()]
    assert files == [media_root / rel1]
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o640
    assert files[0].read_bytes() == data
    with store.open(d, "jpg") as fh:
        assert fh.read() == data


def test_store_refuses_content_that_changed_after_inspection(media_root):
    store = EvidenceStore()
    inspected = inspect_upload("a.pdf", MINIMAL_PDF)
    with pytest.raises(EvidenceRejected, match="变化"):
        store.save(inspected, MINIMAL_PDF.replace(b"Count 0", b"Count 1"))
    assert not any(p.is_file() for p in (media_root / "evidence").rglob("*"))


def test_store_rejects_names_it_would_not_generate():
    store = EvidenceStore()
    with pytest.raises(ValueError):
        store.path("../../etc/passwd", "jpg")
    with pytest.raises(ValueError):
        store.path("a" * 64, "php")


def test_check_18_verify_detects_an_altered_file_and_the_check_lists_it(media_root):
    store = EvidenceStore()
    pdf = inspect_upload("a.pdf", MINIMAL_PDF)
    photo = inspect_upload("b.png", png_bytes())
    store.save(pdf, MINIMAL_PDF)
    store.save(photo, png_bytes())
    assert store.verify(pdf.digest, "pdf") and store.verify(photo.digest, "png")
    assert store.missing_or_altered([(pdf.digest, "pdf"), (photo.digest, "png")]) == []

    path = store.path(pdf.digest, "pdf")
    path.write_bytes(MINIMAL_PDF.replace(b"Count 0", b"Count 9"))
    assert not store.verify(pdf.digest, "pdf")
    with pytest.raises(EvidenceAltered):
        store.response(pdf.digest, "pdf", download_name="a.pdf")

    gone = "f" * 64
    (media_root / "evidence" / "stray.txt").write_text("x")
    problems = store.missing_or_altered([(pdf.digest, "pdf"), (gone, "docx")])
    kinds = sorted((p.problem, p.digest) for p in problems)
    assert kinds == sorted([("altered", pdf.digest), ("missing", gone), ("orphan", photo.digest), ("stray", None)])

    # saving the genuine content again repairs the altered copy
    store.save(pdf, MINIMAL_PDF)
    assert store.verify(pdf.digest, "pdf")


def test_thumbnail_is_smaller_upright_and_without_exif(media_root):
    data = jpeg_bytes((1200, 800), exif=gps_exif(PHOTO_LAT, PHOTO_LNG, orientation=6))
    store = EvidenceStore()
    inspected = inspect_upload("a.jpg", data)
    store.save(inspected, data)
    thumb = store.thumbnail(inspected.digest, "jpg", size=320)
    assert thumb.is_relative_to(media_root / "thumbs")
    with Image.open(thumb) as im:
        assert im.format == "JPEG"
        assert im.size == (213, 320)  # orientation 6 turns 1200×800 landscape into portrait
        assert ExifTags.IFD.GPSInfo not in im.getexif()
    mtime = thumb.stat().st_mtime_ns
    assert store.thumbnail(inspected.digest, "jpg", size=320) == thumb
    assert thumb.stat().st_mtime_ns == mtime  # made once

    png = png_bytes()
    png_thumb = store.thumbnail(store_and_digest(store, "t.png", png), "png", size=64)
    with Image.open(png_thumb) as im:
        assert im.size == (64, 32) and im.mode == "RGB"

    assert store.delete(inspected.digest, "jpg")
    assert not thumb.exists() and not store.exists(inspected.digest, "jpg")


def store_and_digest(store: EvidenceStore, name: str, data: bytes) -> str:
    inspected = inspect_upload(name, data)
    store.save(inspected, data)
    return inspected.digest


def test_attachment_response_headers(media_root):
    store = EvidenceStore()
    digest = store_and_digest(store, "a.pdf", MINIMAL_PDF)
    response = store.response(digest, "pdf", download_name="零陵区/验收报告.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''" in response["Content-Disposition"]
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == MINIMAL_PDF
    response.file_to_stream.close()  # response.close() would fire request_finished (a DB hook)

    plain = attachment_response(store.path(digest, "pdf"), download_name="report.pdf", mime="application/pdf")
    assert plain["Content-Disposition"] == 'attachment; filename="report.pdf"'
    plain.file_to_stream.close()


def test_report_total_cap():
    inspection.check_report_total(10, max_bytes=100)
    with pytest.raises(EvidenceRejected, match="合计"):
        inspection.check_report_total(101, max_bytes=100)


def test_every_model_that_keeps_files_is_listed_for_the_file_check():
    from rectify.dispatch.models import Evidence
    from rectify.evidence.models import StoredFile, concrete_file_models

    models = concrete_file_models()
    assert Evidence in models and all(issubclass(m, StoredFile) and not m._meta.abstract for m in models)
    # the fields a file check reads, on every model it walks
    for model in models:
        assert {"digest", "extension", "size", "uploaded_by"} <= {f.name for f in model._meta.fields}
