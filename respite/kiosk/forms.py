"""The front desk's forms: pairing a tablet, the session code, who hands the person over; and the coordinators'
pairing code and staff PIN. What the service checks (codes, PINs, the list) it checks itself."""

from typing import Any

from wtforms import HiddenField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..web.forms import Form
from .services import DEVICE_NAME_LIMIT, PERSON_NAME_LIMIT, RELATIONSHIP_LIMIT, SOMEONE_ELSE


class PairForm(Form):
    code = StringField(
        "Pairing code",
        validators=[DataRequired("Type the pairing code a coordinator gave you."), Length(max=20)],
        description="Eight letters and numbers, from the Kiosks page of a coordinator.",
        render_kw={"autocapitalize": "characters", "spellcheck": "false"},
    )


class CodeForm(Form):
    code = StringField(
        "Six-digit code",
        validators=[DataRequired("Type the six-digit code."), Length(max=20)],
        description="It is on the session's page in Respite, on the family's phone.",
        render_kw={"inputmode": "numeric"},
    )


class HandoverForm(Form):
    """Who is at the desk: one of the care card's list, or someone else (with a staff member's PIN)."""

    ticket = HiddenField()
    person = RadioField(validators=[DataRequired("Choose who is here.")])
    name = StringField("Their full name", validators=[Optional(), Length(max=PERSON_NAME_LIMIT)])
    relationship = StringField("Who they are to the family", validators=[Optional(), Length(max=RELATIONSHIP_LIMIT)])
    pin = PasswordField("Staff PIN", validators=[Optional(), Length(max=20)], render_kw={"inputmode": "numeric"})

    def __init__(self, *args: Any, people: list[dict[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.person.choices = [
            (
                str(index),
                f"{person['name']} ({person['relationship']})" if person.get("relationship") else person["name"],
            )
            for index, person in enumerate(people)
        ] + [(SOMEONE_ELSE, "Someone else")]


class PairingForm(Form):
    center_id = SelectField("Center", coerce=int)
    device_name = StringField(
        "Name of the tablet",
        default="Front desk",
        validators=[DataRequired("Name the tablet, e.g. Front desk."), Length(max=DEVICE_NAME_LIMIT)],
    )

    def __init__(self, *args: Any, centers: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.center_id.choices = centers


class StaffPinForm(Form):
    center_id = SelectField("Center", coerce=int)
    pin = PasswordField(
        "New staff PIN",
        validators=[DataRequired("Type the new PIN: 4 to 8 digits."), Length(max=20)],
        description="4 to 8 digits. Staff type it at the center's kiosks to let someone not on a family's list "
        "drop off or collect; tell it only to staff.",
    )

    def __init__(self, *args: Any, centers: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.center_id.choices = centers
