"""Attachments: which files a message may carry, and how they are kept and given back.

A file is accepted by what it is, never by its name or declared type: a JPEG or
PNG must decode completely, a HEIC file must be ISO BMFF with a HEIF brand whose
boxes fill it exactly, a PDF must start with its header and end with its
trailer. The original name is display text only. Each file lives under a random
storage key in ATTACHMENT_FOLDER (outside static/), encrypted with AES-GCM under
a key derived from ATTACHMENT_KEY, the storage key bound in as associated data.

Files are written inside the transaction of their message; when that transaction
ends without committing (a rollback, a failed flush, a closed session), every
file written in it is removed again. Nothing here commits.
"""

import hashlib
import io
import logging
import os
import re
import secrets
import struct
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, ParamSpec, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Response, current_app, send_file, url_for
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from PIL import Image, ImageOps
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction
from werkzeug.datastructures import FileStorage

from .. import audit
from ..extensions import db
from ..models import Attachment, Message, User
from .errors import MessagingError

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

MAX_FILES = 5
MAX_BYTES = 10 * 1024 * 1024
# A request that carries files: every file at its limit, plus the form's own fields and the multipart framing.
UPLOAD_REQUEST_LIMIT = MAX_FILES * MAX_BYTES + 1024 * 1024
# Shown as pictures (a thumbnail, re-encoded); HEIC is not: browsers can't show it, so it is a file chip.
IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
EXTENSIONS = {
    "image/jpeg": (".jpg", ".jpeg", ".jfif"),
    "image/png": (".png",),
    "image/heic": (".heic", ".heif", ".hif"),
    "application/pdf": (".pdf",),
}
NAME_LIMIT = 120
THUMBNAIL_SIZE = (480, 480)

_CHUNK = 64 * 1024
_FIELD = "files"
_FILE_MAGIC = b"RSPA1"  # the format of a stored file: magic, 12-byte nonce, AES-GCM ciphertext and tag
_EXECUTABLES = (
    b"\x7fELF",  # Linux
    b"MZ",  # Windows
    b"#!",  # scripts
    b"\xca\xfe\xba\xbe",  # Java class, macOS universal binary
    b"\xfe\xed\xfa\xce",  # Mach-O
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\x00asm",  # WebAssembly
)
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"mif2"})
_NOT_HEIC_BRANDS = frozenset({b"avif", b"avis", b"avio"})


@dataclass(frozen=True)
class Upload:
    """A checked file, ready to be stored with a message: what it is, its display name and its bytes."""

    filename: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class AttachmentUnavailable(Exception):
    """A stored file that is missing, can't be decrypted or doesn't match its checksum (logged, never shown)."""


# --- Checking uploads -----------------------------------------------------------------------


def check_uploads(files: list[FileStorage]) -> list[Upload]:
    """The chosen files as Uploads, each checked by its content; MessagingError(message, "files") for the
    first that can't be sent. An input left empty (no file chosen) is skipped."""
    chosen = [file for file in files if file.filename]
    if len(chosen) > MAX_FILES:
        raise MessagingError(f"Attach up to {MAX_FILES} files to one message (you chose {len(chosen)}).", _FIELD)
    return [_check(file) for file in chosen]


def _check(file: FileStorage) -> Upload:
    name = display_name(file.filename)
    data = _read_limited(file.stream)
    if data is None:
        raise MessagingError(f"“{name}” is larger than 10 MB. Send a smaller copy, or split it up.", _FIELD)
    if not data:
        raise MessagingError(f"“{name}” is empty. Choose the file again.", _FIELD)
    content_type = identify(data, name)
    return Upload(filename=with_extension(name, content_type), content_type=content_type, data=data)


def _read_limited(stream: IO[bytes]) -> bytes | None:
    """The stream's bytes, read in chunks; None as soon as it has more than MAX_BYTES."""
    chunks: list[bytes] = []
    total = 0
    while chunk := stream.read(_CHUNK):
        total += len(chunk)
        if total > MAX_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def identify(data: bytes, name: str = "the file") -> str:
    """The content type of an acceptable file (JPEG, PNG, HEIC or PDF), judged by its bytes alone;
    MessagingError saying what is wrong otherwise."""
    try:
        if data.startswith(b"\xff\xd8\xff"):
            _check_jpeg(data)
            return "image/jpeg"
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            _check_png(data)
            return "image/png"
        if data[4:8] == b"ftyp" and _is_heif(data):
            _check_heic(data)
            return "image/heic"
        if data.startswith(b"%PDF-"):
            _check_pdf(data)
            return "application/pdf"
    except _TooManyPixels:
        raise MessagingError(f"“{name}” has too many pixels to send. Send a smaller copy.", _FIELD) from None
    except _Damaged:
        raise MessagingError(
            f"“{name}” is damaged or incomplete, so it can't be sent. Try it again, or send another copy.", _FIELD
        ) from None
    if data.startswith(_EXECUTABLES):
        raise MessagingError(f"“{name}” is a program, not a photo or PDF, so it can't be sent.", _FIELD)
    raise MessagingError(f"“{name}” isn't a photo (JPEG, PNG, HEIC) or a PDF, so it can't be sent.", _FIELD)


