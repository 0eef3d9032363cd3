"""X12 text in general, for every transaction: tokenizing, splitting and safe output text.

- :mod:`edi.x12.tokenizer`: the streaming tokenizer (any separators, BOM, wrapped segments).
- :mod:`edi.x12.split`: splitting a file into independently valid pieces.
- :mod:`edi.x12.text`: text safety for output (no value can break the structure).
"""

from edi.x12.tokenizer import (
    DEFAULT_SEPARATORS,
    Segment,
    Separators,
    X12Tokenizer,
    iter_segments,
)

__all__ = ["DEFAULT_SEPARATORS", "Segment", "Separators", "X12Tokenizer", "iter_segments"]
