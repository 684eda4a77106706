"""What a file is, judged from its bytes (never from the client's word), and a safe name."""

from __future__ import annotations

import codecs
import os
import unicodedata

import filetype

#: Bytes read to judge a file (filetype needs at most 8 KiB).
HEAD_BYTES = 8192
_TEXT_CONTROLS = {"\t", "\n", "\r", "\f"}


def _is_text(head: bytes) -> bool:
    """UTF-8 (a character cut at the end of the sample is fine) with no control characters
    but tabs, line and page breaks."""
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return not any(unicodedata.category(ch) == "Cc" and ch not in _TEXT_CONTROLS for ch in text)


def sniff(head: bytes, *, name: str) -> str:
    """The content type of a file whose first bytes are `head`. Text is `text/csv` when its
    name says so (both are harmless text), else `text/plain`; unknown binary is
    `application/octet-stream`."""
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    if head.startswith(b"{\\rtf"):
        return "application/rtf"
    if head and _is_text(head):
        return "text/csv" if name.lower().endswith(".csv") else "text/plain"
    return "application/octet-stream"


def safe_name(raw: str | None) -> str:
    """The client's file name with any directories, control characters and leading dots
    removed, at most 255 characters; `file` when nothing is left. Only shown, never a path."""
    name = (raw or "").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = unicodedata.normalize("NFC", name).strip().lstrip(".").strip()
    if len(name) > 255:
        stem, ext = os.path.splitext(name)
        name = stem[: 255 - len(ext[:20])] + ext[:20]
    return name or "file"