class _Damaged(Exception):
    pass


class _TooManyPixels(Exception):
    pass


def _check_jpeg(data: bytes) -> None:
    if data.rfind(b"\xff\xd9") < 3:  # no end-of-image marker after the start
        raise _Damaged
    _decode(data, "JPEG")


def _check_png(data: bytes) -> None:
    if data[8:16] != b"\x00\x00\x00\x0dIHDR" or data.rfind(b"\x00\x00\x00\x00IEND\xaeB`\x82") < 16:
        raise _Damaged
    _decode(data, "PNG")


def _decode(data: bytes, image_format: str) -> None:
    """Decode the whole image: a truncated or corrupt one fails here (Pillow refuses truncated files)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[image_format]) as image:
                image.verify()  # PNG: every chunk's checksum
            with Image.open(io.BytesIO(data), formats=[image_format]) as image:
                # A JPEG decodes at a reduced scale: every byte is still read, in a fraction of the memory.
                image.draft("RGB", THUMBNAIL_SIZE)
                image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _TooManyPixels from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, MemoryError):
            raise _Damaged from None


def _is_heif(data: bytes) -> bool:
    """Whether an ISO BMFF file's `ftyp` box names a HEIF brand (HEIC, or plain HEIF that isn't AVIF)."""
    (size,) = struct.unpack_from(">I", data)
    if size < 16 or size > len(data) or size % 4:
        return False
    major = data[8:12]
    brands = {major} | {data[at : at + 4] for at in range(16, size, 4)}
    return not brands & _NOT_HEIC_BRANDS and bool(brands & _HEIC_BRANDS or major in _HEIF_BRANDS)


def _check_heic(data: bytes) -> None:
    """Boxes that fill the file exactly, the `ftyp` box first and a `meta` box (which describes the image)."""
    boxes = _boxes(data)
    if boxes[0][0] != b"ftyp" or not any(kind == b"meta" for kind, _, _ in boxes[1:]):
        raise _Damaged


def _boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    """The top-level boxes of an ISO BMFF file: (type, payload start, end); _Damaged unless they fill it."""
    boxes = []
    offset = 0
    while offset < len(data):
        if len(data) - offset < 8:
            raise _Damaged
        size, kind = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1:
            if len(data) - offset < 16:
                raise _Damaged
            (size,) = struct.unpack_from(">Q", data, offset + 8)
            header = 16
        elif size == 0:
            size = len(data) - offset
        if size < header or offset + size > len(data) or not all(0x20 <= c < 0x7F for c in kind):
            raise _Damaged
        boxes.append((kind, offset + header, offset + size))
        offset += size
    return boxes


def _check_pdf(data: bytes) -> None:
    if not re.match(rb"%PDF-\d\.\d", data) or b"%%EOF" not in data[-1024:]:
        raise _Damaged


# --- Names -----------------------------------------------------------------------------------


def display_name(raw: str | None) -> str:
    """The original name as display text: its last path part, without control or formatting characters
    (bidirectional overrides included), spaces collapsed, at most NAME_LIMIT characters."""
    name = re.split(r"[/\\]", raw or "")[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(" " if c.isspace() else c for c in name)  # tabs and line breaks too
    name = "".join(c for c in name if not unicodedata.category(c).startswith("C"))
    name = " ".join(name.split()).strip(" .")
    if len(name) > NAME_LIMIT:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: NAME_LIMIT - len(extension) - 1].rstrip() + "." + extension
        else:
            name = name[:NAME_LIMIT].rstrip()
    return name or "file"


def with_extension(name: str, content_type: str) -> str:
    """The name ending in an extension of its real type, so the file opens in the right app once saved."""
    extensions = EXTENSIONS[content_type]
    if name.lower().endswith(extensions):
        return name
    return name[: NAME_LIMIT - len(extensions[0])] + extensions[0]


# --- Storing ---------------------------------------------------------------------------------


def attachment_folder() -> Path:
    return Path(current_app.config["ATTACHMENT_FOLDER"] or Path(current_app.instance_path) / "attachments")


def _development_secret() -> str:
    """Outside production, without ATTACHMENT_KEY: a key made once and kept in the instance folder."""
    if current_app.config["PRODUCTION"]:
        raise RuntimeError("ATTACHMENT_KEY must be set in production (RESPITE_ENV=production).")
    path = Path(current_app.instance_path) / "attachment.key"
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def _cipher() -> AESGCM:
    secret = current_app.config["ATTACHMENT_KEY"] or _development_secret()
    ciphers: dict[str, AESGCM] = current_app.extensions.setdefault("respite.attachment_ciphers", {})
    if secret not in ciphers:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"respite attachments").derive(secret.encode())
        ciphers[secret] = AESGCM(key)
    return ciphers[secret]


def encrypt(storage_key: str, data: bytes) -> bytes:
    nonce = secrets.token_bytes(12)
    return _FILE_MAGIC + nonce + _cipher().encrypt(nonce, data, storage_key.encode())


def decrypt(storage_key: str, stored: bytes) -> bytes:
    if not stored.startswith(_FILE_MAGIC):
        raise AttachmentUnavailable(f"{storage_key}: not a stored attachment")
    nonce = stored[len(_FILE_MAGIC) : len(_FILE_MAGIC) + 12]
    try:
        return _cipher().decrypt(nonce, stored[len(_FILE_MAGIC) + 12 :], storage_key.encode())
    except InvalidTag:
        raise AttachmentUnavailable(f"{storage_key}: can't be decrypted") from None


def write_encrypted(data: bytes) -> str:
    """Write `data` encrypted under a new storage key, removed again if the transaction doesn't commit."""
    folder = attachment_folder()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    storage_key = secrets.token_hex(32)
    path = folder / storage_key
    _remember_written(path)
    with path.open("xb") as file:
        file.write(encrypt(storage_key, data))
        file.flush()
        os.fsync(file.fileno())
    return storage_key


