from wtforms.fields.choices import SelectChoice

from portal.inputs import MaxLength, PortalForm, RadioField, SelectField, TextAreaField, TextField
from portal.models import UserIdMode

TOKEN_HINT = 'Paste the JSON that appToken.add returned, e.g. {"id": "0_abc12xyz", "token": "…", "partnerId": 123, …}.'
# The column keeps 255 characters; a Kaltura service URL is a scheme and a host name, far shorter.
SERVICE_URL_TOO_LONG = (
    "This service URL has {length} characters; a Kaltura service URL is only the server's address, "
    "such as https://www.kaltura.com, and at most {limit} characters. Remove everything after the host name."
)
TOKEN_TOO_LONG = (
    "This paste has {length} characters; an App Token's JSON has a few hundred. Paste only the "
    "appToken.add response (at most {limit} characters)."
)


class KalturaForm(PortalForm):
    service_url = SelectField(
        "Kaltura region", choices=[], validate_choice=False, validators=[MaxLength(255, SERVICE_URL_TOO_LONG)]
    )
    custom_service_url = TextField("Custom Kaltura host", validators=[MaxLength(255, SERVICE_URL_TOO_LONG)])
    client_token = TextAreaField("Client App Token", validators=[MaxLength(64 * 1024, TOKEN_TOO_LONG)])
    server_token = TextAreaField("Server App Token", validators=[MaxLength(64 * 1024, TOKEN_TOO_LONG)])
    user_id_mode = RadioField(
        "Kaltura user ids",
        choices=[SelectChoice(mode.value, mode.label) for mode in UserIdMode],
        default=UserIdMode.EMAIL.value,
        invalid_choice_message="Choose how portal users become Kaltura user ids.",
    )


class CustomRuleForm(PortalForm):
    custom_rule = TextField(
        "Custom user-id rule",
        validators=[MaxLength(200, "A user-id rule has at most {limit} characters; this one has {length}.")],
    )
