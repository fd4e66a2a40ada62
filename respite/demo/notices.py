"""A few notices, as the changes in the demo data would have left them: the family's session confirmed, and the
home visit the family called off, told to Marcus (its provider) and to the coordinator with its reason."""

from datetime import datetime, timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import LocationKind, Notice, NoticeKind, RespiteSession, SessionStatus, User
from ..notices.services import span
from .accounts import People
from .scheduling import Sessions


def seed(people: People, sessions: Sessions, now: datetime) -> None:
    rosa = people.users["caregiver@demo.respite.test"]
    marcus = people.users["provider@demo.respite.test"]
    dana = people.users["coordinator@demo.respite.test"]
    confirmed = sessions.confirmed
    called_off = db.session.scalars(
        select(RespiteSession).where(
            RespiteSession.caregiver_id == people.rosa.id,
            RespiteSession.status == SessionStatus.CANCELLED,
            RespiteSession.location_kind == LocationKind.HOME,
        )
    ).one()
    person = confirmed.recipient.full_name

    def notice(
        reader: User,
        kind: NoticeKind,
        text: str,
        actor: User,
        session: RespiteSession,
        hours_ago: float,
        read: bool = False,
    ) -> Notice:
        at = now - timedelta(hours=hours_ago)
        return Notice(
            user=reader,
            kind=kind,
            text=text,
            actor_id=actor.id,
            session_id=session.id,
            created_at=at,
            read_at=at + timedelta(minutes=20) if read else None,
        )

    cancelled = (
        f"{rosa.display_name} cancelled {person}'s session on {span(called_off, marcus)}: {called_off.status_reason}"
    )
    db.session.add_all(
        [
            notice(
                marcus,
                NoticeKind.CONFIRMED,
                f"{dana.display_name} assigned you {person}'s session on {span(confirmed, marcus)}.",
                dana,
                confirmed,
                50,
                read=True,
            ),
            notice(
                rosa,
                NoticeKind.CONFIRMED,
                f"{dana.display_name} confirmed {confirmed.recipient.first_name}'s session on "
                f"{span(confirmed, rosa)}: {marcus.display_name} will give it.",
                dana,
                confirmed,
                50,
            ),
            notice(marcus, NoticeKind.CANCELLED, cancelled, rosa, called_off, 5),
            notice(dana, NoticeKind.CANCELLED, cancelled, rosa, called_off, 5),
        ]
    )
    db.session.flush()
