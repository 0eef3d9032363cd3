"""Result-identical speed-ups for pyx12 4.0.0, applied only while our driver runs.

Measured hot spots of pyx12 on large claim files, each replaced by a memoized or pre-checked
version that returns exactly what pyx12 returns (tests/edi/validate/test_equivalence.py compares
every error with pyx12's own ``x12n_document``):

- the loop/segment counter re-formats every counted path on every loop reset -> string keys;
- ``Segment._parse_refdes`` parses the same designators millions of times -> memo per id;
- ``segment_if.get_child_node_by_idx`` / ``loop_if.__len__`` scan children -> memo per map node
  (maps never change once loaded);
- the control-character scan builds two dicts per element -> one regex pre-check;
- ``element_if.is_valid_errors`` (documented pure) -> remember values an element accepted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyx12.map_if
import pyx12.path
import pyx12.segment
import pyx12.validation
from pyx12.nodeCounter import NodeCounter


def _path_key(xpath: Any) -> str:
    """The string a pyx12 X12Path hashes by (memoized on the path objects of the cached maps)."""
    if isinstance(xpath, str):
        key = _STR_KEYS.get(xpath)
        if key is None:
            key = _STR_KEYS[xpath] = pyx12.path.X12Path(xpath).format()
        return key
    key = getattr(xpath, "_dripline_key", None)
    if key is None:
        key = xpath.format()
        xpath._dripline_key = key
    return key


_STR_KEYS: dict[str, str] = {}


class _FastCounter(NodeCounter):
    """pyx12's loop/segment counter with the same semantics, keyed by path strings.

    pyx12 re-formats every counted path on every loop reset (a third of its run time); this
    keeps the formatted keys instead. Same deletions, same counts.
    """

    def __init__(self) -> None:
        super().__init__()
        self._s: dict[str, int] = {}

    def reset_to_node(self, xpath: Any) -> None:
        key = _path_key(xpath)
        if key and not key.endswith("/"):  # same test as pyx12's part-by-part prefix comparison
            prefix = key + "/"
            doomed = [k for k in self._s if k.startswith(prefix)]
        else:
            root = key.split("/")
            n = len(root)
            doomed = [k for k in self._s if (parts := k.split("/")) and len(parts) > n and parts[:n] == root]
        for k in doomed:
            del self._s[k]

    def increment(self, xpath: Any) -> None:
        k = _path_key(xpath)
        self._s[k] = self._s.get(k, 0) + 1

    def setCount(self, xpath: Any, ct: int) -> None:
        self._s[_path_key(xpath)] = ct

    def get_count(self, xpath: Any) -> int:
        return self._s.get(_path_key(xpath), 0)


_REFDES: dict[tuple[str | None, str], tuple[int | None, int | None]] = {}
_ORIG = {
    "refdes": pyx12.segment.Segment._parse_refdes,
    "child": pyx12.map_if.segment_if.get_child_node_by_idx,
    "len": pyx12.map_if.loop_if.__len__,
    "ctrl": pyx12.validation.contains_control_character,
    "element": pyx12.map_if.element_if.is_valid_errors,
}
_MEMO_MAX = 4096  # valid values remembered per map element (names and ids stop being cached)
_CTRL = re.compile("[\x01-\x07\x09-\x0d\x11-\x17\x1c-\x1f]")


def _cached_parse_refdes(self: Any, ref_des: str) -> tuple[int | None, int | None]:
    """Segment._parse_refdes memoized by (segment id, designator): a pure function of both."""
    key = (self.seg_id, ref_des)
    hit = _REFDES.get(key)
    if hit is None:
        hit = _REFDES[key] = _ORIG["refdes"](self, ref_des)
    return hit


def _cached_child(self: Any, idx: int) -> Any:
    """segment_if.get_child_node_by_idx memoized per map node (maps never change once loaded)."""
    memo = self.__dict__.setdefault("_dripline_children", {})
    if idx not in memo:
        memo[idx] = _ORIG["child"](self, idx)  # raises exactly as pyx12 does
    return memo[idx]


def _cached_len(self: Any) -> int:
    """loop_if.__len__ memoized per map node."""
    n = self.__dict__.get("_dripline_len")
    if n is None:
        n = self.__dict__["_dripline_len"] = _ORIG["len"](self)
    return n


def _fast_control(str_val: str, charset: str = "B", icvn: str = "00401") -> tuple[bool, str | None]:
    """pyx12's control-character check, skipped when the value has none of those characters."""
    if _CTRL.search(str_val) is None:
        return (False, None)
    return _ORIG["ctrl"](str_val, charset, icvn)


def _cached_element_valid(self: Any, elem: Any, type_list: list[str | None] | None = None) -> tuple[bool, list]:
    """element_if.is_valid_errors (documented pure) skipped for a value this element already accepted."""
    if elem is None or elem.is_composite():
        return _ORIG["element"](self, elem, type_list)
    key = (elem.get_value(), tuple(type_list) if type_list else ())
    memo = self.__dict__.setdefault("_dripline_valid", set())
    if key in memo:
        return True, []
    ok, errors = _ORIG["element"](self, elem, type_list)
    if ok and not errors and key[0] and len(memo) < _MEMO_MAX:
        memo.add(key)
    return ok, errors


@contextmanager
def _accelerated() -> Iterator[None]:
    """Swap in result-identical memoized versions of pyx12 hot spots for one run, then restore.

    Outside our runs (e.g. :func:`plain_pyx12_pass`) pyx12 is untouched.
    """
    seg_cls, loop_cls = pyx12.map_if.segment_if, pyx12.map_if.loop_if
    pyx12.segment.Segment._parse_refdes = _cached_parse_refdes
    seg_cls.get_child_node_by_idx = _cached_child
    loop_cls.__len__ = _cached_len
    pyx12.validation.contains_control_character = _fast_control
    pyx12.map_if.element_if.is_valid_errors = _cached_element_valid
    try:
        yield
    finally:
        pyx12.segment.Segment._parse_refdes = _ORIG["refdes"]
        seg_cls.get_child_node_by_idx = _ORIG["child"]
        loop_cls.__len__ = _ORIG["len"]
        pyx12.validation.contains_control_character = _ORIG["ctrl"]
        pyx12.map_if.element_if.is_valid_errors = _ORIG["element"]
