"""Close the loop: a cluster a trainer has named becomes playbook examples, as a new intent or as more
examples of an existing one, in a new playbook file that `coach playbook check` accepts.

The result is the whole playbook (the base with the change), because that is what `coach playbook
check`, `--playbook` and ``POST /v1/playbooks`` take; its first lines say what changed. When the base's
file is known it is edited in place (ruamel.yaml's round trip), so the trainers' comments, the order of
keys and the quoting stay as they wrote them; only a playbook with no file is written out anew. It gets an id
of its own (a shipped id cannot be installed over) and is written only where the trainer says, never
over a shipped playbook, and only once it validates: an export that would break the playbook writes
nothing. Leave-one-out figures of the objection detector (what `coach playbook check` prints) come
before and after, so the trainer sees what the new examples cost the other intents.

A new intent needs what the agent should say to it: the response is what agents are shown on live
calls, so there is no placeholder to fill in later (a "TODO" shipped to agents is worse than no
intent); the playbook's validation refuses such a text too.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel

from coach.analyzers.features import FeatureSpace
from coach.analyzers.intent import ObjectionDetector
from coach.engine import CoachEngine, playbook_corpus
from coach.errors import InputError
from coach.mining.models import Cluster
from coach.playbook import Playbook
from coach.playbook.evaluation import PlaybookReport, evaluate_detector
from coach.playbook.loader import builtin_playbooks, parse_playbook
from coach.playbook.registry import PlaybookRegistry
from coach.playbook.schema import MIN_INTENT_EXAMPLES
from coach.text.normalize import normalize

_INTENT_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class HeldOut(BaseModel):
    """The objection detector's held-out accuracy, as `coach playbook check` reports it."""

    method: str
    intent_accuracy: float
    #: Non-objection examples the detector kept silent on (0-1).
    non_objection_silent: float
    per_intent: dict[str, float]

    @classmethod
    def of(cls, report: PlaybookReport) -> HeldOut:
        silent = report.non_objection.correct / report.non_objection.examples if report.non_objection.examples else 0.0
        return cls(method=report.method, intent_accuracy=round(report.intent_accuracy, 4),
                   non_objection_silent=round(silent, 4),
                   per_intent={s.intent: round(s.accuracy, 4) for s in report.per_intent})


class ExportResult(BaseModel):
    path: str
    playbook_id: str
    base: str
    cluster: str
    intent: str
    #: ``new_intent`` or ``more_examples``.
    action: str
    examples_added: int
    #: Member utterances left out: already an example of some intent, or a repeat.
    skipped: int
    before: HeldOut | None
    after: HeldOut | None
    #: What the trainer may still want to do (a new intent's response has no principle yet).
    todo: list[str]


