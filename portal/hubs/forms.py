from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from portal.accounts.forms import email_field
from portal.inputs import PortalForm, Required, SelectField, TextField, VisibleText
from portal.models import Plan, Role

ROLE_CHOICES = [SelectChoice(role.value, role.label) for role in Role]
PLAN_CHOICES = [SelectChoice(plan.value, plan.label) for plan in Plan]
NAME_LENGTH = "The hub name needs 2 to 120 characters."


class HubGeneralForm(PortalForm):
    name = TextField(
        "Hub name",
        validators=[
            Required("Enter a name for the hub."),
            VisibleText("Enter a name for the hub: it has no visible characters."),
            Length(min=2, max=120, message=NAME_LENGTH),
        ],
    )


class PlanForm(PortalForm):
    plan = SelectField("Plan", choices=PLAN_CHOICES, invalid_choice_message="Choose one of the plans in the list.")


class AddMemberForm(PortalForm):
    email = email_field("Email", "Enter the email address of the person to add.")
    role = SelectField(
        "Role",
        choices=ROLE_CHOICES,
        default=Role.PARTICIPANT.value,
        invalid_choice_message="Choose a role from the list.",
    )


class MemberRoleForm(PortalForm):
    role = SelectField("Role", choices=ROLE_CHOICES, invalid_choice_message="Choose a role from the list.")
