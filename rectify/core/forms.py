from django import forms


class ZhForm(forms.Form):
    """A form whose labels end with the full-width colon Chinese text uses."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "：")
        super().__init__(*args, **kwargs)
