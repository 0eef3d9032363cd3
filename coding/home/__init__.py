"""Home infusion coding (``setting: home``): per-diem S-codes, nursing visits and Medicare HIT G-codes.

- :mod:`coding.home.lines`: the lines of a course of home therapy.
"""

from coding.home.lines import (
    hit_categories,
    hit_day_kinds,
    home_lines,
    nursing_addon_units,
)

__all__ = ["hit_categories", "hit_day_kinds", "home_lines", "nursing_addon_units"]
