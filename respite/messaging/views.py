"""Messaging routes: the inbox, a conversation's thread, starting a conversation and replying.

Every page works as plain links and forms; with htmx the inbox's search and
the list of people answer as the user types, older messages load as the reader
scrolls up, a reply posts in place, and the inbox and the thread refresh
themselves when a `message` or `read` event arrives (its payload names ids
only: the region re-fetches through these views). Opening a thread, or its live
refresh, marks it read, which shows the others "Seen" under their message.
"""

from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from .. import CONTENT_SECURITY_POLICY
from ..extensions import db, talisman
from ..models import Attachment, Conversation, RespiteSession, Role, User, utcnow
from ..scheduling import services as scheduling
from ..text import has_control_characters
from ..timefmt import local
from ..web import errors
from ..web.access import roles_required
from ..web.htmx import is_region_request, render_page
from . import attachments, services
from .errors import MessagingError
from .forms import NewConversationForm, ReplyForm, parse_id, parse_ids
from .linkify import linkify

bp = Blueprint("messaging", __name__)

# Who has an inbox (a kiosk talks to no one).
READERS = (Role.CAREGIVER, Role.PROVIDER, Role.COORDINATOR)
# How the list of people names each role.
ROLE_LABELS = {Role.CAREGIVER: "Family", Role.PROVIDER: "Provider", Role.COORDINATOR: "Coordinator"}

bp.add_app_template_filter(linkify, "linkify")
bp.add_app_template_global(attachments.attachment_url, "attachment_url")


@bp.app_template_global()
def message_time_format(at: datetime) -> str:
    """The `localtime` format for a message's time: the time alone today, with the day this year, else in full."""
    when, now = local(at), local(utcnow())
    if when.date() == now.date():
        return "%H:%M"
    return "%a %-d %b, %H:%M" if when.year == now.year else "%-d %b %Y, %H:%M"


@bp.app_template_global()
def session_talk(session: RespiteSession) -> services.SessionTalk:
    """For a session's page: whom the viewer may message about it, and the conversations they already have."""
    return services.session_talk(current_user, session)


