from wtforms.fields.choices import SelectChoice

from portal.inputs import PortalForm, SelectField
from portal.status.services import HEALTH, SORTS


class DashboardForm(PortalForm):
    """The support dashboard's filter and sort, read from the query string (a GET form, no CSRF token)."""

    class Meta:
        csrf = False

    problem = SelectField(
        "Show",
        choices=[SelectChoice("", "Every hub"), *(SelectChoice(key, label) for key, label in HEALTH.items())],
        default="",
        invalid_choice_message="Choose one of the health states in the list.",
    )
    sort = SelectField(
        "Sort by",
        choices=[SelectChoice(key, label) for key, label in SORTS.items()],
        default="health",
        invalid_choice_message="Choose one of the sort orders in the list.",
    )
