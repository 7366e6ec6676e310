"""The bindings a formula is read under: every value of the index letters (and of a free layer letter) a parameter
or left side leaves free, or a seeded sample of them.

Kept apart from :mod:`derive.verify.read` because choosing which elements to build (all, a sample above
MAX_CHECKED, the layers a formula exists for) is its own bookkeeping, decided before any sympy value is built.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace

import numpy as np

from derive.engine.derivation import Derivation
from derive.verify import reading_roles
from derive.verify.reading import Reader
from derive.verify.reading_refs import FreeIndexError, LayerRangeError, Probe, ReadError
from derive.verify.syntax import FormulaError, Limits, Node

SEED = 0
MAX_CHECKED = Limits.CHECKED  # elements compared; above this a seeded sample


@dataclass
class _Envs:
    """The bindings of the letters a parameter leaves free: all of them, or a seeded sample of them.

    ``blocks`` are the bindings by layer (one block when no layer is free): the layer's binding and the
    index ranges; ``keys`` are each sampled binding's place among all of them.
    """

    blocks: list[tuple[dict[str, int], dict[str, int]]]
    keys: list[int] = field(default_factory=list)
    letter: str | None = None  # the free layer's letter

    @property
    def counts(self) -> list[int]:
        return [math.prod(ranges.values()) for _, ranges in self.blocks]

    @property
    def count(self) -> int:
        return sum(self.counts)

    @property
    def sampled(self) -> bool:
        return self.count > len(self.keys)

    @property
    def envs(self) -> list[dict[str, int]]:
        return [self.binding(k) for k in self.keys]

    def binding(self, key: int) -> dict[str, int]:
        """The key-th binding, in the order of itertools.product within each block (the last letter fastest)."""
        for (fixed, ranges), count in zip(self.blocks, self.counts, strict=True):
            if key < count:
                values: dict[str, int] = {}
                for letter in sorted(ranges, reverse=True):
                    key, rest = divmod(key, ranges[letter])
                    values[letter] = rest + 1
                return {**{letter: values[letter] for letter in sorted(ranges)}, **fixed}
            key -= count
        raise IndexError(key)

    def _kept(self, skipped: set[int]) -> list[tuple[int, int]]:
        """(first key, count) of each block whose layer the formula exists for."""
        starts = itertools.accumulate([0, *self.counts])
        blocks = zip(starts, self.counts, self.blocks, strict=False)
        return [(start, n) for start, n, (fixed, _) in blocks if fixed.get(self.letter or "") not in skipped]

    def total(self, skipped: set[int]) -> int:
        """How many bindings there are, leaving out the layers the formula does not exist for."""
        return sum(n for _, n in self._kept(skipped))

    def ends(self, skipped: set[int]) -> list[dict[str, int]]:
        """The first and the last binding, leaving out those layers."""
        kept = self._kept(skipped)
        return [self.binding(kept[0][0]), self.binding(kept[-1][0] + kept[-1][1] - 1)] if kept else []


def _envs(d: Derivation, reader: Reader, node: Node) -> _Envs:
    """Every binding of the letters the parameter leaves free (indices, and a layer l).

    Above Limits.CHECKED bindings a seeded sample is drawn before anything is built (the same elements as
    sampling the built list gave, since each binding is one element), so W1[i,j] or W^{(l)}_{ij} of a wide
    network does not build the formula for every weight.
    """
    try:
        envs = _Envs([({}, _ranges(reader, node, {}))])
    except FreeIndexError as exc:
        if not exc.layer:
            raise
        envs = _Envs([], letter=exc.letter)
        first = reader.reading.notation.input_layer  # the free layer's values, as the notation numbers layers
        for layer in range(first, d.L + 1 + first):
            try:
                envs.blocks.append(({exc.letter: layer}, _ranges(reader, node, {exc.letter: layer})))
            except LayerRangeError:
                continue
        if not envs.blocks and exc.letter == reading_roles.FREE:
            raise ReadError(f"formula: {reader.text!r}, {reading_roles.UNFIT}") from None
        if not envs.blocks:
            raise FormulaError(
                f"formula: {reader.text!r} names nothing in this network for any layer {exc.letter}"
            ) from None
    count = envs.count
    if count > MAX_CHECKED:
        envs.keys = [int(k) for k in np.random.default_rng(SEED).choice(count, MAX_CHECKED, replace=False)]
    else:
        envs.keys = list(range(count))
    return envs


def _ranges(reader: Reader, node: Node, env: dict[str, int]) -> dict[str, int]:
    """The index letters left free in a name, each with its range, from one reading of the name.

    Each free letter stands for a :class:`Probe`, made where the letter is first met, that records the size
    of every place it indexes; a letter that indexes places of two sizes (W_{ii} of a non-square W) has no
    clear range.
    """
    free: dict[str, Probe] = {}
    replace(reader, env=env, free=free).target(node)
    return {letter: probe.size(reader.text, 0) for letter, probe in free.items()}
