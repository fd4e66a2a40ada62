"""Attachments: what may be sent (judged by content), how it is kept (encrypted, outside static/, nothing
left behind when sending fails), and how it is given back (a short-lived link signed for one participant,
checked against its SHA-256, with headers that let a browser neither sniff, run nor keep it)."""

import hashlib
import io
import logging
import re
import secrets
import time
from urllib.parse import quote

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from respite.extensions import db
from respite.messaging import attachments, services
from respite.messaging.services import MessagingError
from respite.models import Attachment, Message
from tests import factories
from tests.helpers import assert_statement_budget, audit_rows, field_error, sign_in
from tests.messaging import sample_files as files


@pytest.fixture(autouse=True)
def folder(app, tmp_path, monkeypatch):
    """A folder of each test's own, so it can count what is stored."""
    folder = tmp_path / "attachments"
    monkeypatch.setitem(app.config, "ATTACHMENT_FOLDER", str(folder))
    return folder


@pytest.fixture
def family():
    return factories.CaregiverProfileFactory(user__display_name="Rosa Martinez").user


@pytest.fixture
def conversation(coordinator, family):
    return services.start_conversation(coordinator, [family], subject="Medication", body="Here is the plan")


def stored(folder):
    return sorted(folder.iterdir()) if folder.exists() else []


def attachment_rows():
    return db.session.scalar(select(func.count(Attachment.id)))


def send(actor, conversation, *uploads, body=""):
    return services.send_message(actor, conversation, body, uploads=list(uploads))


def checked(data, filename="photo.jpg", content_type="image/jpeg"):
    (upload,) = attachments.check_uploads([files.upload(data, filename, content_type)])
    return upload


# --- What may be sent: by content, never by name or declared type --------------------------------


@pytest.mark.parametrize(
    ("make", "filename", "content_type"),
    [
        (files.jpeg, "kitchen.jpg", "image/jpeg"),
        (files.png, "schedule.png", "image/png"),
        (files.heic, "IMG_0042.HEIC", "image/heic"),
        (files.pdf, "medication list.pdf", "application/pdf"),
    ],
)
def test_photos_and_pdfs_are_accepted_for_what_they_are(make, filename, content_type):
    data = make()
    upload = checked(data, filename, "application/octet-stream")
    assert (upload.filename, upload.content_type, upload.size) == (filename, content_type, len(data))
    assert upload.sha256 == hashlib.sha256(data).hexdigest()


def test_the_type_comes_from_the_bytes_not_the_name_or_the_browser():
    upload = checked(files.png(), "photo.jpg", "application/pdf")
    assert upload.content_type == "image/png"
    assert upload.filename == "photo.jpg.png"  # saved, it opens as what it is


@pytest.mark.parametrize(
    ("data", "filename", "says"),
    [
        (files.elf(), "photo.jpg", "“photo.jpg” is a program, not a photo or PDF"),
        (b"MZ\x90\x00" + b"\x00" * 200, "scan.pdf", "“scan.pdf” is a program"),
        (b"#!/bin/sh\nrm -rf ~\n", "photo.jpeg", "“photo.jpeg” is a program"),
        (files.truncated_jpeg(), "photo.jpg", "“photo.jpg” is damaged or incomplete"),
        (files.truncated_png(), "chart.png", "“chart.png” is damaged or incomplete"),
        (files.garbled_jpeg(), "photo.jpg", "“photo.jpg” is damaged or incomplete"),
        (files.pdf()[:-20], "letter.pdf", "“letter.pdf” is damaged or incomplete"),
        (files.heic() + b"\x00\x00", "IMG_1.heic", "“IMG_1.heic” is damaged or incomplete"),
        (files.avif(), "photo.avif", "“photo.avif” isn't a photo (JPEG, PNG, HEIC) or a PDF"),
        (b"<html><script>alert(1)</script></html>", "photo.png", "“photo.png” isn't a photo"),
        (b"GIF89a" + b"\x00" * 100, "funny.gif", "“funny.gif” isn't a photo"),
        (files.oversized(), "huge.jpg", "“huge.jpg” is larger than 10 MB"),
        (b"", "empty.pdf", "“empty.pdf” is empty"),
    ],
    ids=[
        "program",
        "windows-program",
        "script",
        "truncated-jpeg",
        "truncated-png",
        "garbled-jpeg",
        "pdf-without-end",
        "heic-with-loose-bytes",
        "avif",
        "html",
        "gif",
        "over-10-mb",
        "empty",
    ],
)
def test_a_bad_file_is_refused_beside_the_file_field(data, filename, says):
    with pytest.raises(MessagingError) as refused:
        attachments.check_uploads([files.upload(data, filename, "image/jpeg")])
    assert str(refused.value).startswith(says)
    assert refused.value.field == "files"


