from django import forms
from django.utils.translation import gettext_lazy as _


class ZhForm(forms.Form):
    """A form whose labels end with the full-width colon Chinese text uses."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", _("："))
        super().__init__(*args, **kwargs)
