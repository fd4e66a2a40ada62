"""The email choices form: one checkbox per kind of notice (the page shows the kinds the reader's role gets)."""

from wtforms import BooleanField

from ..models import NoticeKind
from ..web.forms import Form


class NoticeSettingsForm(Form):
    """Which notices also come by email; a field per NoticeKind, named by its value, labelled by its label."""

    def choices(self, kinds: tuple[NoticeKind, ...]) -> dict[NoticeKind, bool]:
        return {kind: bool(self[kind.value].data) for kind in kinds}


for _kind in NoticeKind:
    setattr(NoticeSettingsForm, _kind.value, BooleanField(_kind.label))