def test_a_file_of_exactly_10_mb_may_be_sent_and_one_byte_more_may_not():
    pdf = files.pdf()
    padding = attachments.MAX_BYTES - len(pdf)
    exact = pdf[:9] + b"%" + b" " * (padding - 2) + b"\n" + pdf[9:]
    assert len(exact) == attachments.MAX_BYTES
    assert checked(exact, "big.pdf").size == attachments.MAX_BYTES
    with pytest.raises(MessagingError, match="larger than 10 MB"):
        checked(exact[:9] + b" " + exact[9:], "big.pdf")


class EndlessStream(io.RawIOBase):
    """An upload that never ends, counting what was read of it."""

    def __init__(self):
        self.read_bytes = 0

    def readable(self):
        return True

    def read(self, size=-1):
        size = 65536 if size is None or size < 0 else size
        self.read_bytes += size
        return b"\xff\xd8\xff" + b"\x00" * (size - 3)


def test_a_big_file_is_read_only_up_to_the_limit():
    stream = EndlessStream()
    with pytest.raises(MessagingError, match="larger than 10 MB"):
        attachments.check_uploads([files.FileStorage(stream=stream, filename="endless.jpg")])
    assert stream.read_bytes <= attachments.MAX_BYTES + 65536


def test_up_to_five_files_a_message_and_an_empty_input_is_no_file():
    five = [files.upload(files.png(), f"p{n}.png") for n in range(5)]
    nothing_chosen = files.upload(b"", "")
    assert len(attachments.check_uploads([*five, nothing_chosen])) == 5
    six = [files.upload(files.png(), f"p{n}.png") for n in range(6)]
    with pytest.raises(MessagingError, match=r"Attach up to 5 files to one message \(you chose 6\)") as refused:
        attachments.check_uploads(six)
    assert refused.value.field == "files"


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\Rosa\\Scans\\letter.pdf", "letter.pdf"),
        ("invoice\u202efdp.exe.pdf", "invoicefdp.exe.pdf"),  # a right-to-left override can't disguise a name
        ("bad\x00name\x07.pdf", "badname.pdf"),
        ("  lots   of\tspace .pdf", "lots of space .pdf"),
        ("...", "file.pdf"),
        ("x" * 300 + ".pdf", "x" * 116 + ".pdf"),
    ],
)
def test_the_original_name_is_display_text_only(given, shown):
    assert checked(files.pdf(), given, "application/pdf").filename == shown


# --- Storing: encrypted, outside static/, with the message ---------------------------------------


def test_files_are_stored_encrypted_under_random_keys(app, conversation, coordinator, folder):
    pdf, png = files.pdf(text="Elena takes paracetamol at eight"), files.png()
    message = send(coordinator, conversation, checked(pdf, "../plan.pdf"), checked(png, "chart.png"), body="")
    db.session.commit()

    assert message.body == ""
    rows = sorted(message.attachments, key=lambda a: a.filename)
    assert [(a.filename, a.content_type, a.size_bytes) for a in rows] == [
        ("chart.png", "image/png", len(png)),
        ("plan.pdf", "application/pdf", len(pdf)),
    ]
    assert sorted(p.name for p in stored(folder)) == sorted(a.storage_key for a in rows)
    for attachment, original in zip(rows, (png, pdf), strict=True):
        assert len(attachment.storage_key) == 64
        assert attachment.sha256 == hashlib.sha256(original).hexdigest()
        on_disk = (folder / attachment.storage_key).read_bytes()
        assert b"paracetamol" not in on_disk
        assert b"%PDF" not in on_disk
        assert b"PNG" not in on_disk
        assert original not in on_disk
        assert attachments.read(attachment) == original
    assert "static" not in str(folder)


