"""Notice routes: the signed-in person's notices, opening one (it is read, and leads to what it is about),
marking them all read, and choosing which come by email."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..care import services as care
from ..extensions import db
from ..models import Notice, Role, User
from ..scheduling import services as scheduling
from ..web.access import roles_required
from ..web.htmx import render_page
from . import services
from .forms import NoticeSettingsForm

bp = Blueprint("notices", __name__)

# Who gets notices (a kiosk gets none).
READERS = (Role.CAREGIVER, Role.PROVIDER, Role.COORDINATOR)


def _reader() -> User:
    user: User = current_user._get_current_object()
    return user


@bp.get("/notices")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    """Newest first, the unread ones marked; to htmx, the live region alone (refreshed on a `notice` event)."""
    user = _reader()
    listing = services.notices_for(user, request.args.get("page", 1, type=int) or 1)
    return render_page(
        "notices/index.html", "notices/_region.html", listing=listing, unread=services.unread_count(user)
    )


@bp.post("/notices/read")
@roles_required(*READERS)
def read_all() -> ResponseReturnValue:
    count = services.mark_all_read(_reader())
    db.session.commit()
    if count:
        flash(f"{count} notice{'s are' if count != 1 else ' is'} marked as read.", "success")
    else:
        flash("Nothing was unread.", "info")
    return redirect(url_for("notices.index"))


@bp.get("/notices/<int:notice_id>")
@roles_required(*READERS)
def open_notice(notice_id: int) -> ResponseReturnValue:
    """The notice is read now; on to what it is about (or back to the list when that is no longer theirs)."""
    user = _reader()
    notice = services.get_notice_for(user, notice_id)
    if notice is None:
        abort(404)
    services.mark_read(user, notice)
    db.session.commit()
    return redirect(_destination(user, notice))


def _destination(user: User, notice: Notice) -> str:
    if notice.conversation_id is not None:
        if "messaging.thread" in current_app.view_functions:
            return url_for("messaging.thread", conversation_id=notice.conversation_id)
        return f"/inbox/{notice.conversation_id}"
    if notice.session_id is not None:
        if scheduling.get_session_for(user, notice.session_id) is not None:
            return url_for("scheduling.session", session_id=notice.session_id)
        flash("That session is no longer yours to open; the notice says what changed.", "info")
    elif notice.recipient_id is not None:
        if care.get_recipient_for(user, notice.recipient_id) is not None:
            return url_for("care.person", recipient_id=notice.recipient_id)
        flash("That care card is no longer yours to open; the notice says what changed.", "info")
    return url_for("notices.index")


@bp.route("/notices/settings", methods=["GET", "POST"])
@roles_required(*READERS)
def settings() -> ResponseReturnValue:
    """A checkbox per kind of notice the reader's role gets: ticked, it also comes by email."""
    user = _reader()
    kinds = services.kinds_for(user)
    form = NoticeSettingsForm()
    if form.validate_on_submit():
        changed = services.set_preferences(user, form.choices(kinds))
        db.session.commit()
        flash("Your email choices are saved." if changed else "Nothing changed.", "success" if changed else "info")
        return redirect(url_for("notices.settings"))
    if request.method == "GET":
        for choice in services.preferences_for(user):
            form[choice.kind.value].data = choice.by_email
    status = 422 if form.errors else 200
    return render_template("notices/settings.html", form=form, kinds=kinds), status
