"""Routes for signing up, in and out, invitations and the account page."""

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from flask_login import current_user, logout_user

from ..extensions import db, limiter
from ..models import EmailLinkPurpose, Role, User
from ..web.access import public, roles_required, signed_in
from . import services
from .forms import (
    AccountForm,
    ForgotPasswordForm,
    PasswordChangeForm,
    SetPasswordForm,
    SignInForm,
    SignUpForm,
    filled,
)
from .signins import keep_this_sign_in, start_sign_in

bp = Blueprint("accounts", __name__)

GENERIC_FAILURE = "That email and password don't match. If you have forgotten your password, set a new one below."

# A kiosk is a shared tablet: it has no account page of its own to change.
ACCOUNT_ROLES = (Role.CAREGIVER, Role.PROVIDER, Role.COORDINATOR)


def generic_failure() -> str:
    """The one message for every failed sign-in, whatever the reason."""
    return GENERIC_FAILURE


# --- Throttling (flask-limiter): limits per address, and failed sign-ins per address and account, so that
# no one can keep an account's owner out by failing on purpose from somewhere else.


def _setting(name: str) -> Callable[[], str]:
    return lambda: str(current_app.config[name])


def _address_and_account() -> str:
    return f"{get_remote_address()}|{services.normalise_email(request.form.get('email', ''))[:254]}"


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths may be followed after sign-in."""
    if not target:
        return None
    # Browsers read a backslash as a slash and drop tabs and newlines, so
    # "/\\evil.example" would leave the site: refuse them outright.
    if "\\" in target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/signup", methods=["GET", "POST"])
@public
@limiter.limit(_setting("SIGN_UP_LIMIT"), methods=["POST"])
def signup() -> ResponseReturnValue:
    """Ask for an account: a link to finish it goes to the email (whether it has an account is never said here)."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboards.home"))
    form = SignUpForm()
    if request.method == "GET":
        form.timezone.data = request.args.get("tz") or "UTC"
    if form.validate_on_submit():
        email = filled(form.email)
        services.request_sign_up(filled(form.display_name), email, filled(form.password), form.timezone.data)
        db.session.commit()
        session[_SENT_TO] = services.normalise_email(email)
        return redirect(url_for("accounts.link_sent", purpose="sign_up"))
    status = 422 if form.errors else 200
    return render_template("accounts/signup.html", form=form), status


_SENT_TO = "link_sent_to"


@bp.get("/email-sent/<any(sign_up, reset):purpose>")
@public
def link_sent(purpose: str) -> ResponseReturnValue:
    return render_template("accounts/link_sent.html", purpose=purpose, email=session.get(_SENT_TO))


def _link_used(purpose: str, message: str = services.LINK_USED) -> ResponseReturnValue:
    return render_template("accounts/link_used.html", purpose=purpose, message=message), 404


