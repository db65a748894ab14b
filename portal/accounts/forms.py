from portal.inputs import EmailField, MaxLength, PasswordField, PortalForm, Required

EMAIL_MAX = 320  # the longest address the database keeps (RFC 5321's limit)
PASSWORD_MAX = 1024  # hashing a megabyte "password" would cost the server, not the attacker


def email_field(label: str, missing: str) -> EmailField:
    """An email field: required (``missing`` says what to enter) and no longer than the database keeps."""
    return EmailField(
        label,
        validators=[
            Required(missing),
            MaxLength(EMAIL_MAX, "An email address has at most {limit} characters; this one has {length}."),
        ],
    )


class SignInForm(PortalForm):
    email = email_field("Email", "Enter the email address you sign in with.")
    password = PasswordField(
        "Password",
        validators=[
            Required("Enter your password."),
            MaxLength(PASSWORD_MAX, "A password has at most {limit} characters; this one has {length}."),
        ],
    )


class EmptyForm(PortalForm):
    """One-click actions (sign out, remove) are tiny forms that carry only the CSRF token."""
