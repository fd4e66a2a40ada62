"""Email: services queue messages in the transaction; they are sent only after it commits.

With `MAIL_SERVER` set, messages go out by SMTP. Without it (development, the
zero-set-up default) each message is written to `instance/mail/` as an
`.eml` file and its address and subject are logged, and outside production
its text too, so a person running the app locally can open the link it
carries.
"""

import logging
import smtplib
import time
from email.message import EmailMessage
from pathlib import Path

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db

log = logging.getLogger(__name__)

_PENDING = "respite.pending_mail"


def send_after_commit(to: str, subject: str, body: str) -> None:
    """Queue a plain-text message for when the current transaction commits (a rollback drops it)."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    db.session.connection()  # a transaction is open, so a rollback fires the hook that drops the message
    db.session.info.setdefault(_PENDING, []).append(message)


def outbox_folder() -> Path:
    return Path(current_app.instance_path) / "mail"


def deliver(message: EmailMessage) -> None:
    """Send one message now: by SMTP when a server is configured, else into the instance folder."""
    config = current_app.config
    if config.get("MAIL_SERVER"):
        with smtplib.SMTP(config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=10) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            smtp.send_message(message)
        return
    folder = outbox_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{time.time_ns()}.eml"
    path.write_bytes(bytes(message))
    log.info("mail to %s: %s (%s)", message["To"], message["Subject"], path)
    if not config["PRODUCTION"]:  # in development the console shows the link too
        log.info("%s", message.get_content())


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    for message in session.info.pop(_PENDING, None) or []:
        try:
            deliver(message)
        except (OSError, smtplib.SMTPException):  # the change stands; the person can ask for the link again
            log.exception("could not send mail to %s: %s", message["To"], message["Subject"])


@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, *args: object) -> None:
    session.info.pop(_PENDING, None)
