"""Messaging routes: the inbox, a conversation's thread, starting a conversation and replying."""

from flask import Blueprint, Response, render_template
from flask_login import current_user

from ..models import Role
from ..web.access import roles_required
from . import services

bp = Blueprint("messaging", __name__)

# Who has an inbox (a kiosk talks to no one).
READERS = (Role.CAREGIVER, Role.PROVIDER, Role.COORDINATOR)


@bp.get("/inbox")
@roles_required(*READERS)
def inbox() -> Response | str:
    return render_template("messaging/inbox.html", entries=services.inbox(current_user))
