"""The domain model, one module per area; import every table from here (`from respite.models import User`).

Models hold data and small derived facts (a display name, a session's
length). Rules that change state live in each domain's services; the schema
itself is created by the Alembic migrations under migrations/.
"""

from .accounts import (
    CaregiverProfile,
    CaregiverType,
    Center,
    EmailLink,
    EmailLinkPurpose,
    ProviderProfile,
    RecoveryCode,
    Role,
    User,
)
from .audit import AuditLog
from .base import UTCDateTime, utcnow
from .care import CARE_CARD_LIST_FIELDS, CARE_CARD_TEXT_FIELDS, CareCardAcknowledgement, CareCardVersion, CareRecipient
from .kiosk import Handover, HandoverConfirmation, HandoverKind, KioskDevice, KioskPairing
from .messaging import Attachment, Conversation, Message, Participant
from .notices import Notice, NoticeKind, NoticePreference
from .program import ProgramSettings
from .scheduling import (
    Assignment,
    AssignmentStatus,
    Availability,
    AvailabilityKind,
    LocationKind,
    RespiteSession,
    SessionStatus,
    VisitNote,
)

# Used by the seed and tests to count rows without importing each model.
ALL_MODELS = (
    User,
    EmailLink,
    RecoveryCode,
    Center,
    CaregiverProfile,
    CareRecipient,
    CareCardVersion,
    CareCardAcknowledgement,
    ProviderProfile,
    Availability,
    RespiteSession,
    Assignment,
    VisitNote,
    KioskDevice,
    KioskPairing,
    Handover,
    Conversation,
    Participant,
    Message,
    Attachment,
    Notice,
    NoticePreference,
    ProgramSettings,
    AuditLog,
)

__all__ = [
    "ALL_MODELS",
    "Assignment",
    "AssignmentStatus",
    "Attachment",
    "CARE_CARD_LIST_FIELDS",
    "CARE_CARD_TEXT_FIELDS",
    "CareCardAcknowledgement",
    "EmailLink",
    "EmailLinkPurpose",
    "Handover",
    "HandoverConfirmation",
    "HandoverKind",
    "KioskDevice",
    "KioskPairing",
    "RecoveryCode",
    "CareCardVersion",
    "AuditLog",
    "Availability",
    "AvailabilityKind",
    "CareRecipient",
    "CaregiverProfile",
    "CaregiverType",
    "Center",
    "Conversation",
    "LocationKind",
    "Message",
    "Notice",
    "NoticeKind",
    "NoticePreference",
    "Participant",
    "ProgramSettings",
    "ProviderProfile",
    "RespiteSession",
    "Role",
    "SessionStatus",
    "User",
    "UTCDateTime",
    "VisitNote",
    "utcnow",
]
