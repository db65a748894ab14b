from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from portal.models import UserIdMode

TOKEN_HINT = 'Paste the JSON that appToken.add returned, e.g. {"id": "0_abc12xyz", "token": "…", "partnerId": 123, …}.'


class KalturaForm(FlaskForm):
    service_url = SelectField("Kaltura region", choices=[], validate_choice=False)
    custom_service_url = StringField("Custom Kaltura host", validators=[Length(max=255)])
    client_token = TextAreaField("Client App Token", validators=[Length(max=64 * 1024)])
    server_token = TextAreaField("Server App Token", validators=[Length(max=64 * 1024)])
    user_id_mode = RadioField(
        "Kaltura user ids",
        choices=[SelectChoice(mode.value, mode.label) for mode in UserIdMode],
        default=UserIdMode.EMAIL.value,
    )


class CustomRuleForm(FlaskForm):
    custom_rule = StringField("Custom user-id rule", validators=[Length(max=200)])
