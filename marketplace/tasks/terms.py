"""The confidentiality terms providers accept before reading a task's details.

What a provider accepts is identified by two things: the hash of these terms'
text (public, so anyone can check which text they agreed to) and the task's
terms version, a counter the task raises whenever its confidential material
changes. A change to either needs a new acceptance. The hash covers the terms
text only: a hash over the details themselves would let anyone guess them.
"""

from __future__ import annotations

import functools
import hashlib

TERMS_TEXT = """\
Confidentiality terms (marketplace standard, v1)

1. The client's instructions, procedures, data descriptions and attachments for
   this task ("Confidential Information") are disclosed only so that you can
   decide whether to bid and, if you are hired, do the work.
2. You will not disclose Confidential Information to anyone except members of
   your firm who need it for this task and are bound by equal terms.
3. You will not copy, keep or use Confidential Information for any other
   purpose, and you will delete it when the client asks or the task ends.
4. These duties last for three years after you accept them, and for trade
   secrets and personal data for as long as the law protects them.
5. The marketplace records when, from where and which version of these terms
   you accepted, and every time you read the Confidential Information.
"""


def terms_text() -> str:
    """The current standard terms."""
    return TERMS_TEXT


def terms_hash() -> str:
    """The SHA-256 of the current terms' text (every task's page shows it)."""
    return _sha256(TERMS_TEXT)


@functools.cache
def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
