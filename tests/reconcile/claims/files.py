"""Reading back the 837 files a build wrote: their segments and control numbers."""

from __future__ import annotations

from pathlib import Path


def segments(path: Path) -> list[list[str]]:
    """The file's segments, each split into its elements (``~`` and ``*`` separators)."""
    return [s.strip().split("*") for s in path.read_text().split("~") if s.strip()]


def control_numbers(files: list[Path]) -> dict[str, list[str]]:
    """ISA13, GS06, ST02, BHT03 and REF*6R of every file, in file and segment order."""
    out: dict[str, list[str]] = {"isa13": [], "gs06": [], "st02": [], "bht03": [], "6R": []}
    for f in files:
        for s in segments(f):
            if s[0] == "ISA":
                out["isa13"].append(s[13])
            elif s[0] == "GS":
                out["gs06"].append(s[6])
            elif s[0] == "ST":
                out["st02"].append(s[2])
            elif s[0] == "BHT":
                out["bht03"].append(s[3])
            elif s[0] == "REF" and s[1] == "6R":
                out["6R"].append(s[2])
    return out