def test_one_audit_row_per_message_counts_its_files_and_names_none(conversation, coordinator):
    message = send(coordinator, conversation, checked(files.pdf(), "Elena diagnosis.pdf"), checked(files.jpeg()))

    (row,) = audit_rows("attachment.add")
    assert (row.entity_type, row.entity_id) == ("Message", str(message.id))
    assert row.meta["count"] == 2
    assert row.meta["bytes"] == sum(a.size_bytes for a in message.attachments)
    assert row.meta["types"] == ["application/pdf", "image/jpeg"]
    assert "diagnosis" not in row.summary + str(row.meta)
    assert audit_rows("message.send")[-1].meta["files"] == 2


def test_a_message_needs_words_or_files(conversation, coordinator):
    with pytest.raises(MessagingError, match="Write a message first"):
        send(coordinator, conversation, body="   ")
    assert send(coordinator, conversation, checked(files.png(), "p.png"), body="  ").body == ""


def test_a_conversation_may_start_with_a_photo(coordinator, family, folder):
    conversation = services.start_conversation(
        coordinator, [family], subject="Photo", body="", uploads=[checked(files.jpeg(), "porch.jpg")]
    )
    (message,) = conversation.messages
    assert [a.filename for a in message.attachments] == ["porch.jpg"]
    assert len(stored(folder)) == 1


