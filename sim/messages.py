"""Text from input files and names shown safely in one-line messages."""

from __future__ import annotations

import unicodedata


def printable(text: str, limit: int = 200) -> str:
    """`text` with control, format and line-separator characters escaped, cut to `limit` characters.

    A scenario name holding NUL, a newline or a right-to-left override is shown as `\\x00`,
    `\\n`, `\\u202e`, so an error message is one honest line.
    """
    out = []
    for char in text[:limit]:
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn") and char != " ":
            out.append(char.encode("unicode_escape").decode("ascii"))
        else:
            out.append(char)
    return "".join(out) + ("..." if len(text) > limit else "")
