"""YAML read and written with libyaml, as coach's own playbook loader reads it.

The shipped playbooks run to 11,000 lines: the pure-Python parser took a second (two on a busy
machine) and its emitter half a second for every test that copies one, a minute and a half of the
suite's time in all.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def load(text: str | bytes) -> Any:
    return yaml.load(text, Loader=_LOADER)


def dump(data: Any, **options: Any) -> str:
    """As ``yaml.safe_dump(data, **options)``."""
    return yaml.dump(data, Dumper=_DUMPER, **options)


def shipped_playbook(playbook_id: str) -> dict:
    """A shipped playbook's data, the test's own copy to change."""
    return copy.deepcopy(_parsed(playbook_id))


@functools.cache
def _parsed(playbook_id: str) -> dict:
    from coach.playbook import builtin_playbooks

    return load(builtin_playbooks()[playbook_id].read_text(encoding="utf-8"))
