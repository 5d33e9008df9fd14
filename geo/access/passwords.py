"""Password hashing with Argon2id (argon2-cffi), parameters stated once here.

The parameters are RFC 9106's second recommended option ("low memory": Argon2id, t=3,
m=64 MiB, p=4, 16-byte salt, 32-byte hash), argon2-cffi's own defaults: one hash takes about
0.1–0.2 s on a 2-core server, so a sign-in stays well under 0.5 s while a stolen table costs an
attacker the same per guess. A hash made with weaker parameters is rehashed at the next
sign-in.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import RFC_9106_LOW_MEMORY

#: The hasher every account uses (Argon2id, t=3, m=65536 KiB, p=4).
HASHER = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)

#: The parameters, as said in the README and the benchmark.
PARAMETERS = (
    f"Argon2id t={HASHER.time_cost} m={HASHER.memory_cost} KiB p={HASHER.parallelism} "
    f"salt={HASHER.salt_len} B hash={HASHER.hash_len} B"
)

#: A hash of nothing anyone knows: checked when the account does not exist, so that
#: unknown and known names take the same time.
_DUMMY = HASHER.hash("\x00gridgov-no-such-account\x00")


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password`` (PHC string, salt included)."""
    return HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (``None``: no account; the time is the same)."""
    try:
        return HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` was made with other parameters than :data:`HASHER`'s."""
    try:
        return HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True
