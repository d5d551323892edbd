"""What an uploaded file may be: an allow-list of types, each recognised by its content, not by its name."""

import re
import unicodedata
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile


@dataclass(frozen=True)
class FileKind:
    content_type: str
    signatures: tuple[bytes, ...] = ()  # empty: a text file, checked to be UTF-8 without control bytes


ALLOWED_KINDS: dict[str, FileKind] = {
    "txt": FileKind("text/plain"),
    "log": FileKind("text/plain"),
    "md": FileKind("text/plain"),
    "csv": FileKind("text/csv"),
    "json": FileKind("application/json"),
    "yaml": FileKind("text/plain"),
    "yml": FileKind("text/plain"),
    "pdf": FileKind("application/pdf", (b"%PDF-",)),
    "png": FileKind("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": FileKind("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": FileKind("image/jpeg", (b"\xff\xd8\xff",)),
    "gif": FileKind("image/gif", (b"GIF87a", b"GIF89a")),
    "zip": FileKind("application/zip", (b"PK\x03\x04",)),
    "gz": FileKind("application/gzip", (b"\x1f\x8b",)),
}
_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._ ()+-]")
_MAX_NAME = 120
_TEXT_SAMPLE = 64 * 1024


class RefusedUploadError(ValueError):
    pass


def sanitized_filename(name: str) -> str:
    """A name safe to show and to send in Content-Disposition: no path, no markup, no control characters."""
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME_CHARACTERS.sub("_", name).strip(" .")
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    stem = stem[: _MAX_NAME - len(extension) - 1] or "attachment"
    return f"{stem}.{extension.lower()}" if extension else stem


def classify_upload(upload: UploadedFile, *, max_bytes: int) -> tuple[str, FileKind]:
    """Return the sanitized name and kind of an acceptable upload, or raise RefusedUploadError saying why."""
    if upload.size is None or upload.size > max_bytes:
        raise RefusedUploadError(f"The file is larger than the {max_bytes // (1024 * 1024)} MiB limit.")
    if upload.size == 0:
        raise RefusedUploadError("The file is empty.")
    filename = sanitized_filename(upload.name or "")
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    kind = ALLOWED_KINDS.get(extension)
    if kind is None:
        allowed = ", ".join(sorted(ALLOWED_KINDS))
        raise RefusedUploadError(f"Files of this type are not accepted. Allowed: {allowed}.")
    upload.seek(0)
    head = upload.read(_TEXT_SAMPLE)
    upload.seek(0)
    if kind.signatures:
        if not any(head.startswith(signature) for signature in kind.signatures):
            raise RefusedUploadError(f"The file's content is not a .{extension} file.")
    elif not _is_plain_text(head):
        raise RefusedUploadError(f"A .{extension} file must be plain UTF-8 text.")
    return filename, kind


def _is_plain_text(sample: bytes) -> bool:
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as cut:
        # The sample may end inside a multi-byte character; only an error before the last 3 bytes counts.
        if cut.start < len(sample) - 3:
            return False
        text = sample[: cut.start].decode("utf-8")
    if "<script" in text.lower() or "<html" in text.lower() or "<svg" in text.lower():
        return False
    return not any(unicodedata.category(character) == "Cc" and character not in "\t\n\r\f" for character in text)
