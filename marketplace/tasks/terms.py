"""The confidentiality terms providers accept before reading a task's details.

A task's terms version is the hash of these terms together with the task's
confidential material, so changing either makes a new version that providers
must accept again.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

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


def terms_hash(*, confidential_details: str, attachments: list[dict[str, Any]]) -> str:
    """The version hash of the terms as they apply to this confidential material."""
    material = json.dumps(
        {"terms": TERMS_TEXT, "details": confidential_details, "attachments": attachments},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(material.encode()).hexdigest()
