"""Forms of the identity pages: support's email change."""

from portal.accounts.forms import EMAIL_MAX
from portal.inputs import EmailField, MaxLength, PortalForm, Required


class EmailChangeForm(PortalForm):
    email = EmailField(
        "New email",
        validators=[
            Required("Enter the new email address."),
            MaxLength(EMAIL_MAX, "An email address has at most {limit} characters; this one has {length}."),
        ],
    )
