"""Playbooks: the versioned YAML knowledge the engine works from."""

from coach.playbook.loader import builtin_playbooks, default_playbook_id, load_playbook, resolve_playbook_path
from coach.playbook.registry import InstalledPlaybook, PlaybookRegistry
from coach.playbook.schema import Playbook

__all__ = ["InstalledPlaybook", "Playbook", "PlaybookRegistry", "builtin_playbooks", "default_playbook_id", "load_playbook",
           "resolve_playbook_path"]
