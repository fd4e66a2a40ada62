"""Notice routes: the signed-in person's notices."""

from flask import Blueprint, Response, render_template
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import Notice, Role
from ..web.access import roles_required

bp = Blueprint("notices", __name__)

READERS = (Role.CAREGIVER, Role.PROVIDER, Role.COORDINATOR)


@bp.get("/notices")
@roles_required(*READERS)
def index() -> Response | str:
    notices = db.session.scalars(
        select(Notice).where(Notice.user_id == current_user.id).order_by(Notice.id.desc()).limit(50)
    ).all()
    return render_template("notices/index.html", notices=notices)
