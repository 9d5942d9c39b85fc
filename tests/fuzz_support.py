"""What the seeded fuzzers share: every place in a JSON tree, and the one random change made at a place."""

from __future__ import annotations

import copy
import random
from collections.abc import Sequence
from typing import Any

MUTATIONS = ("odd", "list", "delete", "nest", "dict-for-string", "number", "duplicate")
HUGE_AND_TINY = (10**400, -(10**30), 1e-300, 2**63, -0.0)


def paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in the JSON tree (object members and list items), parents before children."""
    found = [here] if here else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*here, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*here, index))
    return found


def node_at(value: Any, path: tuple[Any, ...]) -> Any:
    """The value at a place in the tree."""
    for step in path:
        value = value[step]
    return value


def mutate_at(rng: random.Random, parent: Any, last: Any, odd_values: Sequence[Any]) -> str:
    """One random change of `parent[last]`: a wrong type, a list for a value, a deletion, a nested Bundle, a huge or
    tiny number, a duplicated list item, or one of `odd_values`. Returns which."""
    current = parent[last]
    kind = rng.choice(MUTATIONS)
    if kind == "delete":
        del parent[last]
    elif kind == "list":
        parent[last] = [current]
    elif kind == "nest":
        parent[last] = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": current}]}
    elif kind == "dict-for-string" and isinstance(current, str):
        parent[last] = {"value": current}
    elif kind == "number":
        parent[last] = rng.choice(HUGE_AND_TINY)
    elif kind == "duplicate" and isinstance(parent, list):
        parent.append(copy.deepcopy(current))
    else:
        kind = "odd"
        parent[last] = copy.deepcopy(rng.choice(odd_values))
    return kind
