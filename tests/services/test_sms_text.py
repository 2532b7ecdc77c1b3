"""SMS segment counting."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.services.sms_text import GSM7_BASIC, sms_cost


@pytest.mark.parametrize("length,segments", [(0, 0), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3)])
def test_gsm7_segments(length, segments):
    cost = sms_cost("a" * length)
    assert (cost.encoding, cost.units, cost.segments) == ("GSM-7", length, segments)


@pytest.mark.parametrize("length,segments", [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_ucs2_segments(length, segments):
    cost = sms_cost("अ" * length)
    assert (cost.encoding, cost.segments) == ("UCS-2", segments)


def test_extension_characters_take_two_places():
    assert sms_cost("€[]").units == 6


def test_one_non_gsm_character_switches_the_whole_message():
    assert sms_cost("Hello ✓").encoding == "UCS-2"


def test_emoji_take_two_units():
    assert sms_cost("🙏").units == 2


@given(st.text(alphabet=sorted(GSM7_BASIC), max_size=2000))
def test_segments_always_hold_the_text(text):
    cost = sms_cost(text)
    assert cost.segments * cost.per_segment >= cost.units
    assert cost.segments == 0 or (cost.segments - 1) * cost.per_segment < cost.units