@bp.url_value_preprocessor
def _room_for_files(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """A view that takes files (attachments.accepts_uploads) may be sent more than the app's MAX_CONTENT_LENGTH.
    Set here, before anything reads the body: the CSRF check reads it first, in before_request."""
    limit = getattr(current_app.view_functions.get(endpoint or ""), "max_content_length", None)
    if limit and request.method == "POST":
        request.max_content_length = limit


def _reader() -> User:
    user: User = current_user._get_current_object()
    return user


def _query_id(name: str) -> int | None:
    return parse_id(request.args.get(name))


# --- The inbox ------------------------------------------------------------------------------


@bp.get("/inbox")
@roles_required(*READERS)
def inbox() -> Response:
    """The reader's conversations, newest activity first, a page at a time; those matching `q` when searched."""
    found = services.inbox_page(
        _reader(), page=request.args.get("page", 1, type=int) or 1, search=request.args.get("q", "")
    )
    return render_page("messaging/inbox.html", "messaging/_inbox_region.html", inbox=found)


# --- Starting a conversation ----------------------------------------------------------------


def _about(session_arg: str | None) -> RespiteSession | None:
    """The session named by `?session=`, when the reader may see it; 404 for any other value given."""
    if session_arg is None:
        return None
    session_id = parse_id(session_arg)
    session = scheduling.get_session_for(_reader(), session_id) if session_id is not None else None
    if session is None:
        abort(404)
    return session


def _people_for(user: User, session: RespiteSession, to: str | None) -> list[int]:
    """Who a message about `session` is for at first: `to` (family or provider), else the other side."""
    family = to == "family" or (to != "provider" and user.role in (Role.PROVIDER, Role.COORDINATOR))
    providers = to == "provider" or (to != "family" and user.role in (Role.CAREGIVER, Role.COORDINATOR))
    return services.session_people(session, family=family, providers=providers)


def _subject_for(session: RespiteSession) -> str:
    return f"Respite for {session.recipient.full_name} on {local(session.starts_at).strftime('%a %-d %b')}"


@bp.route("/inbox/new", methods=["GET", "POST"])
@roles_required(*READERS)
@attachments.accepts_uploads
def new_conversation() -> ResponseReturnValue:
    """Write to someone the reader may talk to; `?session=` links the conversation to a session they see."""
    user = _reader()
    session = _about(request.args.get("session"))
    form = NewConversationForm()
    search = request.args.get("who", "").strip()[: services.SEARCH_LIMIT]
    if has_control_characters(search):
        search = ""
    if request.method == "GET":
        chosen_ids = parse_ids(request.args.getlist("recipients"))
        if session is not None and not chosen_ids:
            chosen_ids = _people_for(user, session, request.args.get("to"))
            form.subject.data = _subject_for(session)
    else:
        chosen_ids = form.recipients.data or []
        if form.validate_on_submit():
            chosen = services.contacts_for(user, ids=chosen_ids)
            try:
                if not chosen_ids:
                    raise MessagingError("Choose who the message is for.", "recipients")
                if len(chosen) != len(chosen_ids):
                    raise MessagingError("Choose people from the list: you can't write to everyone.", "recipients")
                conversation = services.start_conversation(
                    user,
                    chosen,
                    subject=form.subject.data or "",
                    body=form.body.data or "",
                    session=session,
                    uploads=attachments.check_uploads(request.files.getlist("files")),
                )
            except MessagingError as error:
                db.session.rollback()
                form.add_refusal(error)
            else:
                db.session.commit()
                flash("Your message is sent.", "success")
                return redirect(url_for("messaging.thread", conversation_id=conversation.id, _anchor="latest"))
    chosen = services.contacts_for(user, ids=chosen_ids) if chosen_ids else []
    listed = services.contacts_for(user, search=search, limit=services.CONTACTS_LIMIT + 1)
    people = chosen + [person for person in listed[: services.CONTACTS_LIMIT] if person not in chosen]
    return render_page(
        "messaging/new.html",
        "messaging/_recipients.html",
        status=422 if form.errors else 200,
        form=form,
        session=session,
        people=people,
        chosen_ids={person.id for person in chosen},
        more_people=len(listed) > services.CONTACTS_LIMIT,
        searchable=user.role == Role.COORDINATOR or len(listed) > services.CONTACTS_LIMIT,
        search=search,
        role_labels=ROLE_LABELS,
    )


# --- A thread ---------------------------------------------------------------------------------


def _thread_page(
    user: User,
    conversation: Conversation,
    form: ReplyForm,
    *,
    before: int | None = None,
    since: int | None = None,
    status: int = 200,
) -> Response:
    """The thread's page, or its live region to htmx: the messages shown, their receipts, the reply form."""
    window = services.thread_window(conversation, before_id=before, since_id=since)
    return render_page(
        "messaging/thread.html",
        "messaging/_thread_region.html",
        status=status,
        conversation=conversation,
        window=window,
        since=since or window.oldest_id,
        receipts=services.receipts(conversation, user),
        others=[p.user for p in conversation.participants if p.user_id != user.id],
        form=form,
        paged_back=before is not None,
    )


@bp.route("/inbox/<int:conversation_id>", methods=["GET", "POST"])
@roles_required(*READERS)
@attachments.accepts_uploads
def thread(conversation_id: int) -> ResponseReturnValue:
    """A conversation the reader takes part in (404 for any other): its newest messages, marked read, and
    the reply form. `?before=` pages back (with htmx: the older messages alone, to go above the others);
    the live region asks with `?since=`, the first message it showed, so that it keeps every one."""
    user = _reader()
    conversation = services.get_thread_for(user, conversation_id)
    if conversation is None:
        abort(404)
    if request.method == "POST":
        return _reply(user, conversation)
    before = _query_id("before")
    if before is not None and is_region_request():
        return _older(user, conversation, before)
    if before is None:
        services.mark_read(user, conversation)
    since = _query_id("since") if is_region_request() else None
    # Rendered before the commit, which would expire what the page shows; the read event goes out with it.
    response = _thread_page(user, conversation, ReplyForm(formdata=None), before=before, since=since)
    db.session.commit()
    return response


def _older(user: User, conversation: Conversation, before: int) -> Response:
    """The messages before `before` (and the link to the ones before them, if any), for the top of the thread."""
    response = make_response(
        render_template(
            "messaging/_older.html",
            conversation=conversation,
            window=services.thread_window(conversation, before_id=before),
            receipts=services.receipts(conversation, user),
        )
    )
    response.vary.add("HX-Request")
    return response


def _reply(user: User, conversation: Conversation) -> ResponseReturnValue:
    """Post a reply: PRG without JavaScript; with htmx, the thread with it and an empty form, in place."""
    form = ReplyForm()
    since = parse_id(request.form.get("since"))
    if form.validate_on_submit():
        try:
            uploads = attachments.check_uploads(request.files.getlist("files"))
            services.send_message(user, conversation, form.body.data or "", uploads=uploads)
        except MessagingError as error:
            db.session.rollback()
            form.add_refusal(error)
        else:
            db.session.commit()
            if not is_region_request():
                return redirect(url_for("messaging.thread", conversation_id=conversation.id, _anchor="latest"))
            return _replied(user, conversation, since)
    if is_region_request():  # the form again, with the message beside the field
        response = make_response(
            render_template("messaging/_reply_form.html", conversation=conversation, form=form, since=since), 422
        )
        response.vary.add("HX-Request")
        return response
    return _thread_page(user, conversation, form, status=422)


def _replied(user: User, conversation: Conversation, since: int | None) -> Response:
    """After a reply with htmx: the thread's region (with the reply) in place of the old one, and an empty form."""
    window = services.thread_window(conversation, since_id=since)
    response = make_response(
        render_template(
            "messaging/_replied.html",
            conversation=conversation,
            window=window,
            since=since or window.oldest_id,
            receipts=services.receipts(conversation, user),
            form=ReplyForm(formdata=None),
        )
    )
    response.headers["HX-Retarget"] = "#thread-live"
    response.headers["HX-Reswap"] = "outerHTML"
    response.vary.add("HX-Request")
    return response


# --- Attachments ----------------------------------------------------------------------------------
# A file is fetched through a link signed for one viewer that lasts a few minutes (attachment_url, made when
# the thread renders), after the same participant check as the thread. The answer is a download, or for a
# photo a small re-encoded thumbnail, that a browser may neither sniff, run nor keep.

_ATTACHMENT_ENDPOINTS = frozenset({"messaging.attachment_download", "messaging.attachment_thumbnail"})
_DAMAGED = "This file can't be opened: the stored copy is damaged or missing. Ask the sender to send it again."


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
    """More than a message may carry: say what is allowed (the form can't be shown again: it wasn't read)."""
    if (request.max_content_length or 0) >= attachments.UPLOAD_REQUEST_LIMIT:
        detail = (
            "That was more than one message can carry: up to 5 files, 10 MB each. "
            "Go back, choose fewer or smaller files, and send it again."
        )
        return errors.render_error(413, detail=detail)
    return errors.render_error(413)


@bp.after_request
def _attachment_error_policy(response: Response) -> Response:
    """flask-talisman leaves these routes' policy to them: a file carries the sandbox, and an error page
    (an expired link, say) the app's own policy."""
    if request.endpoint in _ATTACHMENT_ENDPOINTS and "Content-Security-Policy" not in response.headers:
        response.headers["Content-Security-Policy"] = "; ".join(
            f"{directive} {value if isinstance(value, str) else ' '.join(value)}"
            for directive, value in CONTENT_SECURITY_POLICY.items()
        )
    return response


def _attachment_from(token: str) -> Attachment:
    attachment_id = attachments.attachment_id_from(token, _reader())
    attachment = services.get_attachment_for(_reader(), attachment_id) if attachment_id else None
    if attachment is None:
        abort(404)  # an expired, forged or someone else's link, an unknown file, or one the policy removed
    return attachment


@bp.get("/attachments/<token>")
@talisman(content_security_policy={}, content_security_policy_nonce_in=[])
@roles_required(*READERS)
def attachment_download(token: str) -> ResponseReturnValue:
    attachment = _attachment_from(token)
    try:
        data = attachments.read(attachment)
    except attachments.AttachmentUnavailable:  # logged by read()
        return errors.render_error(404, detail=_DAMAGED)
    return attachments.file_response(data, attachment.content_type, attachment.filename, inline=False)


@bp.get("/attachments/<token>/thumbnail")
@talisman(content_security_policy={}, content_security_policy_nonce_in=[])
@roles_required(*READERS)
def attachment_thumbnail(token: str) -> ResponseReturnValue:
    attachment = _attachment_from(token)
    if attachment.content_type not in attachments.IMAGE_TYPES:
        abort(404)  # HEIC and PDF show as a file chip, never as a picture
    try:
        small, content_type = attachments.thumbnail(attachments.read(attachment), attachment.content_type)
    except attachments.AttachmentUnavailable:
        return errors.render_error(404, detail=_DAMAGED)
    name = "thumbnail" + attachments.EXTENSIONS[content_type][0]
    return attachments.file_response(small, content_type, name, inline=True)