def store(actor: User, message: Message, uploads: Sequence[Upload]) -> list[Attachment]:
    """Write each upload encrypted under a new storage key and add its row, in the current transaction
    (the files go again if it doesn't commit); one audit row with the count, bytes and types."""
    if not uploads:
        return []
    if len(uploads) > MAX_FILES:
        raise MessagingError(f"Attach up to {MAX_FILES} files to one message.", _FIELD)
    attachments = []
    for upload in uploads:
        storage_key = write_encrypted(upload.data)
        attachment = Attachment(
            message=message,
            filename=upload.filename,
            content_type=upload.content_type,
            size_bytes=upload.size,
            sha256=upload.sha256,
            storage_key=storage_key,
        )
        db.session.add(attachment)
        attachments.append(attachment)
    db.session.flush()
    audit.record(
        "attachment.add",
        message,
        actor=actor,
        summary=f"{len(attachments)} file(s) attached to message {message.id}",
        meta={
            "conversation_id": message.conversation_id,
            "count": len(attachments),
            "bytes": sum(upload.size for upload in uploads),
            "types": sorted({upload.content_type for upload in uploads}),
        },
    )
    return attachments


def read(attachment: Attachment) -> bytes:
    """The file's bytes, decrypted and checked against its SHA-256; AttachmentUnavailable (logged) if not."""
    path = attachment_folder() / attachment.storage_key
    try:
        stored = path.read_bytes()
        data = decrypt(attachment.storage_key, stored)
        if hashlib.sha256(data).hexdigest() != attachment.sha256:
            raise AttachmentUnavailable(f"{attachment.storage_key}: SHA-256 mismatch")
    except (OSError, AttachmentUnavailable) as error:
        log.error("attachment %s unavailable: %s", attachment.id, error)
        raise AttachmentUnavailable(str(error)) from None
    return data


def remove_after_commit(storage_keys: Sequence[str]) -> None:
    """Delete these stored files once the current transaction commits (a rollback keeps them)."""
    session = db.session()
    session.connection()
    folder = attachment_folder()
    session.info.setdefault(_DOOMED, []).extend(folder / key for key in storage_keys)


