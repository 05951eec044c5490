"""Thumbnails of stored photos: a small upright JPEG made once, with no EXIF (the GPS position
does not leak through a thumbnail), and removed with the photo."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageOps

from rectify.evidence.filetypes import PHOTO_EXTS
from rectify.evidence.layout import atomic_write, check_name, file_relpath, thumbs_dir

DEFAULT_SIZE = 320


def thumbnail_path(root: Path, digest: str, ext: str, size: int = DEFAULT_SIZE) -> Path:
    check_name(digest, ext)
    return thumbs_dir(root, digest) / f"{digest}-{int(size)}.jpg"


def make_thumbnail(root: Path, digest: str, ext: str, size: int = DEFAULT_SIZE) -> Path:
    """A JPEG no larger than ``size``×``size``, made once, upright (EXIF orientation applied)
    and without any EXIF."""
    if ext not in PHOTO_EXTS:
        raise ValueError(f"no thumbnail for .{ext}")
    if not 16 <= int(size) <= 2048:
        raise ValueError("thumbnail size must be between 16 and 2048")
    target = thumbnail_path(root, digest, ext, size)
    if target.is_file():
        return target
    with Image.open(root / file_relpath(digest, ext)) as im:
        if im.format == "JPEG":
            im.draft("RGB", (size * 2, size * 2))
        im = ImageOps.exif_transpose(im)
        if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
            im = im.convert("RGBA")
            background = Image.new("RGB", im.size, (255, 255, 255))
            background.paste(im, mask=im.getchannel("A"))
            im = background
        elif im.mode != "RGB":
            im = im.convert("RGB")
        im.thumbnail((size, size))
        with atomic_write(target) as out:
            im.save(out, "JPEG", quality=82, optimize=True)
    return target


def delete_thumbnails(root: Path, digest: str) -> None:
    """Every size of one photo's thumbnail (SECURITY 22)."""
    folder = thumbs_dir(root, digest)
    if folder.is_dir():
        for thumb in folder.glob(f"{digest}-*.jpg"):
            thumb.unlink(missing_ok=True)
