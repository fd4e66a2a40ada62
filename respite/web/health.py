"""`/healthz`: 200 when the database and Redis both answer, 503 otherwise (for load balancers)."""

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from .. import realtime
from ..extensions import db
from .access import public

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def healthz() -> Response:
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # any failure means: not answering
        db.session.rollback()
        database = "unavailable"
    redis_state = "ok" if realtime.redis_is_up() else "unavailable"
    healthy = database == "ok" and redis_state == "ok"
    response = jsonify(status="ok" if healthy else "degraded", database=database, redis=redis_state)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
