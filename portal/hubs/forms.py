from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from portal.models import Plan, Role

ROLE_CHOICES = [SelectChoice(role.value, role.label) for role in Role]
PLAN_CHOICES = [SelectChoice(plan.value, plan.label) for plan in Plan]


class HubGeneralForm(FlaskForm):
    name = StringField(
        "Hub name",
        validators=[
            DataRequired("Enter a name for the hub."),
            Length(min=2, max=120, message="The hub name needs 2 to 120 characters."),
        ],
    )


class PlanForm(FlaskForm):
    plan = SelectField("Plan", choices=PLAN_CHOICES)


class AddMemberForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter the email address of the person to add.")])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.PARTICIPANT.value)


class MemberRoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)
