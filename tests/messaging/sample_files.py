"""Real files made for the attachment tests: photos drawn with Pillow, a HEIC header built by hand, a PDF,
and the bad ones (a program renamed to .jpg, a cut-off photo, one over the size limit)."""

import io
import zlib

from PIL import ExifTags, Image
from werkzeug.datastructures import FileStorage

# Text a photo's metadata carries: none of it may reach a thumbnail.
CAMERA = "Pixelmaker SecretCam 9"


def jpeg(size=(320, 240), color=(200, 120, 40)) -> bytes:
    image = Image.new("RGB", size, color)
    for x in range(0, size[0], 7):  # some detail, so the file has real entropy-coded data to cut
        for y in range(0, size[1], 5):
            image.putpixel((x, y), ((x * 3) % 256, (y * 5) % 256, (x + y) % 256))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = CAMERA
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (51.0, 30.0, 12.5)
    output = io.BytesIO()
    image.save(output, "JPEG", quality=90, exif=exif)
    return output.getvalue()


def png(size=(64, 48), color=(30, 120, 200, 255)) -> bytes:
    output = io.BytesIO()
    Image.new("RGBA", size, color).save(output, "PNG")
    return output.getvalue()


def heic() -> bytes:
    """The start of a HEIC photo as a phone writes it: an `ftyp` box (brand heic), a `meta` box, image data."""
    ftyp = b"ftyp" + b"heic" + b"\x00\x00\x00\x00" + b"mif1" + b"heic"
    meta = b"meta" + b"\x00\x00\x00\x00" + _box(b"hdlr", b"\x00" * 8 + b"pict" + b"\x00" * 13)
    mdat = b"mdat" + bytes(range(256)) * 4
    return _box(ftyp[:4], ftyp[4:]) + _box(meta[:4], meta[4:]) + _box(mdat[:4], mdat[4:])


def avif() -> bytes:
    """An AVIF image's header: ISO BMFF like HEIC, but not a type a message may carry."""
    ftyp = b"avif" + b"\x00\x00\x00\x00" + b"mif1" + b"avif"
    return _box(b"ftyp", ftyp) + _box(b"meta", b"\x00" * 4)


def _box(kind: bytes, payload: bytes) -> bytes:
    return (8 + len(payload)).to_bytes(4, "big") + kind + payload


def pdf(text: str = "Medication list: paracetamol 500 mg at 8:00") -> bytes:
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    body = b"%PDF-1.4\n"
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + content + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return body


def elf() -> bytes:
    """The start of a Linux program."""
    return b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + b"\x90" * 4000


def truncated_jpeg() -> bytes:
    """A photo cut off halfway, as an interrupted upload leaves it."""
    whole = jpeg()
    return whole[: len(whole) // 2]


def truncated_png() -> bytes:
    """A PNG whose image data is cut short but which still ends in an IEND chunk: only decoding it finds the cut."""
    whole = png(size=(200, 200))
    start = whole.index(b"IDAT") - 4
    length = int.from_bytes(whole[start : start + 4], "big")
    idat = whole[start + 8 : start + 8 + length]
    cut = idat[: len(idat) // 2]
    return whole[:start] + _chunk(b"IDAT", cut) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + kind + payload + zlib.crc32(kind + payload).to_bytes(4, "big")


def garbled_jpeg() -> bytes:
    """A JPEG's start and end markers around bytes that are no image."""
    return b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8 + b"\xff\xd9"


def oversized(megabytes: int = 11) -> bytes:
    return jpeg() + b"\x00" * (megabytes * 1024 * 1024)


def upload(data: bytes, filename: str, content_type: str = "application/octet-stream") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=filename, content_type=content_type)
