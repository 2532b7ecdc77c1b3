"""How many SMS segments a text costs: what the practitioner sees before sending.

GSM-7 carries 160 characters in one message (153 per part when split); any character outside
it switches the whole message to UCS-2: 70 characters (67 per part). Characters of the GSM-7
extension table (such as € [ ] { }) take two places.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")


@dataclass(frozen=True, slots=True)
class SmsCost:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # characters as the network counts them
    segments: int

    @property
    def per_segment(self) -> int:
        single, multi = (160, 153) if self.encoding == "GSM-7" else (70, 67)
        return single if self.segments <= 1 else multi


def sms_cost(text: str) -> SmsCost:
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        units = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
        return SmsCost("GSM-7", units, _segments(units, 160, 153))
    # UCS-2 counts UTF-16 code units: characters beyond the BMP (emoji) take two.
    units = len(text.encode("utf-16-le")) // 2
    return SmsCost("UCS-2", units, _segments(units, 70, 67))


def _segments(units: int, single: int, multi: int) -> int:
    if units == 0:
        return 0
    if units <= single:
        return 1
    return -(-units // multi)
