"""``/api/v1/auth``: sign-up, sign-in, token rotation, sign-out and the caller's own account."""

from __future__ import annotations

from gateway.api.blueprint import Blueprint
from gateway.auth import current_user, require_auth, tokens
from gateway.envelope import success
from gateway.idempotency import idempotent
from gateway.ratelimit import PER_ACCOUNT, PER_ACCOUNT_AND_ADDRESS, rate_limited
from gateway.rpc import rpc
from gateway.schemas.auth import (
    ChangePasswordSchema,
    ForgotPasswordSchema,
    LoginSchema,
    LogoutSchema,
    RefreshTokenSchema,
    RegisterSchema,
    ResetPasswordSchema,
    TokenPairSchema,
    UpdateProfileSchema,
)
from gateway.schemas.common import MessageEnvelopeSchema, envelope
from gateway.schemas.users import UserSchema
from helpdesk_contracts.errors import InvalidCredentials, NotFound, PermissionDenied, ValidationFailed

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sign-up, sign-in, tokens and your account.")

FORGOT_PASSWORD_MESSAGE = "If an account exists for that e-mail, a reset link is on its way."


@blp.route("/register", methods=["POST"])
@rate_limited("REGISTER_RATE_LIMIT")
@blp.arguments(RegisterSchema)
@blp.response(201, envelope(TokenPairSchema))
@blp.error(409, "An account with this e-mail exists already.")
@idempotent
def register(payload):
    """Sign up as a customer and sign in."""
    user = rpc().call("users", "register_customer", payload)
    session = rpc().call("users", "start_session", user["id"])
    return success(tokens().token_pair(user, session), "Account created.")


@blp.route("/login", methods=["POST"])
@rate_limited("LOGIN_ADDRESS_RATE_LIMIT")
@rate_limited("LOGIN_ACCOUNT_RATE_LIMIT", per=PER_ACCOUNT, failures_only=True)
@rate_limited("LOGIN_RATE_LIMIT", per=PER_ACCOUNT_AND_ADDRESS, failures_only=True)
@blp.arguments(LoginSchema)
@blp.response(200, envelope(TokenPairSchema))
def login(payload):
    """Sign in with e-mail and password; get an access token and a refresh token."""
    user = rpc().call("users", "authenticate", payload["email"], payload["password"])
    session = rpc().call("users", "start_session", user["id"])
    return success(tokens().token_pair(user, session), "Signed in.")


@blp.route("/refresh-token", methods=["POST"])
@blp.arguments(RefreshTokenSchema)
@blp.response(200, envelope(TokenPairSchema))
def refresh_token(payload):
    """Exchange a refresh token for a new pair; a refresh token works once (reuse signs the session out)."""
    claims = tokens().verify(payload["refresh_token"], token_type="refresh")
    rotated = rpc().call("users", "rotate_refresh_token", claims["jti"])
    return success(tokens().token_pair(rotated["user"], rotated), "Tokens refreshed.")


@blp.route("/logout", methods=["POST"])
@require_auth()
@blp.arguments(LogoutSchema)
@blp.response(200, MessageEnvelopeSchema)
def logout(payload):
    """Sign out: revoke the session of the given refresh token (the access token expires by itself)."""
    if "refresh_token" in payload:
        # An expired refresh token still names a session worth revoking.
        claims = tokens().verify(payload["refresh_token"], token_type="refresh", verify_exp=False)
        if claims["sub"] != current_user()["id"]:
            raise PermissionDenied("This refresh token belongs to another account.")
        rpc().call("users", "revoke_session", claims["jti"])
    return success(None, "Signed out.")


@blp.route("/me", methods=["GET"])
@require_auth()
@blp.response(200, envelope(UserSchema))
def me():
    """Return the signed-in user."""
    return success(rpc().call("users", "get_user", current_user()["id"]))


@blp.route("/update-profile", methods=["PUT"])
@require_auth()
@blp.arguments(UpdateProfileSchema)
@blp.response(200, envelope(UserSchema))
def update_profile(changes):
    """Change your own name or phone."""
    return success(rpc().call("users", "update_profile", current_user()["id"], changes), "Profile updated.")


@blp.route("/change-password", methods=["PUT"])
@require_auth()
@blp.arguments(ChangePasswordSchema)
@blp.response(200, MessageEnvelopeSchema)
def change_password(payload):
    """Change your password; every session is signed out, so sign in again."""
    try:
        rpc().call(
            "users", "change_password", current_user()["id"], payload["current_password"], payload["new_password"]
        )
    except InvalidCredentials:
        # A 401 here would read as "your token is bad" to clients and sign the user out.
        message = "The current password is wrong."
        raise ValidationFailed(message, {"current_password": [message]}) from None
    return success(None, "Password changed. Sign in again with the new password.")


@blp.route("/forgot-password", methods=["POST"])
@rate_limited("PASSWORD_RESET_RATE_LIMIT")
@blp.arguments(ForgotPasswordSchema)
@blp.response(200, MessageEnvelopeSchema)
def forgot_password(payload):
    """Ask for a password reset link by e-mail; the answer is the same whether the account exists or not."""
    try:
        rpc().call("users", "request_password_reset", payload["email"])
    except NotFound:  # the contract says the service answers alike; never let a 404 tell otherwise
        pass
    return success(None, FORGOT_PASSWORD_MESSAGE)


@blp.route("/reset-password", methods=["POST"])
@rate_limited("PASSWORD_RESET_RATE_LIMIT")
@blp.arguments(ResetPasswordSchema)
@blp.response(200, MessageEnvelopeSchema)
def reset_password(payload):
    """Set a new password with the token from the reset e-mail; every session is signed out."""
    rpc().call("users", "reset_password", payload["token"], payload["new_password"])
    return success(None, "Password reset. Sign in with the new password.")
