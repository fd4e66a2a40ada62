"""The matching pages' small forms: which provider, the session's version as the page showed it, and reasons.

Each form only parses what was posted; whether the change can happen is the
transition's to say (respite.scheduling.assignments).
"""

from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from ..scheduling.services import REASON_LIMIT
from ..web.converters import MAX_ID
from ..web.forms import Form


class _VersionedForm(Form):
    """The session's version when the page was drawn: a change made since is refused, not overwritten."""

    version = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(min=0, max=MAX_ID)])

    def expected_version(self) -> int | None:
        return self.version.data if isinstance(self.version.data, int) else None


class ChooseProviderForm(_VersionedForm):
    """Assign or offer: the provider chosen from the suggestions."""

    provider_id = IntegerField(
        widget=HiddenInput(),
        validators=[InputRequired("Choose a provider."), NumberRange(min=1, max=MAX_ID, message="Choose a provider.")],
    )


class ReassignForm(_VersionedForm):
    """Give a confirmed session to another provider; the one taken off it reads the reason."""

    provider_id = IntegerField(
        "New provider",
        validators=[
            InputRequired("Choose who takes the session over."),
            NumberRange(min=1, max=MAX_ID, message="Choose who takes the session over."),
        ],
    )
    reason = StringField(
        "Reason (optional, shared with the provider taken off it)",
        validators=[Optional(), Length(max=REASON_LIMIT)],
    )


class DeclineRequestForm(_VersionedForm):
    """The program can't provide the session: the family reads why."""

    reason = StringField(
        "Reason (shared with the family)",
        validators=[DataRequired("Say why, so the family knows what to do next."), Length(max=REASON_LIMIT)],
    )


class WithdrawOfferForm(_VersionedForm):
    """Take back an offer the provider hasn't answered."""


class TakeRequestForm(_VersionedForm):
    """A provider takes an open request that fits them."""


class AcceptOfferForm(Form):
    """A provider accepts the session offered to them (the CSRF token is all it carries)."""


class DeclineOfferForm(Form):
    """A provider can't take the session offered to them; the coordinators read why."""

    reason = StringField(
        "Why you can't take it (shared with the coordinators)",
        validators=[
            DataRequired("Say why you can't take it, so a coordinator can find someone else."),
            Length(max=REASON_LIMIT),
        ],
    )
