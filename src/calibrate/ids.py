"""Unified social credit codes (统一社会信用代码, GB 32100-2015).

An 18-character code: registration authority (1), entity type (1), administrative division
(6), organisation code (9) and one check character. Only the check character and the alphabet
are validated here — that catches typos and truncated Excel cells, which is what goes wrong in
practice. Lives at layer 0 because both the data loader and the synthetic generator need it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["USCC_ALPHABET", "is_valid_uscc", "make_uscc", "uscc_check_char"]

#: The 31 characters allowed in a code (I, O, Z, S, V are never used).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = np.array(
    [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64
)

# byte value -> position in the alphabet, -1 for characters that may not appear
_LOOKUP = np.full(256, -1, dtype=np.int64)
for _i, _c in enumerate(USCC_ALPHABET):
    _LOOKUP[ord(_c)] = _i


def _check_index(idx17: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Alphabet position of the check character of each row of 17 alphabet positions."""
    return (31 - (idx17 * _WEIGHTS).sum(axis=1) % 31) % 31


def uscc_check_char(body17: str) -> str:
    """Return the check character for the first 17 characters of a code.

    Parameters
    ----------
    body17 : str
        The first 17 characters, all from :data:`USCC_ALPHABET`.
    """
    if len(body17) != 17 or any(c not in USCC_ALPHABET for c in body17):
        raise ValueError(f"need 17 characters from {USCC_ALPHABET!r}, got {body17!r}")
    idx = np.array([[USCC_ALPHABET.index(c) for c in body17]], dtype=np.int64)
    return USCC_ALPHABET[int(_check_index(idx)[0])]


def is_valid_uscc(codes: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Vectorised check of many codes at once.

    Parameters
    ----------
    codes : array-like of str
        Candidate codes; anything that is not an 18-character string from the alphabet
        (including missing values) is invalid.

    Returns
    -------
    numpy.ndarray of bool
    """
    values = np.asarray(codes, dtype=object)
    out = np.zeros(values.shape[0], dtype=bool)
    is18 = np.fromiter(
        (isinstance(v, str) and len(v) == 18 and v.isascii() for v in values),
        dtype=bool,
        count=values.shape[0],
    )
    if not is18.any():
        return out
    raw = "".join(values[is18].tolist()).encode("ascii")
    chars = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
    idx = _LOOKUP[chars]
    alphabet_ok = (idx >= 0).all(axis=1)
    expected = _check_index(idx[:, :17])
    out[is18] = alphabet_ok & (expected == idx[:, 17])
    return out


def make_uscc(rng: np.random.Generator, n: int, *, division: str = "330303") -> list[str]:
    """Generate ``n`` distinct, valid codes for synthetic enterprises.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness (the caller's seeded generator, so output is reproducible).
    n : int
        How many codes.
    division : str
        Six-digit administrative division code (default 330303, Longwan district, Wenzhou).
    """
    prefix = "91" + division
    head = _LOOKUP[np.frombuffer(prefix.encode("ascii", "replace"), dtype=np.uint8)]
    if len(prefix) != 8 or (head < 0).any():
        raise ValueError(f"need 17 characters from {USCC_ALPHABET!r}, got {prefix + '0' * 9!r}")
    alphabet = np.frombuffer(USCC_ALPHABET.encode("ascii"), dtype=np.uint8)
    codes: list[str] = []
    seen: set[str] = set()
    while len(codes) < n:
        need = n - len(codes)
        bodies = rng.integers(0, 31, size=(need, 9))
        idx = np.hstack([np.broadcast_to(head, (need, 8)), bodies])
        full = np.hstack([idx, _check_index(idx)[:, None]])
        text = np.ascontiguousarray(alphabet[full]).view("S18").ravel().astype("U18")
        for code in text.tolist():
            if code not in seen:
                seen.add(code)
                codes.append(code)
    return codes
