"""Flask extensions, created once here and bound to the app in the factory."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so Alembic migrations read the same on SQLite and PostgreSQL.
naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=naming_convention)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
talisman = Talisman()
# Throttling, never lockouts: limits per address (and per address and account for sign-in), on the app's
# Redis, in memory while Redis is away. The limits themselves are settings (respite.config).
limiter = Limiter(key_func=get_remote_address, headers_enabled=True, in_memory_fallback_enabled=True)

login_manager.login_view = "accounts.login"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"
# "basic", not "strong": a phone moving between Wi-Fi and mobile data changes
# its address, and "strong" would sign a caregiver out mid-day for it.
login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(user_id: str) -> object | None:
    """The signed-in user, while their sign-in holds (respite.accounts.signins)."""
    from .accounts.signins import sign_in_is_alive
    from .models import User

    user = db.session.get(User, int(user_id)) if user_id.isdigit() and len(user_id) < 10 else None
    return user if user is not None and sign_in_is_alive(user) else None
