"""Evidence files (佐证材料): what an upload may be, where it is kept, what a photo says.

One job per module; import from the module that does the job:

- ``inspect``    — accept or refuse an upload by its content: type sniffing, size caps, zip-bomb
                   checks, images that must decode (``inspect_upload``, ``EvidenceRejected``)
- ``exif``       — a photo's capture time, GPS position and camera; ``photo_warnings`` (place and
                   time against the task), ``haversine_km``
- ``store``      — content-addressed storage: save, verify, serve, delete, ``missing_or_altered``
- ``thumbs``     — thumbnails of stored photos
- ``serve``      — ``attachment_response``, a download a browser neither renders nor sniffs
- ``hashing``    — ``SM3Stream``, ``sm3_of_file``
- ``filetypes``  — the accepted kinds, their MIME types and extensions
- ``names``      — display-safe client file names
- ``layout``     — where files live under ``MEDIA_ROOT`` and how they are written atomically
- ``models``     — ``StoredFile``, the abstract fields of every stored-file row

This app depends on ``core`` only. Access control is never done here: callers reach a file's row
through a scoped selector first. See docs/evidence.md.
"""
