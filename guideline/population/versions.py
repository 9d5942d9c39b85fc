"""One resource sent in several versions (two export files, an older and a newer copy): the newest is read.

The engines read an export's lines in their own order (both sort a patient's lines as text), so "the first one
read" chose by the text of the JSON: a fill marked entered-in-error in a newer file lost to its older, completed
copy. The version is chosen by what the versions say of themselves, the same way for the directory and a patient's
resources, whatever order the lines came in."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from guideline.fhirdata import text
from guideline.population.quality import Quality
from guideline.versions import version_rank


def _canonical(resource: Mapping[str, Any]) -> str:
    """The resource's content as one text, its key order aside (ties between versions no metadata tells apart
    are broken by it, so the choice never depends on the order the lines came in)."""
    return json.dumps(resource, sort_keys=True, ensure_ascii=False, default=str)


def _content(resource: Mapping[str, Any]) -> str:
    """What a version says apart from its metadata: two versions that differ only in `meta` are no conflict."""
    return _canonical({key: value for key, value in resource.items() if key != "meta"})


def newest_versions(resources: list[Mapping[str, Any]], quality: Quality) -> list[Mapping[str, Any]]:
    """The resources with each (type, id) sent more than once kept once, as its newest version (`version_rank`;
    between versions that rank alike, the one whose JSON sorts last, as the directory does), in the place of its
    first copy. Versions that differ in content are counted in `resource_conflicts`."""
    places: dict[tuple[str, str], list[int]] = {}
    repeated = False
    for index, resource in enumerate(resources):
        kind, ident = text(resource.get("resourceType")), text(resource.get("id"))
        if kind and ident:
            found = places.setdefault((kind, ident), [])
            found.append(index)
            repeated = repeated or len(found) > 1
    if not repeated:  # the usual patient: every id once, nothing to choose
        return resources
    chosen: dict[int, Mapping[str, Any]] = {}
    dropped: set[int] = set()
    for indexes in places.values():
        if len(indexes) == 1:
            continue
        versions = [resources[i] for i in indexes]
        newest = max(versions, key=lambda r: (version_rank(r), _canonical(r)))
        if len({_content(r) for r in versions}) > 1:
            quality.resource_conflicts += 1
        chosen[indexes[0]] = newest
        dropped.update(indexes[1:])
    return [chosen.get(i, r) for i, r in enumerate(resources) if i not in dropped]