def test_the_development_key_is_made_once_in_the_instance_folder(app, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_KEY", None)
    encrypted = attachments.encrypt("k" * 64, b"a photo")
    key_file = f"{app.instance_path}/attachment.key"
    with open(key_file) as file:
        key = file.read()
    assert len(key) >= 32
    assert attachments.decrypt("k" * 64, encrypted) == b"a photo"
    with open(key_file) as file:
        assert file.read() == key


def test_files_are_readable_only_with_the_configured_key(app, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_KEY", "the production attachment key, long enough")
    encrypted = attachments.encrypt("k" * 64, b"a photo")
    assert attachments.decrypt("k" * 64, encrypted) == b"a photo"
    monkeypatch.setitem(app.config, "ATTACHMENT_KEY", "another attachment key, long enough as well")
    with pytest.raises(attachments.AttachmentUnavailable):
        attachments.decrypt("k" * 64, encrypted)


# --- Nothing left behind --------------------------------------------------------------------------


def test_a_file_that_fails_to_write_halfway_leaves_nothing(conversation, coordinator, folder, monkeypatch):
    db.session.commit()
    messages, before = db.session.scalar(select(func.count(Message.id))), attachment_rows()
    real_encrypt, calls = attachments.encrypt, []

    def third_fails(storage_key, data):
        calls.append(storage_key)
        if len(calls) == 3:
            raise OSError("No space left on device")
        return real_encrypt(storage_key, data)

    monkeypatch.setattr(attachments, "encrypt", third_fails)
    with pytest.raises(OSError, match="No space left"):
        send(coordinator, conversation, *[checked(files.png(), f"p{n}.png") for n in range(4)])
    assert len(stored(folder)) == 3  # two written, the third begun: until the transaction ends
    db.session.rollback()

    assert stored(folder) == []
    assert (db.session.scalar(select(func.count(Message.id))), attachment_rows()) == (messages, before)


def test_a_failure_after_the_files_are_written_leaves_nothing(conversation, coordinator, folder, monkeypatch):
    db.session.commit()
    before = attachment_rows()

    def audit_fails(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(attachments.audit, "record", audit_fails)
    with pytest.raises(RuntimeError):
        send(coordinator, conversation, checked(files.png(), "a.png"), checked(files.pdf(), "b.pdf"))
    assert len(stored(folder)) == 2
    db.session.rollback()

    assert stored(folder) == []
    assert attachment_rows() == before


def test_a_database_refusal_after_the_files_are_written_leaves_nothing(conversation, coordinator, folder, monkeypatch):
    taken = send(coordinator, conversation, checked(files.png(), "first.png")).attachments[0].storage_key
    db.session.commit()
    (folder / taken).rename(folder.parent / "kept-elsewhere")  # only the database still knows its key
    keys = iter([secrets.token_hex(32), taken])
    monkeypatch.setattr(attachments.secrets, "token_hex", lambda size: next(keys))

    with pytest.raises(IntegrityError):  # the second file's key is taken: the flush fails
        send(coordinator, conversation, checked(files.png(), "a.png"), checked(files.pdf(), "b.pdf"))
    db.session.rollback()

    assert stored(folder) == []
    assert db.session.scalars(select(Attachment.storage_key)).all() == [taken]


def test_a_transaction_that_rolls_back_takes_its_files_and_a_commit_keeps_them(conversation, coordinator, folder):
    db.session.commit()
    send(coordinator, conversation, checked(files.png(), "kept.png"))
    db.session.commit()
    send(coordinator, conversation, checked(files.png(), "dropped.png"))
    assert len(stored(folder)) == 2
    db.session.rollback()

    (kept,) = stored(folder)
    assert db.session.scalars(select(Attachment.storage_key)).all() == [kept.name]


def test_a_session_closed_without_committing_takes_its_files(conversation, coordinator, folder):
    db.session.commit()
    send(coordinator, conversation, checked(files.png(), "lost.png"))
    db.session.close()
    assert stored(folder) == []


def test_a_savepoint_rolled_back_takes_only_its_own_files(conversation, coordinator, folder):
    db.session.commit()
    send(coordinator, conversation, checked(files.png(), "before.png"))
    savepoint = db.session.begin_nested()
    send(coordinator, conversation, checked(files.png(), "inside.png"))
    savepoint.rollback()  # a race lost
    with db.session.begin_nested():
        send(coordinator, conversation, checked(files.png(), "released.png"))
    assert len(stored(folder)) == 2
    db.session.commit()
    assert sorted(p.name for p in stored(folder)) == sorted(db.session.scalars(select(Attachment.storage_key)))

    with db.session.begin_nested():
        send(coordinator, conversation, checked(files.png(), "released-then-undone.png"))
    assert len(stored(folder)) == 3
    db.session.rollback()
    assert len(stored(folder)) == 2


# --- Reading back ---------------------------------------------------------------------------------


@pytest.fixture
def photo(conversation, coordinator):
    message = send(coordinator, conversation, checked(files.jpeg(), "porch.jpg"))
    db.session.commit()
    return message.attachments[0]


def test_a_changed_checksum_or_file_is_refused_and_logged(photo, folder, caplog):
    photo.sha256 = "0" * 64
    with caplog.at_level(logging.ERROR), pytest.raises(attachments.AttachmentUnavailable):
        attachments.read(photo)
    assert f"attachment {photo.id} unavailable" in caplog.text
    assert "SHA-256 mismatch" in caplog.text


def test_a_file_tampered_with_or_moved_is_refused(photo, folder):
    path = folder / photo.storage_key
    stored_bytes = bytearray(path.read_bytes())
    stored_bytes[-5] ^= 0x01
    path.write_bytes(bytes(stored_bytes))
    with pytest.raises(attachments.AttachmentUnavailable):
        attachments.read(photo)
    # A stored file is bound to its key: one copied over another's can't pass for it.
    other = attachments.encrypt("f" * 64, files.jpeg())
    path.write_bytes(other)
    with pytest.raises(attachments.AttachmentUnavailable):
        attachments.read(photo)
    path.unlink()
    with pytest.raises(attachments.AttachmentUnavailable):
        attachments.read(photo)


def test_a_thumbnail_is_small_upright_and_carries_no_metadata():
    original = files.jpeg(size=(1600, 1200))
    assert files.CAMERA.encode() in original
    small, content_type = attachments.thumbnail(original, "image/jpeg")
    assert content_type == "image/jpeg"
    assert files.CAMERA.encode() not in small
    assert b"Exif" not in small
    with Image.open(io.BytesIO(small)) as image:
        assert max(image.size) <= 480
        assert not image.getexif()
    _, png_type = attachments.thumbnail(files.png(), "image/png")
    assert png_type == "image/png"  # transparency kept
    with pytest.raises(ValueError, match="no thumbnail"):
        attachments.thumbnail(files.pdf(), "application/pdf")


# --- Downloading through a signed link ------------------------------------------------------------


@pytest.fixture
def family_client(app, family):
    client = app.test_client()
    sign_in(client, family)
    return client


def link(app, attachment, viewer, *, thumbnail=False, age_seconds=0):
    class Backdated(TimestampSigner):  # a link made `age_seconds` ago
        def get_timestamp(self):
            return int(time.time()) - age_seconds

    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=attachments.LINK_SALT, signer=Backdated)
    token = serializer.dumps([attachment.id, viewer.id])
    return f"/attachments/{token}" + ("/thumbnail" if thumbnail else "")


def test_a_participant_downloads_the_file_with_safe_headers(app, photo, family, family_client):
    response = family_client.get(link(app, photo, family))

    assert response.status_code == 200
    assert response.data == files.jpeg()
    assert response.mimetype == "image/jpeg"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Content-Disposition"] == "attachment; filename=porch.jpg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "ETag" not in response.headers
    assert "Last-Modified" not in response.headers


def test_a_name_beyond_ascii_is_sent_rfc_5987_encoded(app, conversation, coordinator, family, family_client):
    message = send(coordinator, conversation, checked(files.pdf(), "Médicaments d’Elena.pdf"))
    db.session.commit()
    response = family_client.get(link(app, message.attachments[0], family))
    disposition = response.headers["Content-Disposition"]
    assert f"filename*=UTF-8''{quote('Médicaments d’Elena.pdf')}" in disposition
    assert response.data == files.pdf()


def test_a_photo_has_a_thumbnail_served_inline(app, photo, family, family_client):
    response = family_client.get(link(app, photo, family, thumbnail=True))

    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert files.CAMERA.encode() not in response.data
    with Image.open(io.BytesIO(response.data)) as image:
        assert max(image.size) <= 480


@pytest.mark.parametrize(("make", "name"), [(files.heic, "IMG_2.heic"), (files.pdf, "list.pdf")])
def test_heic_and_pdf_have_no_thumbnail(app, conversation, coordinator, family, family_client, make, name):
    message = send(coordinator, conversation, checked(make(), name))
    db.session.commit()
    attachment = message.attachments[0]
    assert family_client.get(link(app, attachment, family, thumbnail=True)).status_code == 404
    assert family_client.get(link(app, attachment, family)).data == make()


def test_a_link_lasts_ten_minutes(app, photo, family, family_client):
    assert family_client.get(link(app, photo, family, age_seconds=9 * 60)).status_code == 200
    expired = family_client.get(link(app, photo, family, age_seconds=11 * 60))
    assert expired.status_code == 404
    assert "Page not found" in expired.text
    assert "sandbox" not in expired.headers["Content-Security-Policy"]  # the error page keeps the app's policy


def test_a_link_made_for_someone_else_or_forged_answers_404(app, photo, family, family_client, coordinator):
    assert family_client.get(link(app, photo, coordinator)).status_code == 404
    forged = URLSafeTimedSerializer("not the app's secret", salt=attachments.LINK_SALT).dumps([photo.id, family.id])
    assert family_client.get(f"/attachments/{forged}").status_code == 404
    assert family_client.get("/attachments/not-a-token").status_code == 404
    unknown = Attachment(id=photo.id + 1000)
    assert family_client.get(link(app, unknown, family)).status_code == 404


def test_someone_outside_the_conversation_gets_404_even_with_their_own_link(app, photo):
    outsider = factories.CaregiverProfileFactory().user
    client = app.test_client()
    sign_in(client, outsider)
    assert client.get(link(app, photo, outsider)).status_code == 404
    assert client.get(link(app, photo, outsider, thumbnail=True)).status_code == 404


def test_a_damaged_file_answers_a_page_not_a_server_error(app, photo, family, family_client, caplog):
    photo.sha256 = "0" * 64
    db.session.commit()
    with caplog.at_level(logging.ERROR):
        response = family_client.get(link(app, photo, family))
    assert response.status_code == 404
    assert "the stored copy is damaged or missing" in response.text
    assert "SHA-256 mismatch" in caplog.text
    assert family_client.get(link(app, photo, family, thumbnail=True)).status_code == 404


def test_the_template_global_links_the_viewer_to_the_file_and_its_thumbnail(app, photo, family, family_client):
    from flask_login import login_user

    with app.test_request_context():
        login_user(family)
        download, thumbnail = attachments.attachment_url(photo), attachments.attachment_url(photo, inline=True)
    assert family_client.get(download).data == files.jpeg()
    assert family_client.get(thumbnail).mimetype == "image/jpeg"


def test_the_download_costs_the_same_statements_however_many_files(app, conversation, coordinator, family):
    photo = send(coordinator, conversation, checked(files.png(), "p.png")).attachments[0]
    db.session.commit()
    client = app.test_client()
    sign_in(client, family)

    def add_files(count):
        for _ in range(count):
            send(coordinator, conversation, checked(files.png(), "more.png"), body="and another")

    # The viewer (with their sign-in's state), and the attachment with its participant check.
    assert_statement_budget(client, link(app, photo, family), add_files, 2)
    assert_statement_budget(client, link(app, photo, family, thumbnail=True), add_files, 2)


# --- Through the forms ----------------------------------------------------------------------------


def post_files(client, path, *named, body="See attached", **fields):
    data = {"body": body, "files": [(io.BytesIO(data), name) for data, name in named], **fields}
    return client.post(path, data=data, content_type="multipart/form-data")


def test_a_reply_carries_photos_and_documents_shown_in_the_thread(conversation, family, family_client, folder):
    db.session.commit()
    path = f"/inbox/{conversation.id}"
    response = post_files(
        family_client, path, (files.jpeg(), "porch.jpg"), (files.pdf(), "list.pdf"), (files.heic(), "IMG_3.HEIC")
    )
    assert response.status_code == 302

    assert len(stored(folder)) == 3
    page = family_client.get(path).text
    assert page.count('<img src="/attachments/') == 1  # the photo's thumbnail; HEIC and PDF are chips
    assert re.search(r'<img src="/attachments/[^"]+/thumbnail" alt="porch.jpg"', page)
    assert page.count('class="file-chip"') == 2
    for link_path in re.findall(r'href="(/attachments/[^"]+)"', page):
        assert family_client.get(link_path).status_code == 200


@pytest.mark.parametrize(
    ("named", "says"),
    [
        ([(files.elf(), "photo.jpg")], "“photo.jpg” is a program, not a photo or PDF, so it can't be sent."),
        ([(files.png(), "ok.png"), (files.truncated_jpeg(), "cut.jpg")], "“cut.jpg” is damaged or incomplete"),
        ([(files.png(), f"p{n}.png") for n in range(6)], "Attach up to 5 files to one message (you chose 6)."),
        ([(files.oversized(), "huge.jpg")], "“huge.jpg” is larger than 10 MB."),
        ([(b"", "empty.jpg")], "“empty.jpg” is empty."),
    ],
    ids=["program", "truncated", "six-files", "over-10-mb", "empty"],
)
def test_a_bad_file_is_shown_beside_the_field_and_leaves_nothing(
    conversation, family, family_client, folder, named, says
):
    db.session.commit()
    messages, before = db.session.scalar(select(func.count(Message.id))), attachment_rows()

    response = post_files(family_client, f"/inbox/{conversation.id}", *named)

    assert response.status_code == 422
    assert field_error(response, "reply-files").startswith(says)
    assert 'aria-invalid="true"' in response.text
    assert stored(folder) == []
    assert (db.session.scalar(select(func.count(Message.id))), attachment_rows()) == (messages, before)


def test_a_new_conversation_may_start_with_a_file(app, family, family_client, coordinator, folder):
    db.session.commit()
    response = post_files(
        family_client,
        "/inbox/new",
        (files.pdf(), "care plan.pdf"),
        body="",
        subject="Care plan",
        recipients=str(coordinator.id),
    )
    assert response.status_code == 302
    (attachment,) = db.session.scalars(select(Attachment)).all()
    assert attachment.filename == "care plan.pdf"
    assert [p.name for p in stored(folder)] == [attachment.storage_key]


def test_the_file_field_offers_the_camera_and_says_what_fits(conversation, family_client):
    db.session.commit()
    page = family_client.get(f"/inbox/{conversation.id}").text
    file_input = re.search(r'<input type="file"[^>]*>', page).group(0)
    assert 'name="files"' in file_input
    assert "multiple" in file_input
    assert 'accept="image/jpeg,image/png,image/heic,application/pdf"' in file_input
    assert "Up to 5 files, 10 MB each: photos (JPEG, PNG, HEIC) or PDF" in page


@pytest.mark.parametrize("csrf", [False, True], ids=["form", "form-with-csrf-check"])
def test_a_message_too_big_to_carry_gets_a_clear_answer(app, conversation, family_client, folder, monkeypatch, csrf):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", csrf)  # the CSRF check reads the body first
    db.session.commit()
    five_and_more = [(b"\x00" * (attachments.MAX_BYTES + 300_000), f"big{n}.jpg") for n in range(5)]

    response = post_files(family_client, f"/inbox/{conversation.id}", *five_and_more)

    assert response.status_code == 413
    assert "more than one message can carry: up to 5 files, 10 MB each" in response.text
    assert stored(folder) == []


def test_only_the_message_forms_take_big_bodies(family_client):
    response = family_client.post(
        "/notices/settings",
        data={"padding": (io.BytesIO(b"x" * (2 * 1024 * 1024)), "x.bin")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "more than one message can carry" not in response.text