def thumbnail(data: bytes, content_type: str) -> tuple[bytes, str]:
    """A small re-encoded copy of a JPEG or PNG (upright, without EXIF or other metadata) and its type."""
    if content_type not in IMAGE_TYPES:
        raise ValueError(f"no thumbnail for {content_type}")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data), formats=["JPEG" if content_type == "image/jpeg" else "PNG"]) as image:
            image.draft("RGB", THUMBNAIL_SIZE)
            small = ImageOps.exif_transpose(image)
            small.thumbnail(THUMBNAIL_SIZE)
    output = io.BytesIO()
    if small.mode in ("RGBA", "LA", "P") and content_type == "image/png":
        small.save(output, "PNG", optimize=True)
        return output.getvalue(), "image/png"
    small.convert("RGB").save(output, "JPEG", quality=80)
    return output.getvalue(), "image/jpeg"


# --- Links and answers ------------------------------------------------------------------------

LINK_SALT = "respite.attachment-link"
# What a file answer may do in a browser: nothing (no scripts, no plugins, no requests, no same-origin access).
SANDBOX_POLICY = "sandbox; default-src 'none'"


def _links() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=LINK_SALT)


def link_token(attachment: Attachment, viewer: User) -> str:
    """A token naming the attachment and the one viewer it was made for (signed, dated)."""
    return _links().dumps([attachment.id, viewer.id])


def attachment_id_from(token: str, viewer: User) -> int | None:
    """The attachment id a token names, if it was signed here for this viewer within ATTACHMENT_LINK_MINUTES."""
    max_age = round(float(current_app.config["ATTACHMENT_LINK_MINUTES"]) * 60)
    try:
        attachment_id, viewer_id = _links().loads(token, max_age=max_age)
    except (BadSignature, ValueError, TypeError):  # forged, expired, or not a pair
        return None
    if type(attachment_id) is not int or viewer_id != viewer.id:
        return None
    return attachment_id


def attachment_url(attachment: Attachment, inline: bool = False) -> str:
    """Template global: the signed-in viewer's short-lived link to the file (`inline`: its thumbnail)."""
    endpoint = "messaging.attachment_thumbnail" if inline else "messaging.attachment_download"
    return url_for(endpoint, token=link_token(attachment, current_user))


def file_response(data: bytes, content_type: str, filename: str, *, inline: bool) -> Response:
    """A file a browser saves (or, inline, shows as an image) but never sniffs, runs or keeps."""
    response = send_file(
        io.BytesIO(data),
        mimetype=content_type,
        as_attachment=not inline,
        download_name=filename,  # sent as filename= (ASCII) and filename*= (RFC 5987, UTF-8)
        conditional=False,
        etag=False,
        last_modified=None,
        max_age=None,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = SANDBOX_POLICY
    response.headers["Cache-Control"] = "private, no-store"
    return response


def accepts_uploads(view: Callable[P, R]) -> Callable[P, R]:
    """Mark a view that takes files: its requests may carry UPLOAD_REQUEST_LIMIT bytes (others keep the
    app's MAX_CONTENT_LENGTH). The messaging blueprint applies it before the form is read."""
    view.max_content_length = UPLOAD_REQUEST_LIMIT  # type: ignore[attr-defined]
    return view


# --- Files and the transaction they belong to ---------------------------------------------------

_WRITTEN = "respite.attachment_files"  # written in the transaction: they go if it doesn't commit
_DOOMED = "respite.attachment_files_to_remove"  # purged in the transaction: they go once it commits


def _remember_written(path: Path) -> None:
    """Note a file about to be written, with the transaction it belongs to (the innermost savepoint)."""
    session = db.session()
    session.connection()  # a transaction is open, so its end is seen
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_WRITTEN, []).append([path, transaction])


@event.listens_for(Session, "after_commit")
def _keep_committed(session: Session) -> None:
    savepoint = session.get_nested_transaction()
    if savepoint is None:  # the transaction itself committed: new files stay, purged ones go
        session.info.pop(_WRITTEN, None)
        for path in session.info.pop(_DOOMED, None) or []:
            path.unlink(missing_ok=True)
        return
    written = session.info.get(_WRITTEN) or []
    for entry in written:  # a savepoint was released: its files now live or die with the enclosing transaction
        if entry[1] is savepoint:
            entry[1] = savepoint.parent


@event.listens_for(Session, "after_transaction_end")
def _remove_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the transaction ended without committing: the purge didn't happen
        session.info.pop(_DOOMED, None)
    written = session.info.get(_WRITTEN)
    if not written:
        return
    kept = []
    for path, owner in written:
        if owner is transaction:
            path.unlink(missing_ok=True)
        else:
            kept.append([path, owner])
    session.info[_WRITTEN] = kept
