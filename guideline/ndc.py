"""National Drug Codes in one form: the 11-digit 5-4-2 code that claims use, whatever form a chart wrote."""

from __future__ import annotations

import re

# The three 10-digit layouts, by where the hyphens fall, and the zero each needs to reach 5-4-2. Some pharmacy systems
# print spaces where the hyphens go ("0406 0512 01"); one separator throughout, never a mix.
_HYPHENATED = re.compile(r"^(\d{4,5})([- ])(\d{3,4})\2(\d{1,2})$")


def ndc11(code: str | None) -> str | None:
    """The 11-digit form of an NDC ("0406-0512-01", "0406 0512 01" and "00406-0512-01" are "00406051201"); None when
    the text is no NDC or its layout is ambiguous (ten digits without separators could be any of three layouts)."""
    if not code:
        return None
    text = code.strip()
    parts = _HYPHENATED.match(text)
    if parts:
        labeler, _, product, package = parts.groups()
        if len(labeler) + len(product) + len(package) not in (10, 11):
            return None
        return labeler.zfill(5) + product.zfill(4) + package.zfill(2)
    if len(text) == 11 and text.isdigit():
        return text
    return None
