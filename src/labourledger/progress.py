"""How long operations report their progress: the library calls, a front end draws.

`import`, `anchor`, `sync`, `verify` and `doctor` take an optional `progress`
callable and call it as real work finishes with `(done, total)` in the units of that
work (rows stored, proofs computed and stored, chain events read, entries checked,
checks run). The CLI turns the calls into a rich progress bar; a script may log them.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress"]

Progress = Callable[[int, int], None]
"""Called with (units done so far, units in all) as work proceeds."""
