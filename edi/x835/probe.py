"""Can a path be read as an 835? (:func:`probe_835`, re-exported by :mod:`edi.x835.reader`).

Its own small module so the CLI can check its arguments without loading the reader and model.
"""

from __future__ import annotations

from pathlib import Path

from edi.x12.tokenizer import X12Tokenizer


def probe_835(path: str | Path) -> str | None:
    """Why ``path`` cannot be read as an 835 (a message naming the file), or None when it can.

    Reads only up to the first ST*835 (streaming), so the CLI can refuse a wrong file before it
    prints anything. I/O problems are reported, not raised.
    """
    p = Path(path)
    if not p.exists():
        return f"{path}: no such file"
    if p.is_dir():
        return f"{path}: is a directory, not an 835 file"
    try:
        with open(p, "rb"):
            pass
    except OSError as exc:
        return f"{path}: cannot be read ({exc.strerror or exc.__class__.__name__})"
    seen: list[str] = []
    try:
        for els, _, _ in X12Tokenizer(p, [], str(path)):
            if els[0] == "ST":
                st01 = els[1] if len(els) > 1 else ""
                if st01 == "835":
                    return None
                if st01 not in seen:
                    seen.append(st01[:6])
    except OSError as exc:
        return f"{path}: cannot be read ({exc.strerror or exc.__class__.__name__})"
    if seen:
        return f"{path}: not an 835 (transaction sets found: {', '.join(seen)})"
    return f"{path}: not an 835 (no ST*835 transaction set; not an X12 interchange?)"