@bp.route("/signup/confirm/<token>", methods=["GET", "POST"])
@public
@limiter.limit(_setting("INVITATION_LIMIT"), methods=["POST"])
def confirm_sign_up(token: str) -> ResponseReturnValue:
    """The emailed link: a button makes the account (a mail scanner opening the link makes nothing)."""
    link = services.link_for(EmailLinkPurpose.SIGN_UP, token)
    if link is None:
        return _link_used("sign_up")
    if request.method == "POST":
        try:
            user = services.confirm_sign_up(link)
        except services.AccountError as error:
            db.session.rollback()
            return _link_used("sign_up", str(error))
        db.session.commit()
        if current_user.is_authenticated:
            logout_user()
        start_sign_in(user)
        flash(f"Welcome, {user.display_name}. Your account is ready.", "success")
        return redirect(url_for("dashboards.home"))
    return render_template("accounts/confirm_sign_up.html", link=link)


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
@limiter.limit(_setting("RESET_LIMIT"), methods=["POST"])
@limiter.limit(_setting("RESET_PER_EMAIL_LIMIT"), key_func=_address_and_account, methods=["POST"])
def forgot_password() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email = filled(form.email)
        services.request_password_reset(email)
        db.session.commit()
        session[_SENT_TO] = services.normalise_email(email)
        return redirect(url_for("accounts.link_sent", purpose="reset"))
    status = 422 if form.errors else 200
    return render_template("accounts/forgot_password.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
@limiter.limit(_setting("INVITATION_LIMIT"), methods=["POST"])
def reset_password(token: str) -> ResponseReturnValue:
    link = services.link_for(EmailLinkPurpose.RESET, token)
    if link is None:
        return _link_used("reset")
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.reset_password(link, filled(form.password))
        except services.AccountError as error:
            db.session.rollback()
            return _link_used("reset", str(error))
        db.session.commit()
        if current_user.is_authenticated:
            logout_user()
        start_sign_in(user)
        flash("Your new password is set. Every other sign-in of your account has ended.", "success")
        return redirect(url_for("dashboards.home"))
    status = 422 if form.errors else 200
    return render_template("accounts/reset_password.html", form=form, link=link), status


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_setting("SIGN_IN_LIMIT"), methods=["POST"])
@limiter.limit(_setting("SIGN_IN_FAILURE_LIMIT"), key_func=_address_and_account, methods=["POST"], deduct_when=_failed)
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("dashboards.home"))
    form = SignInForm()
    if form.validate_on_submit():
        result = services.authenticate(filled(form.email), filled(form.password))
        db.session.commit()  # failures are counted and audited too
        if result.user is not None:
            start_sign_in(result.user)
            flash(f"Signed in as {result.user.display_name}.", "success")
            return redirect(_safe_next(request.args.get("next")) or url_for("dashboards.home"))
        form.password.data = ""
        return render_template("accounts/login.html", form=form, failure=generic_failure()), 401
    status = 422 if form.errors else 200
    return render_template("accounts/login.html", form=form, failure=None), status


@bp.post("/logout")
@signed_in
def logout() -> ResponseReturnValue:
    services.sign_out(current_user._get_current_object())
    db.session.commit()
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("accounts.login"))


@bp.post("/keep-alive")
@signed_in
def keep_alive() -> ResponseReturnValue:
    """"Stay signed in": a post is activity (respite.accounts.signins.note_activity), and nothing else happens."""
    return "", 204


@bp.route("/account", methods=["GET", "POST"])
@roles_required(*ACCOUNT_ROLES)
def account() -> ResponseReturnValue:
    user: User = current_user._get_current_object()
    form = AccountForm(obj=user, current_user_id=user.id)
    if form.validate_on_submit():
        changed = services.update_account(user, filled(form.display_name), filled(form.email), form.timezone.data)
        db.session.commit()
        keep_this_sign_in(user)  # a new email ended every sign-in but this one
        if changed:
            flash("Your account details are saved.", "success")
        else:
            flash("Nothing changed.", "info")
        return redirect(url_for("accounts.account"))
    status = 422 if form.errors else 200
    return render_template("accounts/account.html", form=form, password_form=PasswordChangeForm()), status


@bp.post("/account/password")
@roles_required(*ACCOUNT_ROLES)
@limiter.limit(_setting("PASSWORD_CHANGE_LIMIT"), key_func=lambda: f"user:{current_user.id}")
def change_password() -> ResponseReturnValue:
    user: User = current_user._get_current_object()
    password_form = PasswordChangeForm()
    if password_form.validate_on_submit():
        try:
            services.change_password(user, filled(password_form.current_password), filled(password_form.new_password))
        except services.AccountError as error:
            db.session.commit()  # the failed attempt's audit row
            password_form[error.field].errors.append(str(error))
        else:
            db.session.commit()
            keep_this_sign_in(user)  # every other sign-in has ended
            flash("Your password is changed. You are signed out everywhere else.", "success")
            return redirect(url_for("accounts.account"))
    form = AccountForm(obj=user, current_user_id=user.id)
    return render_template("accounts/account.html", form=form, password_form=password_form), 422


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
@limiter.limit(_setting("INVITATION_LIMIT"))
def invitation(token: str) -> ResponseReturnValue:
    user = services.user_for_invitation(token)
    if user is None:
        abort(404)
    form = SetPasswordForm()
    if form.validate_on_submit():
        services.accept_invitation(user, filled(form.password))
        db.session.commit()
        if current_user.is_authenticated:
            logout_user()
        start_sign_in(user)
        flash(f"Welcome, {user.display_name}. Your password is set.", "success")
        return redirect(url_for("dashboards.home"))
    status = 422 if form.errors else 200
    return render_template("accounts/invitation.html", form=form, invited=user), status
