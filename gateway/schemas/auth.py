"""Sign-up, sign-in, tokens and the caller's own account."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from gateway.schemas.common import (
    NAME_MAX,
    PHONE_MAX,
    TOKEN_MAX,
    ChangesSchema,
    EmailAddress,
    InputSchema,
    Secret,
    new_password,
    password,
    text,
)
from gateway.schemas.users import UserSchema


class RegisterSchema(InputSchema):
    """A customer signing up."""

    email = EmailAddress(required=True)
    name = text(NAME_MAX, required=True)
    password = new_password(required=True)
    phone = text(PHONE_MAX, allow_none=True)


class LoginSchema(InputSchema):
    """E-mail and password."""

    email = EmailAddress(required=True)
    password = password(required=True)


class RefreshTokenSchema(InputSchema):
    """A refresh token to exchange for a new pair."""

    refresh_token = Secret(required=True, validate=validate.Length(max=TOKEN_MAX))


class LogoutSchema(InputSchema):
    """Optionally, the refresh token whose session (family) to revoke."""

    refresh_token = Secret(validate=validate.Length(max=TOKEN_MAX))


class UpdateProfileSchema(ChangesSchema):
    """What callers may change on their own account."""

    name = text(NAME_MAX)
    phone = text(PHONE_MAX, allow_none=True)


class ChangePasswordSchema(InputSchema):
    """The current password and the new one."""

    current_password = password(required=True)
    new_password = new_password(required=True)


class ForgotPasswordSchema(InputSchema):
    """Where to send a reset link."""

    email = EmailAddress(required=True)


class ResetPasswordSchema(InputSchema):
    """A reset token (from the e-mail) and the new password."""

    token = Secret(required=True, validate=validate.Length(max=TOKEN_MAX))
    new_password = new_password(required=True)


class TokenPairSchema(Schema):
    """What signing in answers."""

    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds the access token is valid."})
    user = fields.Nested(UserSchema, required=True)
