from portal.inputs import DateField, MaxLength, PortalForm, SelectField, TextField


class AuditFilterForm(PortalForm):
    """The log's filters, read from the query string (a GET form, so no CSRF token)."""

    class Meta:
        csrf = False

    hub = SelectField("Hub", choices=[], default="", invalid_choice_message="Choose a hub from the list.")
    actor = TextField("Who", validators=[MaxLength(320, "Search for at most {limit} characters of an email address.")])
    action = SelectField("What", choices=[], default="", invalid_choice_message="Choose an event from the list.")
    since = DateField("From (UTC)")
    until = DateField("Until (UTC)")