def export_cluster(cluster: Cluster, engine: CoachEngine, out: str | Path, *, as_intent: str | None = None,
                   into_intent: str | None = None, name: str | None = None, response: str | None = None,
                   principle: str | None = None, playbook_id: str | None = None, folds: int | None = None,
                   evaluate: bool = True, overwrite: bool = False, source: Path | None = None) -> ExportResult:
    """Write ``engine``'s playbook with ``cluster`` added (as the new intent ``as_intent``, whose
    agents are told to say ``response`` (why: ``principle``), or as examples of ``into_intent``) to
    ``out``, and report held-out accuracy before and after (``folds``: k-fold instead of exact
    leave-one-out, much faster). ``source``: the base playbook's file, edited with its comments kept."""
    base = engine.playbook
    path = check_export(out, as_intent=as_intent, into_intent=into_intent, response=response, overwrite=overwrite,
                        cluster=cluster)
    said, why = (response or "").strip(), (principle or "").strip()
    if cluster.language != base.language:
        raise InputError(f"cluster {cluster.id} is in {cluster.language!r} but playbook {base.id!r} is for {base.language!r}")
    data = base.model_dump(mode="json", exclude_defaults=True)
    known = {normalize(e, base.language) for intent in base.intents for e in intent.examples}
    known |= {normalize(e, base.language) for e in base.non_objection_examples}
    examples: list[str] = []
    for member in cluster.members:
        norm = normalize(member.text, base.language)
        if norm and norm not in known:
            known.add(norm)
            examples.append(member.text)
    skipped = len(cluster.members) - len(examples)
    todo: list[str] = []
    new_intent: dict | None = None
    if as_intent is not None:
        intent_id = _new_intent(base, as_intent, len(examples), cluster)
        new_intent = {
            "id": intent_id, "kind": "objection", "name": name or intent_id.replace("_", " ").capitalize(),
            "description": f"Mined from cluster {cluster.id} ({cluster.label}): {cluster.size} debtor utterances in "
                           f"{cluster.calls} calls, first heard {cluster.first_week}.",
            "examples": examples,
            "responses": [{"stage": "any", "text": said, "principle": why}],
        }
        data["intents"].append(new_intent)
        action = "new_intent"
        if not why:
            todo.append(f"intents/{intent_id}/responses/0 has no principle: add why this answer works (agents and "
                        "coaches are shown it beside the response)")
    else:
        intent_id = into_intent  # type: ignore[assignment]
        entry = next((i for i in data["intents"] if i["id"] == intent_id), None)
        if entry is None:
            raise InputError(f"playbook {base.id!r} has no intent {intent_id!r}; its intents: "
                             f"{', '.join(i.id for i in base.intents)}")
        if not examples:
            raise InputError(f"every utterance of cluster {cluster.id} is already an example of the playbook: nothing to add")
        entry["examples"] = list(entry["examples"]) + examples
        action = "more_examples"
    data["id"] = playbook_id or f"{base.id}-mined"
    data["version"] = f"{base.version}+{intent_id}"[:50]
    header = (f"# {data['id']}: {base.id}@{base.version} with cluster {cluster.id} ({cluster.label}) "
              f"{'as the new intent' if action == 'new_intent' else 'added to the intent'} {intent_id} "
              f"({len(examples)} examples).\n# Written by coach mine export; check it with: coach playbook check "
              f"{path.name}\n")
    body = None
    if source is not None:
        body = _edited(source, data["id"], data["version"], new_intent, None if new_intent else (intent_id, examples))
    if body is None:
        body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)
    text = header + body
    patched = parse_playbook(text, str(path))  # InvalidPlaybookError: nothing is written
    before = after = None
    if evaluate:
        before = HeldOut.of(evaluate_detector(engine.detector, folds))
        after = HeldOut.of(evaluate_detector(_detector(patched, engine), folds))
    _write(path, text)
    return ExportResult(path=str(path), playbook_id=patched.id, base=engine.ref, cluster=cluster.id, intent=intent_id,
                        action=action, examples_added=len(examples), skipped=skipped, before=before, after=after,
                        todo=todo)


def check_export(out: str | Path, *, as_intent: str | None, into_intent: str | None, response: str | None,
                 overwrite: bool, cluster: Cluster | None = None) -> Path:
    """The export request's own mistakes (what the cluster becomes, a new intent without a response,
    an --out that is taken or shipped), told before the calls are mined: that takes minutes on a big
    store. Returns where the patch may be written."""
    if (as_intent is None) == (into_intent is None):
        raise InputError("say what the cluster becomes: a new intent (--as-intent NAME) or examples of an existing "
                         "one (--into-intent ID), one of the two")
    if as_intent is not None and not (response or "").strip():
        which = f" (cluster {cluster.id}: {cluster.label})" if cluster is not None else ""
        raise InputError(f"a new intent needs what the agent should say when a debtor says this: give it with "
                         f"--response TEXT{which}",
                         hint="agents are shown it on live calls, so there is no placeholder to fill in later; or add "
                              "the utterances to an existing intent with --into-intent ID")
    return _writable(Path(out), overwrite)


def _edited(source: Path, playbook_id: str, version: str, new_intent: dict | None,
            more: tuple[str, list[str]] | None) -> str | None:
    """The base playbook's own text with the change made in it: its comments, key order and quoting
    kept (a round trip through ruamel.yaml). None when the file cannot be read back as it was loaded
    (then the playbook is written out anew)."""
    import io

    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    editor = YAML()  # round trip
    editor.preserve_quotes = True
    editor.width = 4096  # long examples stay on their line
    editor.indent(mapping=2, sequence=4, offset=2)
    try:
        document = editor.load(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YAMLError):
        return None
    document["id"] = playbook_id
    document["version"] = version
    if new_intent is not None:
        document["intents"].append(new_intent)
    elif more is not None:
        intent_id, examples = more
        entry = next((i for i in document["intents"] if i.get("id") == intent_id), None)
        if entry is None:
            return None
        entry["examples"].extend(examples)
    out = io.StringIO()
    editor.dump(document, out)
    return out.getvalue()


