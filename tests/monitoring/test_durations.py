"""Times on the monitoring pages read as spans of days, hours and minutes, in the user's language."""

import pytest
from django.utils import translation

from monitoring.templatetags.durations import duration


@pytest.mark.parametrize(("seconds", "shown"), [
    (None, ""), (0, "0 s"), (44.6, "45 s"), (60, "1 min"), (3599, "59 min"), (3600, "1 h 0 min"),
    (11_520, "3 h 12 min"), (163_549, "1 d 21 h"), (90 * 86400, "90 d 0 h"),
])
def test_a_span_shows_its_two_largest_units(seconds, shown):
    assert duration(seconds) == shown


def test_a_span_reads_in_chinese_for_a_chinese_user():
    with translation.override("zh-hans"):
        assert duration(163_549) == "1 天 21 小时"
