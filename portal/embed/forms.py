from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import Length


class OriginForm(FlaskForm):
    origin = StringField("Host application origin", validators=[Length(max=300)])


class JwksForm(FlaskForm):
    jwks_url = StringField("JWKS URL (optional)", validators=[Length(max=500)])


class AutoAddForm(FlaskForm):
    auto_add = BooleanField("Add the named person to this hub as a participant on their first launch")


class UploadLimitForm(FlaskForm):
    upload_max_mb = StringField("Largest file members may upload, in MB", validators=[Length(max=12)])