def _new_intent(base: Playbook, intent_id: str, examples: int, cluster: Cluster) -> str:
    if not _INTENT_ID.match(intent_id):
        raise InputError(f"{intent_id[:60]!r} is not an intent id: lower-case letters, digits and _, starting with a "
                         "letter (e.g. credit_report)")
    if any(i.id == intent_id for i in base.intents):
        raise InputError(f"playbook {base.id!r} already has an intent {intent_id!r}",
                         hint=f"add the examples to it with --into-intent {intent_id}")
    if examples < MIN_INTENT_EXAMPLES:
        raise InputError(f"cluster {cluster.id} has {examples} utterances new to the playbook; an intent needs at least "
                         f"{MIN_INTENT_EXAMPLES}", hint="add them to an existing intent with --into-intent, or mine "
                                                        "more calls (a wider date range)")
    return intent_id


def _writable(path: Path, overwrite: bool) -> Path:
    """Where the patch may go: never a shipped playbook, never over a file unless asked."""
    target = path.expanduser().resolve()
    shipped = {p.resolve() for p in builtin_playbooks().values()}
    shipped |= {p.resolve() for p in PlaybookRegistry.from_settings().shipped().values()}
    if target in shipped:
        raise InputError(f"{path} is a shipped playbook: write the patch to a file of your own (--out my-playbook.yaml)")
    if target.is_dir():
        raise InputError(f"{path} is a folder; give the patch a file name (e.g. {path / 'my-playbook.yaml'})")
    if target.suffix not in (".yaml", ".yml"):
        raise InputError(f"{path}: the patch is a YAML playbook; give the file a .yaml name")
    if target.exists() and not overwrite:
        raise InputError(f"{path} already exists", hint="choose another --out, or pass --overwrite")
    if not target.parent.is_dir():
        raise InputError(f"{path}: the folder {target.parent.name!r} does not exist")
    return target


def _detector(playbook: Playbook, engine: CoachEngine) -> ObjectionDetector:
    """The objection detector `coach playbook check` would fit on ``playbook``: a lexical vocabulary
    fitted on its texts, the same embedding model (whose vectors of the base playbook's examples are
    reused: encoding them again is most of a fit's time) and the base engine's lexical weight (a
    cluster's examples hardly move its choice, and choosing it again is most of the rest: ~37 s of a
    ~60 s export on two cores), so before and after differ only by the examples."""
    embedder = _KnownVectors(engine.space.embedder, engine) if engine.space.embedder is not None else None
    space = FeatureSpace(playbook.language, playbook_corpus(playbook), embedder)
    return ObjectionDetector(playbook, space, lexical_weight=engine.space.lexical_weight)


class _KnownVectors:
    """An embedder that answers from the vectors the engine already holds (by normalised text) and
    asks the real one only for the rest; the same numbers either way."""

    def __init__(self, embedder, engine: CoachEngine) -> None:
        self.embedder = embedder
        features = engine.detector.example_features
        self.known = {} if features.dense is None else dict(zip(features.norms, features.dense))

    def __getattr__(self, name: str):
        return getattr(self.embedder, name)

    def warm(self, texts: list[str]) -> None:
        """Only the texts without a known vector reach the real embedder (and its store on disk)."""
        missing = [t for t in dict.fromkeys(texts) if t not in self.known]
        if missing:
            getattr(self.embedder, "warm", self.embedder.encode)(missing)

    def encode(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.known]
        if missing:
            self.known.update(zip(missing, self.embedder.encode(missing)))
        return np.vstack([self.known[t] for t in texts]) if texts else self.embedder.encode(texts)


def _write(path: Path, text: str) -> None:
    """All or nothing: a half-written playbook never lies where the trainer looks."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
