"""Routes for signing up, in and out, invitations and the account page."""

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from flask_login import current_user, logout_user

from ..extensions import db, limiter
from ..models import EmailLinkPurpose, Role, User
from ..web.access import public, roles_required, signed_in
from ..web.errors import record_refusal
from . import services, twofactor
from .forms import (
    AccountForm,
    CurrentPasswordForm,
    ForgotPasswordForm,
    PasswordChangeForm,
    SecondStepForm,
    SetPasswordForm,
    SignInForm,
    SignUpForm,
    TurnOnTwoFactorForm,
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


def _link_used(purpose: EmailLinkPurpose, token: str, message: str | None = None) -> ResponseReturnValue:
    """A used, replaced, withdrawn, expired or made-up emailed link: audited as a refusal, and a page that says
    which, and what to do (`message`: the refusal of a service that found it spent meanwhile)."""
    refusal = services.link_refusal(purpose, token)
    record_refusal(
        "access.link_refused",
        "An emailed link that is used, expired or made up",
        purpose=str(purpose),
        reason=refusal.reason,
    )
    return render_template("accounts/link_used.html", purpose=purpose, message=message or refusal.message), 404


@bp.route("/signup/confirm/<token>", methods=["GET", "POST"])
@public
@limiter.limit(_setting("INVITATION_LIMIT"), methods=["POST"])
def confirm_sign_up(token: str) -> ResponseReturnValue:
    """The emailed link: a button makes the account (a mail scanner opening the link makes nothing)."""
    link = services.link_for(EmailLinkPurpose.SIGN_UP, token)
    if link is None:
        return _link_used(EmailLinkPurpose.SIGN_UP, token)
    if request.method == "POST":
        try:
            user = services.confirm_sign_up(link)
        except services.AccountError as error:
            db.session.rollback()
            return _link_used(EmailLinkPurpose.SIGN_UP, token, str(error))
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
        return _link_used(EmailLinkPurpose.RESET, token)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.reset_password(link, filled(form.password))
        except services.AccountError as error:
            db.session.rollback()
            return _link_used(EmailLinkPurpose.RESET, token, str(error))
        db.session.commit()
        if current_user.is_authenticated:
            logout_user()
        if user.has_two_factor:  # the mailbox stands in for the password only, never for the second step
            _await_second_step(user, next_path=None)
            flash("Your new password is set. Now the code from your authenticator app.", "success")
            return redirect(url_for("accounts.second_step"))
        start_sign_in(user)
        flash("Your new password is set. Every other sign-in of your account has ended.", "success")
        return redirect(url_for("dashboards.home"))
    status = 422 if form.errors else 200
    return render_template("accounts/reset_password.html", form=form, link=link), status


def _await_second_step(user: User, next_path: str | None) -> None:
    """The password's step is done: this browser may give the code for a few minutes (and nothing else)."""
    session.clear()
    session[PENDING_SECOND_STEP] = {"user": user.id, "at": int(time.time()), "next": next_path}


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
        if result.user is not None and result.user.has_two_factor:
            _await_second_step(result.user, next_path=_safe_next(request.args.get("next")))
            return redirect(url_for("accounts.second_step"))
        if result.user is not None:
            start_sign_in(result.user)
            flash(f"Signed in as {result.user.display_name}.", "success")
            return redirect(_safe_next(request.args.get("next")) or url_for("dashboards.home"))
        form.password.data = ""
        return render_template("accounts/login.html", form=form, failure=generic_failure()), 401
    status = 422 if form.errors else 200
    return render_template("accounts/login.html", form=form, failure=None), status


# --- Two-step sign-in ------------------------------------------------------------------------------

PENDING_SECOND_STEP = "second_step"
SECOND_STEP_SECONDS = 300  # the password's step is good for this long


def _pending_user() -> User | None:
    pending = session.get(PENDING_SECOND_STEP)
    if not isinstance(pending, dict) or time.time() - int(pending.get("at", 0)) > SECOND_STEP_SECONDS:
        return None
    user = db.session.get(User, int(pending.get("user", 0)))
    return user if user is not None and user.is_active and user.has_two_factor else None


def _pending_account() -> str:
    pending = session.get(PENDING_SECOND_STEP)
    return f"second-step:{pending.get('user') if isinstance(pending, dict) else get_remote_address()}"


@bp.route("/login/code", methods=["GET", "POST"])
@public
@limiter.limit(_setting("SECOND_STEP_LIMIT"), key_func=_pending_account, methods=["POST"], deduct_when=_failed)
def second_step() -> ResponseReturnValue:
    user = _pending_user()
    if user is None:
        session.pop(PENDING_SECOND_STEP, None)
        flash("Please sign in again: the code must follow the password within five minutes.", "info")
        return redirect(url_for("accounts.login"))
    form = SecondStepForm()
    if form.validate_on_submit():
        if twofactor.check_second_step(user, filled(form.code)):
            services.complete_sign_in(user)
            db.session.commit()
            target = session[PENDING_SECOND_STEP].get("next")
            start_sign_in(user)
            flash(f"Signed in as {user.display_name}.", "success")
            return redirect(target or url_for("dashboards.home"))
        db.session.commit()  # the failure's audit row
        form["code"].errors.append("That code doesn't work. Use the newest code from the app, or a recovery code.")
        return render_template("accounts/second_step.html", form=form), 401
    status = 422 if form.errors else 200
    return render_template("accounts/second_step.html", form=form), status


# A secret offered while setting up, kept in the signed session until a code confirms it.
NEW_SECRET = "new_totp_secret"  # noqa: S105 (the session key's name)


@bp.route("/account/two-step", methods=["GET", "POST"])
@roles_required(*ACCOUNT_ROLES)
def two_factor() -> ResponseReturnValue:
    """Turn two-step sign-in on (a new secret in the session until a code confirms it), or see it is on."""
    user: User = current_user._get_current_object()
    if user.has_two_factor:
        return render_template(
            "accounts/two_factor.html",
            user=user,
            left=twofactor.recovery_codes_left(user),
            password_form=CurrentPasswordForm(),
            required=twofactor.required_for(user),
        )
    secret = session.get(NEW_SECRET) or twofactor.new_secret()
    session[NEW_SECRET] = secret
    form = TurnOnTwoFactorForm()
    if form.validate_on_submit():
        try:
            codes = twofactor.turn_on(user, secret, filled(form.code), filled(form.current_password))
        except twofactor.TwoFactorError as error:
            db.session.commit()  # a wrong password's audit row
            form[error.field].errors.append(str(error))
        else:
            db.session.commit()
            keep_this_sign_in(user)
            session.pop(NEW_SECRET, None)
            flash("Two-step sign-in is on. Keep these recovery codes somewhere safe.", "success")
            return render_template("accounts/recovery_codes.html", codes=codes)
    status = 422 if form.errors else 200
    return (
        render_template(
            "accounts/two_factor_setup.html",
            form=form,
            secret=secret,
            qr_code=twofactor.qr_code(user, secret),
            required=twofactor.required_for(user),
        ),
        status,
    )


@bp.post("/account/two-step/recovery-codes")
@roles_required(*ACCOUNT_ROLES)
def new_recovery_codes() -> ResponseReturnValue:
    user: User = current_user._get_current_object()
    form = CurrentPasswordForm()
    if not user.has_two_factor:
        return redirect(url_for("accounts.two_factor"))
    if form.validate_on_submit():
        try:
            codes = twofactor.replace_recovery_codes(user, filled(form.current_password))
        except twofactor.TwoFactorError as error:
            db.session.commit()
            form["current_password"].errors.append(str(error))
        else:
            db.session.commit()
            return render_template("accounts/recovery_codes.html", codes=codes)
    return _two_factor_refused(user, form)


@bp.post("/account/two-step/off")
@roles_required(*ACCOUNT_ROLES)
def two_factor_off() -> ResponseReturnValue:
    user: User = current_user._get_current_object()
    form = CurrentPasswordForm()
    if form.validate_on_submit():
        try:
            twofactor.turn_off(user, filled(form.current_password))
        except twofactor.TwoFactorError as error:
            db.session.commit()
            form["current_password"].errors.append(str(error))
        else:
            db.session.commit()
            keep_this_sign_in(user)
            flash("Two-step sign-in is off.", "info")
            return redirect(url_for("accounts.account"))
    return _two_factor_refused(user, form)


def _two_factor_refused(user: User, form: CurrentPasswordForm) -> ResponseReturnValue:
    return (
        render_template(
            "accounts/two_factor.html",
            user=user,
            left=twofactor.recovery_codes_left(user),
            password_form=form,
            required=twofactor.required_for(user),
        ),
        422,
    )


def require_two_factor() -> ResponseReturnValue | None:
    """Before each request: someone whose role requires two-step sign-in sets it up before anything else."""
    if not current_user.is_authenticated or current_user.has_two_factor or not twofactor.required_for(current_user):
        return None
    if request.endpoint in TWO_FACTOR_SETUP_ENDPOINTS:
        return None
    flash("Your role signs in in two steps. Set it up to continue: it takes a minute.", "info")
    return redirect(url_for("accounts.two_factor"))


TWO_FACTOR_SETUP_ENDPOINTS = frozenset(
    {"accounts.two_factor", "accounts.logout", "accounts.keep_alive", "static", "realtime.stream"}
)


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
    """ "Stay signed in": a post is activity (respite.accounts.signins.note_activity), and nothing else happens."""
    return "", 204


@bp.route("/account", methods=["GET", "POST"])
@roles_required(*ACCOUNT_ROLES)
def account() -> ResponseReturnValue:
    user: User = current_user._get_current_object()
    form = AccountForm(obj=user, current_user_id=user.id)
    if form.validate_on_submit():
        try:
            changed = services.update_account(
                user,
                filled(form.display_name),
                filled(form.email),
                form.timezone.data,
                current_password=form.current_password.data or "",
            )
        except services.AccountError as error:
            db.session.commit()  # the refusal's audit row
            form[error.field or "email"].errors.append(str(error))
            return render_template("accounts/account.html", form=form, password_form=PasswordChangeForm()), 422
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
    """An invitation's link: the invited person chooses their password; a spent one says how it was spent."""
    link = services.invitation_for(token)
    if link is None or link.user is None:
        return _link_used(EmailLinkPurpose.INVITATION, token)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(link, filled(form.password))
        except services.AccountError as error:
            db.session.rollback()
            return _link_used(EmailLinkPurpose.INVITATION, token, str(error))
        db.session.commit()
        if current_user.is_authenticated:
            logout_user()
        start_sign_in(user)
        flash(f"Welcome, {user.display_name}. Your password is set.", "success")
        return redirect(url_for("dashboards.home"))
    status = 422 if form.errors else 200
    return render_template("accounts/invitation.html", form=form, invited=link.user), status
