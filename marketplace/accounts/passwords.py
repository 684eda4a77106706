"""Password rules and hashing: what a password must be, and how it is stored (Argon2id)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from marketplace.errors import BusinessRuleViolation

MIN_PASSWORD_LENGTH = 10
# zxcvbn's 0-4 scale: 0 and 1 are the passwords tried first (common ones and their variants).
MIN_PASSWORD_SCORE = 2
ZXCVBN_MAX_LENGTH = 72
_hasher = PasswordHasher()
# Verified against when there is no account, so an unknown address answers as slowly.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def check_password_strength(password: str, email: str) -> None:
    """At least 10 characters, not blank, not the e-mail address, and not easy to guess
    (zxcvbn's estimate: common passwords, keyboard walks, repeats, the e-mail's words)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    lowered = password.strip().lower()
    local_part = email.split("@")[0].lower()
    if not lowered:
        problems.append("The password must not be blank.")
    elif lowered in {email.lower(), local_part}:
        problems.append("The password must not be your e-mail address.")
    elif len(password) >= MIN_PASSWORD_LENGTH:
        problems.extend(_guessability_problems(password, [email, local_part]))
    if problems:
        raise BusinessRuleViolation("The password is too weak.", details={"password": problems})


def _guessability_problems(password: str, user_inputs: list[str]) -> list[str]:
    # zxcvbn refuses passwords longer than it is built to score; their start is scored.
    result = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=user_inputs)
    if result["score"] >= MIN_PASSWORD_SCORE:
        return []
    feedback = result["feedback"]
    hint = " ".join(part for part in (feedback["warning"], *feedback["suggestions"][:1]) if part)
    return [f"This password is too easy to guess. {hint}".strip()]


def hash_password(password: str) -> str:
    """Argon2id hash of a password."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches the hash; with no hash, a stand-in is verified (and fails)."""
    try:
        _hasher.verify(password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)
