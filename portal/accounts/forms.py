from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired


class SignInForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter the email address you sign in with.")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])


class EmptyForm(FlaskForm):
    """One-click actions (sign out, remove) are tiny forms that carry only the CSRF token."""
