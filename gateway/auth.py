"""JWT access and refresh tokens (HS256 only) and the ``require_auth`` guard for views.

Access tokens live 15 minutes and carry the user's id, role, e-mail, department (``dept``) and
organization (``org``), so a request is authorised, and a service told who asks, without an RPC. A
deactivation, a role, department, organization or password change revokes the user's earlier access
tokens at once: ``gateway.revocation`` tells every worker, and ``TokenService.verify`` refuses a token
issued (``iat``, with sub-second precision) before the user's revocation. Refresh tokens live 7 days and
name a refresh-token family kept by the users service (``jti``, ``fam``): the service spends each ``jti``
once, revokes the whole family when a spent one comes back, and ends a family 30 days after its sign-in.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypedDict

import jwt
from flask import current_app, g, request
from flask_smorest import Blueprint

from gateway.errors import InvalidToken
from gateway.revocation import RevocationStore
from helpdesk_contracts.errors import PermissionDenied
from helpdesk_contracts.vocabulary import ADMIN, AGENT, CUSTOMER, MANAGER_ROLES, ROLES, STAFF_ROLES, SUPERVISOR  # noqa: F401

log = logging.getLogger(__name__)

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "typ", "jti"]
MIN_SECRET_BYTES = 32
BEARER_SCHEME = "bearerAuth"

# the roles are the shared vocabulary; STAFF and MANAGERS are the gateway's names for its groups
STAFF = STAFF_ROLES
MANAGERS = MANAGER_ROLES
ADMINS = (ADMIN,)


class CurrentUser(TypedDict):
    """The signed-in caller, read from the access token."""

    id: str
    role: str
    email: str | None
    department_id: str | None
    organization_id: str | None


class Actor(TypedDict):
    """The caller as every service RPC that acts for a user receives it (``actor=``)."""

    id: str
    role: str
    department_id: str | None
    organization_id: str | None
    via: str


ACTOR_VIA = "gateway"


class TokenService:
    """Issue and verify the gateway's tokens."""

    def __init__(
        self,
        *,
        secret: str,
        issuer: str,
        audience: str,
        access_ttl: int,
        refresh_ttl: int,
        clock: Callable[[], float] = time.time,
        revocations: RevocationStore | None = None,
    ):
        self._secret = secret
        self.revocations = revocations
        self.issuer = issuer
        self.audience = audience
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self._clock = clock
        self._verified: dict[str, dict[str, Any]] = {}  # access token -> its claims, once the signature checked
        self._verified_lock = threading.Lock()

    def issue_access_token(self, user: dict[str, Any]) -> str:
        """Return a signed access token for a user dict of the users service."""
        now = self._clock()
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user["id"]),
            "typ": "access",
            "jti": uuid.uuid4().hex,
            "iat": now,  # fractional (RFC 7519 allows it): compared with revocations to the microsecond
            "exp": int(now) + self.access_ttl,
            "role": user["role"],
        }
        if user.get("email"):
            claims["email"] = user["email"]
        if user.get("department_id"):
            claims["dept"] = str(user["department_id"])
        if user.get("organization_id"):
            claims["org"] = str(user["organization_id"])
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def issue_refresh_token(self, *, user_id: str, jti: str, family_id: str, expires_at: str | None = None) -> str:
        """Return a signed refresh token for a session the users service started or rotated."""
        now = int(self._clock())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user_id),
            "typ": "refresh",
            "jti": str(jti),
            "fam": str(family_id),
            "iat": now,
            "exp": _epoch_seconds(expires_at, fallback=now + self.refresh_ttl),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def token_pair(self, user: dict[str, Any], session: dict[str, Any]) -> dict[str, Any]:
        """Return the login answer: both tokens, their type and lifetime, and the user."""
        return {
            "access_token": self.issue_access_token(user),
            "refresh_token": self.issue_refresh_token(
                user_id=user["id"],
                jti=session["jti"],
                family_id=session["family_id"],
                expires_at=session.get("expires_at"),
            ),
            "token_type": "Bearer",
            "expires_in": self.access_ttl,
            "user": user,
        }

    VERIFIED_CACHE_SIZE = 10_000

    def verify(self, token: str, *, token_type: str, verify_exp: bool = True) -> dict[str, Any]:
        """Return the claims of a valid token of ``token_type``; raise ``InvalidToken`` otherwise.

        An access token is sent with every request of a session: once its signature and claims checked,
        they are remembered (at most ``VERIFIED_CACHE_SIZE`` tokens per process), and a later request
        with the same token only has its expiry and its user's revocation checked again.
        """
        cacheable = token_type == "access" and verify_exp
        if cacheable:
            claims = self._verified.get(token)
            if claims is not None:
                if claims["exp"] > time.time():
                    self._check_not_revoked(claims)
                    return claims
                with self._verified_lock:
                    self._verified.pop(token, None)
                raise InvalidToken("The token has expired.")
        claims = self._decode(token, token_type=token_type, verify_exp=verify_exp)
        if token_type == "access":
            self._check_not_revoked(claims)
        if cacheable and isinstance(claims.get("exp"), int | float):
            with self._verified_lock:
                if len(self._verified) >= self.VERIFIED_CACHE_SIZE:
                    self._verified.clear()  # a crude bound: the next requests verify their tokens again
                self._verified[token] = claims
        return claims

    def _check_not_revoked(self, claims: dict[str, Any]) -> None:
        issued_at = claims.get("iat")
        if self.revocations is not None and isinstance(issued_at, int | float):
            if self.revocations.refuses(str(claims.get("sub")), float(issued_at)):
                raise InvalidToken("The token was revoked; sign in again.")

    def _decode(self, token: str, *, token_type: str, verify_exp: bool) -> dict[str, Any]:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": REQUIRED_CLAIMS, "verify_exp": verify_exp},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("The token has expired.") from None
        except jwt.InvalidTokenError as exc:
            log.info("rejected a %s token: %s", token_type, exc)
            raise InvalidToken("The token is invalid.") from None
        if claims.get("typ") != token_type:
            log.info("rejected a %r token where a %s token was expected", claims.get("typ"), token_type)
            raise InvalidToken("The token is invalid.")
        return claims


