"""Demo care recipients, with their care cards."""

from dataclasses import dataclass
from datetime import date

from ..care import services as care
from ..models import CareRecipient
from .accounts import People


@dataclass
class Families:
    elena: CareRecipient
    lily: CareRecipient


def seed(people: People) -> Families:
    rosa = people.users["caregiver@demo.respite.test"]
    james = people.users["caregiver2@demo.respite.test"]
    elena = care.add_recipient(
        rosa, people.rosa, first_name="Elena", last_name="Martinez", date_of_birth=date(1941, 3, 9)
    )
    care.save_care_card(
        rosa,
        elena,
        {
            "needs": "Moderate Alzheimer's. Needs help standing up.",
            "mobility": "Walks with a frame; needs an arm on stairs.",
            "diet": "Soft food; tea with milk, no sugar.",
            "allergies": "Penicillin.",
            "routines": "Tea with milk at 3 pm. Likes the radio and photo albums. Naps after lunch.",
            "behaviours": "Can become anxious in the late afternoon: put on the radio and sit with her.",
            "communication": "Hard of hearing on the left; speak slowly, face her.",
            "medications": [
                {"name": "Donepezil", "dose": "10 mg", "times": "8 pm"},
                {"name": "Paracetamol", "dose": "500 mg", "times": "as needed, at most 4 a day"},
            ],
            "emergency_contacts": [
                {"name": "Rosa Martinez", "relationship": "Daughter", "phone": "555-0142"},
                {"name": "Dr. Patel", "relationship": "GP", "phone": "555-0100"},
            ],
            "authorised_people": [
                {"name": "Rosa Martinez", "relationship": "Daughter", "phone": "555-0142"},
                {"name": "Luis Martinez", "relationship": "Grandson", "phone": "555-0143"},
            ],
        },
    )
    lily = care.add_recipient(james, people.james, first_name="Lily", last_name="Chen", date_of_birth=date(2016, 7, 21))
    care.save_care_card(
        james,
        lily,
        {
            "needs": "Cerebral palsy; uses a wheelchair.",
            "mobility": "Two-person transfer with the hoist.",
            "diet": "Fed by G-tube at 12:00 and 16:00.",
            "allergies": "Latex.",
            "routines": "Loves music and the sensory room.",
            "communication": "Communicates with a tablet and signs.",
            "medications": [{"name": "Baclofen", "dose": "5 mg", "times": "noon, via G-tube"}],
            "emergency_contacts": [
                {"name": "James Chen", "relationship": "Father", "phone": "555-0178"},
                {"name": "Mei Chen", "relationship": "Mother", "phone": "555-0179"},
            ],
            "authorised_people": [
                {"name": "James Chen", "relationship": "Father", "phone": "555-0178"},
                {"name": "Mei Chen", "relationship": "Mother", "phone": "555-0179"},
            ],
        },
    )
    return Families(elena=elena, lily=lily)
