"""Demo care recipients, with their care cards."""

from dataclasses import dataclass
from datetime import date

from ..extensions import db
from ..models import CareRecipient
from .accounts import People


@dataclass
class Families:
    elena: CareRecipient
    lily: CareRecipient


def seed(people: People) -> Families:
    elena = CareRecipient(
        caregiver=people.rosa,
        first_name="Elena",
        last_name="Martinez",
        date_of_birth=date(1941, 3, 9),
        needs="Moderate Alzheimer's. Needs help standing up; walks with a frame.",
        medications="Donepezil 10 mg at 8 pm. Paracetamol as needed.",
        allergies="Penicillin.",
        routines="Tea with milk at 3 pm. Likes the radio and photo albums. Naps after lunch.",
        emergency_contacts="Rosa Martinez (daughter) 555-0142; Dr. Patel 555-0100",
    )
    lily = CareRecipient(
        caregiver=people.james,
        first_name="Lily",
        last_name="Chen",
        date_of_birth=date(2016, 7, 21),
        needs="Cerebral palsy; uses a wheelchair. Communicates with a tablet and signs.",
        medications="Baclofen 5 mg at noon via G-tube.",
        allergies="Latex.",
        routines="Feeds at 12:00 and 16:00. Loves music and the sensory room.",
        emergency_contacts="James Chen (father) 555-0178; Mei Chen (mother) 555-0179",
    )
    db.session.add_all([elena, lily])
    return Families(elena=elena, lily=lily)