def _epoch_seconds(expires_at: str | None, *, fallback: int) -> int:
    if not expires_at:
        return fallback
    try:
        moment = datetime.fromisoformat(expires_at)
    except (TypeError, ValueError):
        log.warning("unreadable session expiry %r; using the default refresh lifetime", expires_at)
        return fallback
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def tokens() -> TokenService:
    """Return the token service of the current app."""
    return current_app.extensions["gateway.tokens"]


def bearer_token() -> str:
    """Return the token of the request's ``Authorization: Bearer`` header."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("Authentication required: send 'Authorization: Bearer <access token>'.")
    return token.strip()


def authenticate() -> CurrentUser:
    """Return the caller named by the request's access token."""
    claims = tokens().verify(bearer_token(), token_type="access")
    role = claims.get("role")
    if role not in ROLES:
        log.info("rejected an access token with role %r", role)
        raise InvalidToken("The token is invalid.")
    email = claims.get("email")
    department_id, organization_id = claims.get("dept"), claims.get("org")
    if not isinstance(department_id, str | None) or not isinstance(organization_id, str | None):
        log.info("rejected an access token with a malformed dept/org claim")
        raise InvalidToken("The token is invalid.")
    return CurrentUser(
        id=claims["sub"],
        role=role,
        email=email if isinstance(email, str) else None,
        department_id=department_id,
        organization_id=organization_id,
    )


def current_user() -> CurrentUser:
    """Return the caller that ``require_auth`` authenticated for this request."""
    return g.current_user


def current_actor() -> Actor:
    """Return the caller as the ``actor`` argument of a service RPC (from ``require_auth``'s user)."""
    user = current_user()
    return Actor(
        id=user["id"],
        role=user["role"],
        department_id=user["department_id"],
        organization_id=user["organization_id"],
        via=ACTOR_VIA,
    )


def require_auth(roles: Iterable[str] | None = None):
    """Guard a view: 401 without a valid access token, 403 when the caller's role is not in ``roles``.

    Apply it right under ``blp.route`` so it runs before the body is parsed. Sets ``g.current_user``
    (``{id, role, email, department_id, organization_id}``) and documents the bearer requirement in the OpenAPI spec.
    """
    allowed = frozenset(roles) if roles is not None else None
    if allowed is not None and not allowed <= set(ROLES):
        raise ValueError(f"unknown roles: {sorted(allowed - set(ROLES))}")

    def decorator(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            user = authenticate()
            g.current_user = user
            if allowed is not None and user["role"] not in allowed:
                raise PermissionDenied("You do not have permission to do this.")
            return view(*args, **kwargs)

        return Blueprint.doc(security=[{BEARER_SCHEME: []}])(guarded)

    return decorator
