"""Web users: add, list, disable, authenticate; API tokens; who may do what.

Passwords are hashed with scrypt (memory-hard, in the standard library); API tokens are 256
random bits, so a plain sha256 of them is enough to look them up without storing them.
Roles are ordered: viewer < reviewer < approver < admin. Approvers exist for the four-eyes
rule: money leaves the normal path (a large write-off, the reversal of posted cash) only when
a second person agrees.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from reconciler import journal
from reconciler.db.base import utcnow
from reconciler.db.users import ApiTokenRow, LoginAttemptRow, UserRow
from reconciler.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError

ROLES: tuple[str, ...] = ("viewer", "reviewer", "approver", "admin")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
MIN_PASSWORD_LENGTH = 8
# scrypt cost: 2**14 iterations, 16 MiB of memory: about 50 ms per login on a small server.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: str
    active: bool
    created_at: dt.datetime

    @property
    def actor(self) -> str:
        return f"user:{self.name}"

    def has_role(self, role: str) -> bool:
        return role_rank(self.role) >= role_rank(role)


def role_rank(role: str) -> int:
    try:
        return ROLES.index(role)
    except ValueError:
        raise InputError(f"unknown role {role!r} (known: {', '.join(ROLES)})") from None


# --- passwords -------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P,
                            dklen=32)
    salt_text, digest_text = base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt_text}${digest_text}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest_b64)
        digest = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt_b64), n=int(n),
                                r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# A fixed hash to compare against when the user does not exist, so that a login for an
# unknown name takes as long as one with a wrong password (no user enumeration by timing).
_DUMMY_HASH = hash_password(secrets.token_hex(8))


# --- users -----------------------------------------------------------------------------------


def _record(row: UserRow) -> User:
    return User(id=row.id, name=row.name, role=row.role, active=row.active,
                created_at=row.created_at)


def add_user(session: Session, name: str, role: str, password: str, *, actor: str) -> User:
    if not _NAME.match(name):
        raise InputError(f"user name {name!r}: use letters, digits and . _ @ - (max 100)")
    role_rank(role)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
        raise ConflictError(f"user {name!r} exists already")
    row = UserRow(name=name, role=role, password_hash=hash_password(password), active=True)
    session.add(row)
    session.flush()
    journal.record(session, actor=actor, action="user.added", subject=f"user:{name}",
                   data={"role": role})
    return _record(row)


def list_users(session: Session) -> list[User]:
    return [_record(r) for r in session.scalars(select(UserRow).order_by(UserRow.name))]


def get_user(session: Session, user_id: int) -> User | None:
    row = session.get(UserRow, user_id)
    return _record(row) if row is not None else None


def find_user(session: Session, name: str) -> User:
    row = session.scalar(select(UserRow).where(UserRow.name == name))
    if row is None:
        raise NotFoundError(f"no user {name!r}")
    return _record(row)


def disable_user(session: Session, name: str, *, actor: str) -> User:
    row = session.scalar(select(UserRow).where(UserRow.name == name))
    if row is None:
        raise NotFoundError(f"no user {name!r}")
    if not row.active:
        raise ConflictError(f"user {name!r} is disabled already")
    row.active = False
    row.disabled_at = utcnow()
    # A disabled user's tokens stop working too: machine access dies with the person's.
    session.execute(update(ApiTokenRow).where(ApiTokenRow.user_id == row.id).values(revoked=True))
    journal.record(session, actor=actor, action="user.disabled", subject=f"user:{name}")
    return _record(row)


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The active user with this name and password, else None (same cost either way)."""
    row = session.scalar(select(UserRow).where(UserRow.name == name))
    if row is None:
        check_password(password, _DUMMY_HASH)
        return None
    if not check_password(password, row.password_hash) or not row.active:
        return None
    return _record(row)


# --- login throttling ------------------------------------------------------------------------


def record_login_attempt(session: Session, name: str, remote: str, *, success: bool) -> None:
    session.add(LoginAttemptRow(name=name[:100], remote=remote[:64], success=success))
    if success:
        journal.record(session, actor=f"user:{name}", action="user.login",
                       subject=f"user:{name}", data={"remote": remote})


def is_login_throttled(session: Session, name: str, remote: str, per_minute: int) -> bool:
    """True when this address or this user name failed `per_minute` times in the last minute."""
    since = utcnow() - dt.timedelta(minutes=1)
    failures = select(func.count()).select_from(LoginAttemptRow).where(
        LoginAttemptRow.at >= since, LoginAttemptRow.success.is_(False))
    by_remote = session.scalar(failures.where(LoginAttemptRow.remote == remote)) or 0
    by_name = session.scalar(failures.where(LoginAttemptRow.name == name)) or 0
    return max(by_remote, by_name) >= per_minute


# --- API tokens ------------------------------------------------------------------------------


def create_token(session: Session, name: str, *, actor: str, label: str = "") -> str:
    """A new bearer token for `name`; the value is shown once and stored only hashed."""
    row = session.scalar(select(UserRow).where(UserRow.name == name))
    if row is None:
        raise NotFoundError(f"no user {name!r}")
    if not row.active:
        raise ConflictError(f"user {name!r} is disabled")
    token = "recon_" + secrets.token_urlsafe(32)
    session.add(ApiTokenRow(user_id=row.id, token_hash=_token_hash(token), label=label))
    journal.record(session, actor=actor, action="user.token_created", subject=f"user:{name}",
                   data={"label": label})
    return token


def authenticate_token(session: Session, token: str) -> User | None:
    found = session.execute(
        select(ApiTokenRow, UserRow).join(UserRow, UserRow.id == ApiTokenRow.user_id)
        .where(ApiTokenRow.token_hash == _token_hash(token))
    ).first()
    if found is None:
        return None
    token_row, user_row = found
    if token_row.revoked or not user_row.active:
        return None
    token_row.last_used_at = utcnow()
    return _record(user_row)


# --- who may do what -------------------------------------------------------------------------


def require_role(user: User, role: str, what: str) -> None:
    if not user.has_role(role):
        raise PermissionDeniedError(f"{what} needs the {role} role; {user.name} is {user.role}")


def authorize_write_off(user: User, amount: Decimal, limit: Decimal) -> None:
    """A write-off above the limit is money given away: an approver must make it."""
    if abs(amount) > limit:
        require_role(user, "approver", f"a write-off of {amount:f} (limit {limit:f})")


def authorize_reversal(user: User, applied_by: str, proposed_by: str | None) -> None:
    """Reversing posted cash needs an approver who neither applied nor proposed it."""
    require_role(user, "approver", "reversing an application")
    if user.actor in (applied_by, proposed_by):
        raise PermissionDeniedError(
            f"four-eyes rule: {user.name} applied or proposed this and may not reverse it")
