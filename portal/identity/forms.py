"""Forms of the identity pages: support's email change."""

from portal.accounts.forms import email_field
from portal.inputs import PortalForm


class EmailChangeForm(PortalForm):
    email = email_field("New email", "Enter the new email address.")
