"""What the account services take (conventions in marketplace.inputs)."""

from __future__ import annotations

from dataclasses import dataclass

from marketplace.inputs import UNSET, Unset


@dataclass(frozen=True, kw_only=True)
class AccountChanges:
    """New values for the signed-in user's own account; UNSET fields stay.
    `email_opt_out` replaces the list of notification kinds not to e-mail."""

    name: str | Unset = UNSET
    timezone: str | Unset = UNSET
    email_opt_out: tuple[str, ...] | Unset = UNSET
