"""The ``coach`` command line.

User mistakes (bad files, invalid playbooks, missing models) print one clear message and exit with
the error's code: 2 bad input, 3 invalid playbook, 4 model unavailable, 5 bad setting, 6 database.
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from coach.errors import CoachError
from coach.output_files import check_writable

if TYPE_CHECKING:
    from coach.config import Settings
    from coach.review.pipeline import ReviewRequest, StoredReview
    from coach.storage import CallStore

STYLES = {"S1": "bold white on red", "S2": "bold yellow", "S3": "yellow", "S4": "cyan"}
SPEAKER_STYLE = {"agent": "bold blue", "debtor": "bold green", "third_party": "bold magenta", "unknown": "bold"}


#: Exit status of a command stopped by Ctrl-C: 128 + SIGINT, as shells report it. Click's own
#: "Aborted!" and status 1 would read as a failed --min-accuracy check to a script.
INTERRUPTED_EXIT_CODE = 130


class CoachGroup(click.Group):
    """Turns :class:`CoachError` into a message and an exit code instead of a traceback, and Ctrl-C
    into "interrupted" and status 130. Every command runs inside this ``invoke``, so this is the one
    place either needs handling."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except CoachError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except (KeyboardInterrupt, click.Abort):  # Abort: click's form of Ctrl-C at a prompt
            click.echo("interrupted", err=True)
            ctx.exit(INTERRUPTED_EXIT_CODE)


class ReplaySpeed(click.ParamType):
    """``coach replay --speed``: a multiple of real time above 0, or ``max`` for no pacing (None).
    Checked here, before any connection, because 0, negative, nan or inf paces nothing sensible and
    a word other than max would otherwise surface as a traceback."""

    name = "speed"
    _number = click.FloatRange(min=0, min_open=True)

    def convert(self, value, param: click.Parameter | None, ctx: click.Context | None) -> float | None:
        if isinstance(value, str) and value.strip().lower() == "max":
            return None
        try:
            number = self._number.convert(value, param, ctx)
        except click.BadParameter:
            number = math.nan
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a speed: give a number above 0 (1 real time, 2 twice as fast) "
                      "or max (no pacing)", param, ctx)
        return number


@click.group(cls=CoachGroup)
@click.version_option(package_name="coach")
@click.option("-v", "--verbose", is_flag=True, help="Log what the engine is doing.")
def main(verbose: bool) -> None:
    """coach: live and post-call coaching for debt-collection calls.

    \b
    Examples:
      coach analyze examples/en-hardship.json
      coach analyze call.jsonl --playbook playbooks/my-playbook.yaml --format jsonl
      coach playbook check playbooks/zh-CN-bank-collections.yaml
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _quiet_libraries()


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--playbook", "playbook_ref", help="Built-in playbook id or path to a YAML playbook. Default: by the call's language.")
@click.option("--format", "output_format", type=click.Choice(["text", "jsonl"]), default="text", show_default=True)
@click.option("--language", type=click.Choice(["zh", "en"]), help="Override the call's language.")
def analyze(file: Path, playbook_ref: str | None, output_format: str, language: str | None) -> None:
    """Analyse a call transcript (JSON or JSON Lines) utterance by utterance.

    \b
    Examples:
      coach analyze examples/zh-violations.json
      coach analyze examples/en-cooperative.json --format jsonl | jq -c 'select(.type=="intent")'
    """
    from coach.transcript import load_call

    call = load_call(file, language=language)  # a bad file is told before the models' libraries load (~3 s)
    from coach.engine import get_engine

    engine = get_engine(playbook_ref, language=call.language)
    if output_format == "jsonl":
        out = sys.stdout
        for event in engine.analyze(call):
            out.write(event.to_json() + "\n")
        out.flush()
        return
    console = Console(highlight=False)
    console.print(f"[bold]{escape(call.call_id)}[/]  language {call.language}  playbook {engine.ref}  ({engine.space.method})")
    for event in engine.analyze(call):
        _print_event(console, event)


def _print_event(console: Console, event) -> None:
    kind = event.type
    if kind == "utterance":
        style = SPEAKER_STYLE.get(event.speaker, "bold")
        stage = f" [dim]({event.stage})[/]" if event.stage and event.speaker == "agent" else ""
        console.print(f"[dim]{_clock(event.start)}[/] [{style}]{event.speaker:>6}[/] {escape(event.text)}{stage}")
    elif kind == "sentiment":
        colour = "red" if event.valence < -0.3 else "green" if event.valence > 0.3 else "white"
        console.print(f"{'':16}[{colour}]emotion {event.label} valence {event.valence:+.2f} ({event.confidence:.2f})[/]")
    elif kind == "intent":
        console.print(
            f"{'':16}[bold cyan]{event.kind} {event.intent}[/] ({event.confidence:.2f}) "
            f"[dim]evidence: {escape(event.evidence)!s} · {event.method}[/]"
        )
        for suggestion in event.suggestions[:2]:
            console.print(f"{'':18}[cyan]say:[/] {escape(suggestion.text)} [dim]({suggestion.stage}; {suggestion.ref})[/]")
        if event.escalation:
            console.print(f"{'':18}[bold magenta]escalate to {event.escalation['to']}: {escape(event.escalation['reason'])}[/]")
    elif kind == "compliance":
        style = STYLES.get(event.severity, "bold")
        where = "pre-call" if event.utterance_id is None and event.method == "metadata" else ""
        console.print(
            f"{'':16}[{style}] {event.severity} {event.rule_id} [/] {escape(event.message)} {where}\n"
            f"{'':18}[dim]evidence: {escape(event.evidence)} · {escape(event.citation)}[/]"
        )
    elif kind == "scorecard":
        table = Table(title=f"QA scorecard: {event.score if event.score is not None else 'n/a'}/100", show_lines=False)
        table.add_column("check")
        table.add_column("result")
        table.add_column("detail", overflow="fold")
        for check in event.checks:
            mark = "[green]pass[/]" if check.passed else "[red]fail[/]" if check.passed is False else "[dim]n/a[/]"
            table.add_row(check.name, mark, escape(check.detail))
        console.print(table)
        metrics = event.metrics
        ratio = metrics.get("agent_talk_ratio")
        console.print(
            f"stages: {' -> '.join(s['stage'] for s in event.stages) or 'none'} · "
            f"agent talk ratio: {'n/a' if ratio is None else f'{ratio:.0%}'} · interruptions {metrics['interruptions']} · "
            f"objections: {', '.join(f'{k} x{v}' for k, v in event.objections.items()) or 'none'} · "
            f"violations: {', '.join(f'{k} x{v}' for k, v in event.violations.items()) or 'none'}"
        )
    elif kind == "error":
        console.print(f"{'':16}[red]error {event.code}: {escape(event.message)}[/]")


def _clock(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"[{int(minutes):02d}:{secs:04.1f}]"


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--allow-anonymous-stream", is_flag=True,
              help="Let clients stream live calls without a token. A lab only: anyone who reaches the port can "
                   "store calls under any agent or team.")
def serve(host: str, port: int, allow_anonymous_stream: bool) -> None:
    """Run the live-call server: WebSocket /v1/stream, the agent console at /, docs at /docs.

    Streaming a call needs an API token of an agent, an integration or an admin
    (coach token create ... --role agent|integration|admin) unless --allow-anonymous-stream.

    \b
    Examples:
      coach serve
      coach serve --host 0.0.0.0 --port 9000      # behind a TLS reverse proxy: see docs/security.md
      coach serve --allow-anonymous-stream        # a lab machine
    """
    from server.app import run

    if allow_anonymous_stream:
        click.secho("warning: anonymous live streams are allowed: anyone who can reach this port can stream and "
                    "store calls under any agent or team", fg="red", bold=True, err=True)
    run(host=host, port=port, allow_anonymous_stream=allow_anonymous_stream)


class ChannelRoles(click.ParamType):
    """``coach review --roles``: one known role per channel, none twice. Checked as an option, so a
    mistake is a usage error before any file is read (a long recording takes minutes to decode and
    transcribe before its roles are used); their number against the file's channels is checked
    from each file's header."""

    name = "roles"

    def convert(self, value, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, ...]:
        if isinstance(value, tuple):
            return value
        from coach.review.pipeline import parse_roles

        try:
            return parse_roles(value)
        except CoachError as exc:
            self.fail(str(exc), param, ctx)


class JsonObject(click.ParamType):
    """``--metadata``: a JSON object, checked as an option (a usage error before any file is read)."""

    name = "json"

    def convert(self, value, param: click.Parameter | None, ctx: click.Context | None) -> dict:
        if isinstance(value, dict):
            return value
        import json

        try:
            given = json.loads(value)
        except json.JSONDecodeError as exc:
            self.fail(f"not valid JSON: {exc.msg}", param, ctx)
        if not isinstance(given, dict):
            self.fail("must be a JSON object", param, ctx)
        return given


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--server", "url", default="ws://127.0.0.1:8000/v1/stream", show_default=True, help="The server's stream URL.")
@click.option("--speed", type=ReplaySpeed(), default="1", show_default=True, metavar="NUMBER|max",
              help="1 for real time, 2 for twice as fast, max for no pacing.")
@click.option("--language", type=click.Choice(["zh", "en"]),
              help="The call's language. Default: a bundled sample's own, else en.")
@click.option("--roles", default="agent,debtor", show_default=True, help="Who is on each channel (mono: the one role).")
@click.option("--playbook", "playbook_ref", help="Playbook id for the server to use.")
@click.option("--token", envvar="COACH_TOKEN", help="API token (an agent's, an integration's or an admin's). Default: $COACH_TOKEN.")
@click.option("--call-id", help="The call's id. Default: the file name and the time.")
@click.option("--agent-id", help="The agent on the call (an agent token's own id wins).")
@click.option("--team", help="The agent's team (a token's own team wins).")
@click.option("--metadata", "given_metadata", type=JsonObject(), help='Call metadata, a JSON object: \'{"local_time": "14:05", "balance": 1243.5}\'. '
                                                  "Default for a bundled sample: the sample's.")
@click.option("--demo/--no-demo", default=None,
              help="Play a bundled sample as a demo call (hidden from call lists): the server feeds the call its own "
                   "copy of the sample. Default: for the bundled samples; --no-demo streams one as a real call.")
@click.option("--protocol", type=click.Choice(["coach", "twilio", "audiohook", "audiofork", "audiosocket"]), default="coach",
              show_default=True,
              help="coach: /v1/stream, hints printed as they come; twilio: a Twilio Media Stream to "
                   "/v1/telephony/twilio, message for message (an integration token; the call is stored, nothing comes "
                   "back); audiohook: a Genesys Cloud AudioHook session to /v1/telephony/audiohook (hints come back); "
                   "audiofork: FreeSWITCH mod_audio_fork to /v1/telephony/audiofork; audiosocket: Asterisk AudioSocket "
                   "legs over TCP (--audiosocket), registered first on the server.")
@click.option("--audiosocket", "audiosocket_address", default="127.0.0.1:9092", show_default=True,
              help="The server's AudioSocket listener (COACH_AUDIOSOCKET_PORT), for --protocol audiosocket.")
@click.option("--encoding", type=click.Choice(["pcm_s16le", "mulaw"]), default="pcm_s16le", show_default=True,
              help="Audio sent on /v1/stream: 16 kHz PCM, or 8 kHz G.711 mu-law as a phone line carries it.")
def replay(file: Path, url: str, speed: float | None, language: str | None, roles: str, playbook_ref: str | None,
           token: str | None, call_id: str | None, agent_id: str | None, team: str | None, given_metadata: dict | None,
           demo: bool | None, protocol: str, encoding: str, audiosocket_address: str) -> None:
    """Stream a recorded call (wav, flac, mp3, ...; mono or stereo) to a server, printing the
    transcript and hints as they arrive, with their latency.

    \b
    Examples:
      export COACH_TOKEN=...   # coach token create a17 --role agent --agent-id a17
      coach replay examples/audio/en-short-call.flac                 # a demo call
      coach replay call.mp3 --roles debtor --speed max --agent-id a17 --team north
      coach replay call.wav --call-id c-42 --metadata '{"local_time": "14:05", "calls_last_7d": 2}'
      coach replay call.wav --protocol twilio --token $PBX_TOKEN --call-id CA123   # as Twilio sends it
    """
    import asyncio
    import time

    from coach.replay import bundled_sample
    from coach.replay import replay as run_replay

    sample = bundled_sample(file)
    language = language or str((sample or {}).get("language") or "en")
    metadata = dict(given_metadata if given_metadata is not None else (sample or {}).get("metadata") or {})
    metadata.update({k: v for k, v in (("agent_id", agent_id), ("team", team)) if v})
    if demo and sample is None:
        raise click.BadParameter("only a bundled sample (examples/audio/*.flac) can be played as a demo: "
                                 "the server decides which calls are demos", param_hint="--demo")
    demo = sample is not None if demo is None else demo
    console = Console(highlight=False)

    def show(event: dict, latency: float | None) -> None:
        kind = event.get("type")
        lag = f" [dim](latency {latency * 1000:.0f} ms)[/]" if latency is not None else ""
        if kind == "utterance":
            style = SPEAKER_STYLE.get(event["speaker"], "bold")
            console.print(f"[dim]{_clock(event['start'])}[/] [{style}]{event['speaker']:>6}[/] {escape(event['text'])}")
        elif kind == "intent":
            console.print(f"{'':16}[bold cyan]{event['intent']}[/] ({event['confidence']:.2f}){lag}")
            if event["suggestions"]:
                console.print(f"{'':18}[cyan]say:[/] {escape(event['suggestions'][0]['text'])}")
        elif kind == "compliance":
            console.print(f"{'':16}[{STYLES.get(event['severity'], 'bold')}] {event['severity']} {event['rule_id']} [/] {escape(event['message'])}")
        elif kind == "sentiment":
            console.print(f"{'':16}[magenta]emotion {event['label']} {event['valence']:+.2f}[/]")
        elif kind == "scorecard":
            console.print(f"[bold]QA score: {event['score']}[/]")
        elif kind == "warning":
            console.print(f"[yellow]warning {event['code']}: {escape(event['message'])}[/]")
        elif kind == "error":
            console.print(f"[red]error {event['code']}: {escape(event['message'])}[/]")

    if protocol == "twilio":
        from coach.replay import replay_twilio

        url = _platform_url(url, "twilio")
        call_sid = call_id or f"CA{time.strftime('%Y%m%d%H%M%S')}{file.stem[:16]}"
        sent = asyncio.run(replay_twilio(file, url, call_sid=call_sid, token=token, language=language, speed=speed,
                                         channel_roles=tuple(roles.split(",")), playbook=playbook_ref, metadata=metadata))
        console.print(f"sent {sent.audio_seconds:.1f} s as a Twilio Media Stream in {sent.wall_seconds:.1f} s; "
                      f"the call is stored as {call_sid}")
        return
    if protocol == "audiosocket":
        from urllib.parse import urlsplit

        from coach.replay import replay_audiosocket

        parts = urlsplit(url)
        api = f"{'https' if parts.scheme == 'wss' else 'http'}://{parts.netloc}"
        host, _, port = audiosocket_address.rpartition(":")
        if not port.isdigit():
            raise click.BadParameter("HOST:PORT, e.g. 127.0.0.1:9092", param_hint="--audiosocket")
        leg_call = call_id or f"{file.stem[:40]}-{time.strftime('%Y%m%d-%H%M%S')}"
        sent = asyncio.run(replay_audiosocket(file, api, (host or "127.0.0.1", int(port)), call_id=leg_call, token=token,
                                              language=language, speed=speed, channel_roles=tuple(roles.split(",")),
                                              metadata=metadata))
        console.print(f"sent {sent.audio_seconds:.1f} s as Asterisk AudioSocket legs in {sent.wall_seconds:.1f} s; "
                      f"the call is stored as {leg_call}")
        return
    if protocol == "audiofork":
        from coach.replay import replay_audiofork

        url = _platform_url(url, "audiofork")
        fork = call_id or f"{file.stem[:40]}-{time.strftime('%Y%m%d-%H%M%S')}"
        details = {"uuid": fork, "language": language, "roles": roles.split(","), **metadata}
        if playbook_ref:
            details["playbook"] = playbook_ref
        sent = asyncio.run(replay_audiofork(file, url, token=token, metadata=details, speed=speed, on_event=show))
        console.print(f"sent {sent.audio_seconds:.1f} s as a FreeSWITCH audio fork in {sent.wall_seconds:.1f} s; "
                      f"the call is stored as {fork}")
        return
    if protocol == "audiohook":
        from coach.replay import replay_audiohook

        url = _platform_url(url, "audiohook")
        conversation = call_id or f"{file.stem[:40]}-{time.strftime('%Y%m%d-%H%M%S')}"
        config = {k: v for k, v in metadata.items() if isinstance(v, (str, int, float, bool))}
        if playbook_ref:
            config["playbook"] = playbook_ref
        sent = asyncio.run(replay_audiohook(file, url, conversation_id=conversation, api_key=token, language=language,
                                            speed=speed, channel_roles=tuple(roles.split(",")), custom_config=config,
                                            on_event=show))
        console.print(f"sent {sent.audio_seconds:.1f} s as a Genesys AudioHook session in {sent.wall_seconds:.1f} s; "
                      f"{len(sent.events)} events came back; the call is stored as {conversation}")
        return
    result = asyncio.run(run_replay(file, url, language=language, speed=speed, channel_roles=tuple(roles.split(",")),
                                    playbook=playbook_ref, on_event=show, token=token, metadata=metadata,
                                    call_id=call_id, sample=file.stem if demo else None, encoding=encoding))
    latencies = sorted(l for _, l in result.intent_latencies)
    if latencies:
        p50 = latencies[len(latencies) // 2]
        console.print(f"[dim]{len(latencies)} hints; end-of-speech to hint latency p50 {p50 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms[/]")


def _platform_url(url: str, platform: str) -> str:
    """The default /v1/stream URL turned into the platform's endpoint on the same server."""
    return url[: -len("/v1/stream")] + f"/v1/telephony/{platform}" if url.endswith("/v1/stream") else url


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--report", "report_path", type=click.Path(path_type=Path), help="Write one self-contained HTML report of these calls.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: every call's detail, events and scorecard on standard output.")
@click.option("--language", type=click.Choice(["zh", "en", "auto"]),
              help="Language of recordings (transcripts say theirs); auto: the language each recording is spoken in. "
                   "Default: the playbook's language, else the language heard when it is clear, else en.")
@click.option("--playbook", "playbook_ref", help="Built-in playbook id or path. Default: by the call's language.")
@click.option("--roles", type=ChannelRoles(), default="agent,debtor", show_default=True,
              help="Who is on each channel of a two-channel recording, in channel order, none twice (agent, debtor, "
                   "third_party, unknown). Mono recordings: not used, the parties are told apart by voice.")
@click.option("--agent-id", help="The agent who made these calls.")
@click.option("--team", help="The agent's team.")
@click.option("--metadata", "given_metadata", type=JsonObject(),
              help='What the CRM knows about these calls, a JSON object: \'{"balance": 1243.5, "local_time": "14:05"}\' '
                   "(the rules' metadata; a promised amount far above the balance is taken as misheard). "
                   "--agent-id and --team win over its agent_id and team. A file already stored is not reviewed "
                   "again for it.")
@click.option("--no-store", is_flag=True, help="Do not keep the calls in the database (only print or report them).")
@click.option("--ray", "use_ray", is_flag=True,
              help="Review on Ray Data (pip install 'coach[ray]'): a local Ray on this machine's cores, or the cluster "
                   "of --ray-address. Same results as without it.")
@click.option("--ray-address", metavar="HOST:PORT",
              help="A Ray cluster's head node (`ray start --head` prints it; implies --ray). The files and playbooks "
                   "must be at the same paths on every node.")
def review(files: tuple[Path, ...], report_path: Path | None, output_format: str, language: str | None,
           playbook_ref: str | None, roles: tuple[str, ...], agent_id: str | None, team: str | None,
           given_metadata: dict | None, no_store: bool, use_ray: bool, ray_address: str | None) -> None:
    """Review recorded calls: audio (wav, flac, mp3, ogg...; two channels with one party each, or mono)
    or transcripts (JSON, JSON Lines). Each call is stored (COACH_DATABASE_URL, default an SQLite file)
    with its transcript, events, scorecard, outcome and summary; the same file twice is stored once.

    \b
    Examples:
      coach review examples/audio/en-hardship.flac --report hardship.html
      coach review recordings/*.wav --agent-id a17 --team north
      coach review call.wav --metadata '{"balance": 5230, "currency": "CNY", "local_time": "10:05"}'
      coach review examples/zh-violations.json --format json --no-store
      coach review recordings/*.wav --ray                          # local Ray, every core
      coach review /shared/recordings/*.wav --ray-address 10.0.0.5:6379
    """
    import contextlib
    import json
    import tempfile

    from coach.config import get_settings
    from coach.review.pipeline import ReviewRequest, check_request
    from coach.review.report import stored_calls, write_report
    from coach.storage import CallStore

    settings = get_settings()
    if no_store:
        settings = settings.model_copy(update={"keep_audio": False})
    console = Console(highlight=False, stderr=output_format == "json", soft_wrap=True)  # paths stay whole, for copying
    request = ReviewRequest(language=language, playbook=playbook_ref, channel_roles=roles, agent_id=agent_id, team=team,
                            metadata=given_metadata or {})
    check_request(request)  # an unusable playbook is refused before any file is read
    if report_path is not None:
        check_writable(report_path)  # and a report that could not be written, before any call is reviewed
    with contextlib.ExitStack() as stack:
        if use_ray or ray_address:  # joined before the database is opened: a cluster that fails us changes nothing
            from coach.review.distributed import ray_session

            stack.enter_context(ray_session(ray_address, settings, verbose=logging.getLogger().isEnabledFor(logging.INFO)))
        scratch = stack.enter_context(tempfile.TemporaryDirectory())
        url = f"sqlite:///{Path(scratch) / 'review.db'}" if no_store else settings.database()
        store = CallStore(url, settings)
        stack.callback(store.close)
        if use_ray or ray_address:
            from coach.review.distributed import review_on_ray

            outcomes = review_on_ray(store, files, request, source="cli", settings=settings)
        else:
            outcomes = _review_each(store, files, request, settings)
        reviewed: list[str] = []
        failure: CoachError | None = None
        for path, outcome in outcomes:
            if isinstance(outcome, CoachError):
                console.print(f"[red]error[/] {escape(str(outcome))}")
                failure = failure or outcome
                continue
            reviewed.append(outcome.call_id)
            _print_review(console, store.get_call(outcome.call_id), path, outcome, stored=not no_store)
        if output_format == "json":
            payload = [{"call": store.get_call(c).model_dump(mode="json"), "events": store.events(c),
                        "scorecard": store.scorecard(c), "notes": [n.model_dump(mode="json") for n in store.notes(c)]}
                       for c in reviewed]
            click.echo(json.dumps(payload, ensure_ascii=False, indent=1))
        if report_path and reviewed:
            write_report(report_path, stored_calls(store, reviewed))
            console.print(f"report: {report_path}")
        if not no_store and reviewed:
            console.print(f"[dim]stored in {store.url}[/]")
    if failure is not None:
        sys.exit(failure.exit_code)


def _review_each(store: CallStore, files: tuple[Path, ...], request: ReviewRequest,
                 settings: Settings) -> Iterator[tuple[Path, StoredReview | CoachError]]:
    """The plain review, one file after another in this process: (path, stored call or the user's mistake)."""
    from coach.review.pipeline import review_into_store

    for path in files:
        try:
            yield path, review_into_store(store, path, request, source="cli", settings=settings)
        except CoachError as exc:
            yield path, exc


def _print_review(console: Console, call, path: Path, outcome: StoredReview, *, stored: bool = True) -> None:
    """One reviewed call's line, summary and warnings. ``stored``: False under --no-store, where the
    calls live in a scratch database for this run only, so nothing said may be about storing."""
    worst = f" (worst {call.worst_severity})" if call.worst_severity else ""
    style = STYLES.get(call.worst_severity or "", "green")
    if outcome.duplicate and not stored:
        note = " [dim](the same content as an earlier file: reviewed once)[/]"
    elif outcome.duplicate:
        note = (" [dim](already reviewed: not stored again; --language or --playbook other than its own reviews it "
                "again)[/]")
    else:
        replaced = getattr(outcome, "replaced", None)
        note = f" [dim](reviewed again: replaces {escape(replaced)})[/]" if replaced else ""
    score = "-" if call.score is None else f"{call.score:.0f}"
    console.print(
        f"[bold]{escape(call.id)}[/]  {escape(path.name)}  {_clock(call.duration or 0)}  score {score}  "
        f"outcome {call.outcome or '-'}  [{style}]{call.violation_count} violation(s){worst}[/]{note}"
    )
    if call.summary:
        console.print(f"  {escape(call.summary)}")
    for warning in call.warnings or []:
        console.print(f"  [yellow]warning[/] {escape(warning.code)}: {escape(warning.message)}")


@main.group()
def token() -> None:
    """API tokens for the REST API and the review page (stored hashed)."""


@token.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(["agent", "coach", "supervisor", "trainer", "admin", "integration"]), required=True,
              help="integration: a telephony system that streams calls (and reads none); supervisor: watches its "
                   "team's calls live (/supervisor).")
@click.option("--agent-id", help="Agents: whose calls the token sees (and streams as).")
@click.option("--team", help="Coaches and supervisors: whose team's calls the token sees; agents and integrations: the team their calls are stored under.")
def token_create(name: str, role: str, agent_id: str | None, team: str | None) -> None:
    """Create a token; it is printed once and cannot be shown again.

    \b
    Examples:
      coach token create lee --role coach --team north
      coach token create sam --role supervisor --team north
      coach token create a17 --role agent --agent-id a17 --team north
      coach token create dialer --role integration
    """
    from coach.storage import CallStore

    store = CallStore.from_settings()
    secret, _ = store.create_token(name, role, agent_id=agent_id, team=team)
    click.echo(secret)
    click.echo(f"token {name!r} ({role}) created; keep it: only its hash is stored", err=True)


@token.command("list")
def token_list() -> None:
    """The tokens, without their secrets."""
    from coach.storage import CallStore

    table = Table("name", "role", "agent", "team", "created", "revoked")
    for record in CallStore.from_settings().tokens():
        table.add_row(record.name, record.role, record.agent_id or "", record.team or "",
                      f"{record.created_at:%Y-%m-%d %H:%M}", f"{record.revoked_at:%Y-%m-%d %H:%M}" if record.revoked_at else "")
    Console().print(table)


@token.command("revoke")
@click.argument("name")
def token_revoke(name: str) -> None:
    """Revoke a token at once."""
    from coach.storage import CallStore

    CallStore.from_settings().revoke_token(name)
    click.echo(f"token {name!r} revoked", err=True)


@main.group()
def calls() -> None:
    """Stored calls."""


@calls.command("purge-demo")
def calls_purge_demo() -> None:
    """Delete every demo call (bundled samples played from the console or with coach replay), with
    its events, notes and audio.

    \b
    Examples:
      coach calls purge-demo
    """
    from coach.storage import CallStore

    store = CallStore.from_settings()
    count = store.purge_demo_calls()
    store.close()
    click.echo(f"deleted {count} demo call(s) from {store.url}", err=True)


def _call_filters(command):
    """The filters ``coach calls list`` and ``coach mine`` read calls by (as GET /v1/calls does)."""
    options = [
        click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="Calls from this day (YYYY-MM-DD, UTC)."),
        click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), help="Calls up to and including this day (UTC)."),
        click.option("--team", help="Only this team's calls."),
        click.option("--agent", "agent_id", help="Only this agent's calls."),
        click.option("--language", type=click.Choice(["zh", "en"]), help="Only calls in this language."),
        click.option("--outcome", type=click.Choice(["promise_to_pay", "payment_made", "refusal", "callback", "dispute",
                                                     "wrong_party", "no_contact", "none"]), help="Only calls that came to this."),
    ]
    for option in reversed(options):  # listed in --help in this order
        command = option(command)
    return command


def _file_console() -> Console:
    """A console for a table or transcript: on a terminal its width; into a pipe or file every line
    whole (rich would fold and cut at 80 characters)."""
    return Console(highlight=False, width=None if sys.stdout.isatty() else 200)


def _stored_calls_store():
    """The call store for a command that only reads it: a SQLite file that is not there is a mistyped
    COACH_DATA_DIR (or nothing stored yet), said as such rather than created empty."""
    from coach.config import get_settings
    from coach.errors import NotFoundError
    from coach.storage import CallStore

    settings = get_settings()
    if not settings.database_url and not (settings.data_dir / "coach.db").is_file():
        raise NotFoundError(f"no calls are stored in {settings.data_dir} (no coach.db there)",
                            hint="check COACH_DATA_DIR (or COACH_DATABASE_URL); coach review stores calls")
    return CallStore(settings.database(), settings)


@calls.command("list")
@_call_filters
@click.option("--violation", help="Only calls with this rule broken (US-THREAT) or this severity (S1-S4).")
@click.option("--status", type=click.Choice(["live", "complete", "interrupted"]), help="Only calls in this state.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True, help="At most this many, newest first.")
@click.option("--include-demo", is_flag=True, help="List demo calls too (samples played from the console or coach replay).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def calls_list(since, until, team, agent_id, language, violation, outcome, status, limit, include_demo,
               output_format: str) -> None:
    """The stored calls, newest first by when they took place (as GET /v1/calls lists them).

    \b
    Examples:
      coach calls list --team north --since 2026-11-01
      coach calls list --violation S1 --format json
    """
    import json

    from coach.storage import CallFilter

    filters = CallFilter(agent_id=agent_id, team=team, language=language, violation=violation, outcome=outcome,
                         status=status, date_from=since.date() if since else None, date_to=until.date() if until else None,
                         limit=limit, include_demo=include_demo)
    store = _stored_calls_store()
    found = store.list_calls(filters)
    store.close()
    if output_format == "json":
        click.echo(json.dumps([c.model_dump(mode="json") for c in found], ensure_ascii=False, indent=1))
        return
    if not found:
        click.echo("no stored calls match", err=True)
        return
    table = Table(box=None, header_style="bold")
    for column in ("call", "when (UTC)", "agent/team", "lang", "length", "score", "outcome", "violations"):
        table.add_column(column, no_wrap=column in ("call", "when (UTC)"))  # an id is copied whole, never folded
    for call in found:
        when = call.started_at or call.created_at
        minutes, seconds = divmod(round(call.duration or 0), 60)
        violations = f"{call.violation_count} {call.worst_severity}" if call.worst_severity else "0"
        table.add_row(escape(call.id), f"{when:%Y-%m-%d %H:%M}", escape(f"{call.agent_id or '-'}/{call.team or '-'}"),
                      call.language, f"{minutes}:{seconds:02d}", "-" if call.score is None else f"{call.score:.0f}",
                      call.outcome or "-", f"[{STYLES.get(call.worst_severity or '', 'green')}]{violations}[/]")
    _file_console().print(table)


@calls.command("show")
@click.argument("call_id")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: the call, its events and notes, as GET /v1/calls/{id}, /events and /notes give them.")
@click.option("--report", "report_path", type=click.Path(path_type=Path), help="Also write its self-contained HTML report.")
def calls_show(call_id: str, output_format: str, report_path: Path | None) -> None:
    """One stored call: its transcript with the hints, emotions and violations found, the scorecard and
    the coaches' notes.

    \b
    Examples:
      coach calls show en-hardship-001
      coach calls show en-hardship-001 --report call.html
    """
    import json

    from coach.events import parse_event
    from coach.output_files import write_text

    if report_path is not None:
        check_writable(report_path)
    store = _stored_calls_store()
    try:
        detail = store.get_call(call_id)
        events = store.events(call_id)
        notes = store.notes(call_id)
        if report_path is not None:
            from coach.review.report import render_report, stored_calls

            write_text(report_path, render_report(stored_calls(store, [call_id], None)))
    finally:
        store.close()
    if output_format == "json":
        click.echo(json.dumps({"call": detail.model_dump(mode="json"), "events": events,
                               "notes": [n.model_dump(mode="json") for n in notes]}, ensure_ascii=False, indent=1))
        return
    console = _file_console()
    when = detail.started_at or detail.created_at
    console.print(f"[bold]{escape(detail.id)}[/]  {when:%Y-%m-%d %H:%M} UTC  agent {escape(detail.agent_id or '-')}  "
                  f"team {escape(detail.team or '-')}  language {detail.language}  playbook {escape(detail.playbook)}  "
                  f"outcome {detail.outcome or '-'}")
    if detail.summary:
        console.print(f"  {escape(detail.summary)}")
    for warning in detail.warnings:
        console.print(f"  [yellow]warning[/] {escape(warning.code)}: {escape(warning.message)}")
    by_utterance: dict[int | None, list] = {}
    for note in notes:
        by_utterance.setdefault(note.utterance_id, []).append(note)
    for payload in events:
        event = parse_event(payload)
        _print_event(console, event)
        if event.type == "utterance":
            for note in by_utterance.pop(event.utterance_id, []):
                console.print(f"{'':16}[bold yellow]note[/] {escape(note.author)}{_edited(note)}: {escape(note.text)}")
    for note in by_utterance.get(None, []):
        console.print(f"[bold yellow]note[/] {escape(note.author)} ({note.created_at:%Y-%m-%d}){_edited(note)}: "
                      f"{escape(note.text)}")
    if report_path is not None:
        click.echo(f"report: {report_path}", err=True)


@calls.command("delete")
@click.argument("call_ids", nargs=-1, required=True)
@click.option("--yes", is_flag=True, help="Do not ask before deleting.")
def calls_delete(call_ids: tuple[str, ...], yes: bool) -> None:
    """Delete stored calls for good: transcript, events, notes, alerts and kept audio (a debtor's
    request to erase their data, a call stored by mistake). DELETE /v1/calls/{id} does the same for
    an admin token.

    \b
    Examples:
      coach calls delete en-hardship-001
      coach calls delete c-41 c-42 --yes
    """
    store = _stored_calls_store()
    try:
        for call_id in call_ids:
            store.get_call(call_id)  # every id is checked before anything is deleted
        if not yes:
            click.confirm(f"delete {len(call_ids)} call(s) ({', '.join(call_ids)}) and everything stored with them?",
                          abort=True, err=True)
        for call_id in call_ids:
            store.delete_call(call_id)
            click.echo(f"deleted {call_id}", err=True)
    finally:
        store.close()


def _edited(note) -> str:
    return f" [dim](edited {note.edited_at:%Y-%m-%d %H:%M} UTC)[/]" if note.edited_at else ""


@main.group()
def playbook() -> None:
    """Inspect and test playbooks."""


@playbook.command("list")
def playbook_list() -> None:
    """List the installed playbooks: the shipped ones and the <id>.yaml files in COACH_PLAYBOOK_DIR
    (the ids a live stream or an upload may name). A file there that does not load says why.

    \b
    Examples:
      coach playbook list
      COACH_PLAYBOOK_DIR=/srv/coach/playbooks coach playbook list
    """
    from coach.playbook import PlaybookRegistry, load_playbook

    registry = PlaybookRegistry.from_settings()
    shipped = registry.shipped()
    for playbook_id, path in registry.paths().items():
        origin = "shipped" if playbook_id in shipped else "installed"
        try:
            book = load_playbook(path)
        except CoachError as exc:
            click.echo(f"{playbook_id}  invalid ({exc.message.splitlines()[-1].strip()})  {origin}: {path}")
            continue
        click.echo(f"{playbook_id}  v{book.version}  {book.language}  {book.name}  {origin}: {path}")


@playbook.command("check")
@click.argument("path")
@click.option("--min-accuracy", type=float, default=None, help="Exit 1 if any intent's held-out accuracy is below this (0-1).")
@click.option("--folds", type=click.IntRange(min=2), default=None,
              help="K-fold cross-validation instead of leave-one-out: much faster, slightly pessimistic "
                   "(default: leave-one-out up to 1,000 examples, else 10 folds).")
def playbook_check(path: str, min_accuracy: float | None, folds: int | None) -> None:
    """Validate a playbook and report the leave-one-out accuracy of its own examples per intent.

    Each example is classified by a model fitted on all the others, as an unseen utterance would
    be: a low figure means the intent's examples overlap another's or are too few.

    \b
    Examples:
      coach playbook check playbooks/en-US-collections.yaml
      coach playbook check my-playbook.yaml --min-accuracy 0.8
    """
    from coach.engine import CoachEngine
    from coach.playbook import load_playbook
    from coach.playbook.evaluation import evaluate_calibration, evaluate_detector

    book = load_playbook(path)
    click.echo(
        f"{path}: valid playbook {book.id} v{book.version} ({book.language}): {len(book.intents)} intents, "
        f"{len(book.emotions)} emotions, {len(book.rules)} rules, {len(book.stages)} stages, {len(book.scorecard)} scorecard checks"
    )
    engine = CoachEngine(book)
    report = evaluate_detector(engine.detector, folds)
    console = Console(highlight=False)
    table = Table(title=f"{report.method} accuracy ({engine.space.method}; abstain below {engine.detector.threshold:.2f})")
    table.add_column("intent")
    table.add_column("examples", justify="right")
    table.add_column("accuracy", justify="right")
    table.add_column("most confused with")
    for score in report.per_intent + [report.non_objection]:
        confused = ", ".join(f"{k} x{v}" for k, v in score.confused_with.most_common(2))
        name = "(non-objection)" if score is report.non_objection else score.intent
        colour = "red" if score.accuracy < 0.7 else "yellow" if score.accuracy < 0.85 else "green"
        table.add_row(name, str(score.examples), f"[{colour}]{score.accuracy:.0%}[/]", confused)
    console.print(table)
    click.echo(
        f"overall {report.method} intent accuracy: {report.intent_accuracy:.1%}; non-objection kept silent: "
        f"{report.non_objection.correct}/{report.non_objection.examples}"
    )
    calibration = evaluate_calibration(engine.detector)
    if calibration is not None:
        click.echo(
            f"calibration examples (written apart from the training examples; the threshold is chosen on them): top hint right "
            f"{calibration.top_hint_right}/{calibration.with_intent}, a hint on "
            f"{calibration.false_hints}/{calibration.without_intent} that carry none"
        )
    if min_accuracy is not None and report.worst.accuracy < min_accuracy:
        click.echo(f"error: intent {report.worst.intent} ({report.worst.accuracy:.0%}) is below --min-accuracy {min_accuracy:.0%}", err=True)
        sys.exit(1)


@main.group(invoke_without_command=True)
@_call_filters
@click.option("--playbook", "playbook_ref", help="Playbook (id or path) for its language's calls. Default: each language's.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: the whole result on standard output (docs/mining.md).")
@click.option("--report", "report_path", type=click.Path(path_type=Path), help="Write a self-contained HTML report.")
@click.option("--min-calls", type=click.IntRange(min=1), default=5, show_default=True,
              help="Fewer calls than this: a rate is shown but not ranked (too few calls).")
@click.option("--max-calls", type=click.IntRange(min=1), default=None,
              help="Mine at most the newest N calls. Default: COACH_MINING_MAX_CALLS (2000).")
@click.option("--min-cluster-size", type=click.IntRange(min=2), default=5, show_default=True,
              help="Smallest group of utterances reported as a cluster.")
@click.option("--ray", "use_ray", is_flag=True,
              help="Read and embed the calls' pages in Ray actors (pip install 'coach[ray]'): a local Ray on this "
                   "machine's cores, or the cluster of --ray-address; clustering runs here. Same result as without it.")
@click.option("--ray-address", metavar="HOST:PORT",
              help="A Ray cluster's head node (`ray start --head` prints it; implies --ray). Its nodes must reach "
                   "COACH_DATABASE_URL.")
@click.pass_context
def mine(ctx: click.Context, since, until, team: str | None, agent_id: str | None, language: str | None,
         outcome: str | None, playbook_ref: str | None, output_format: str, report_path: Path | None, min_calls: int,
         max_calls: int | None, min_cluster_size: int, use_ray: bool, ray_address: str | None) -> None:
    """Trainers: mine the stored calls (COACH_DATABASE_URL) for the objections that come up, the answers
    that lead to a promise to pay, and what debtors say that the playbook misses (clusters).

    \b
    Examples:
      coach mine
      coach mine --since 2026-10-01 --team north --format json > mined.json
      coach mine --language zh --report mining.html
      coach mine --ray --format json > mined.json                # pages read and embedded on a local Ray
      coach mine --since 2026-10-01 export --cluster en-1 --as-intent credit_report --out my-book.yaml
    """
    from coach.config import read_settings
    from coach.mining import MiningOptions, MiningSettings
    from coach.mining.corpus import check_filters
    from coach.storage import CallFilter

    filters = CallFilter(date_from=since.date() if since else None, date_to=until.date() if until else None, team=team,
                         agent_id=agent_id, language=language, outcome=outcome)
    check_filters(filters)
    if report_path is not None:
        check_writable(report_path)
    limits = read_settings(MiningSettings)
    options = MiningOptions(max_calls=max_calls or limits.max_calls, min_calls=min_calls,
                            min_cluster_size=min_cluster_size, playbook=playbook_ref)
    ctx.obj = {"filters": filters, "options": options}
    if ctx.invoked_subcommand is not None:
        return
    import contextlib
    import json

    from coach.config import get_settings
    from coach.mining import mine as run_mining
    from coach.storage import CallStore

    settings = get_settings()
    with contextlib.ExitStack() as stack:
        if use_ray or ray_address:  # joined before the database is opened: a cluster that fails us changes nothing
            from coach.mining.distributed import mine_on_ray, mining_ray_session

            stack.enter_context(mining_ray_session(ray_address, verbose=logging.getLogger().isEnabledFor(logging.INFO)))
        store = CallStore(settings.database(), settings)
        stack.callback(store.close)
        if use_ray or ray_address:
            result = mine_on_ray(store, filters, options=options, settings=settings, database_url=settings.database())
        else:
            result = run_mining(store, filters, options=options, settings=settings)
    if output_format == "json":
        click.echo(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=1))
    else:
        _print_mining(Console(highlight=False), result, _selection_args(ctx))
    if report_path:
        from coach.mining.report import write_mining_report

        write_mining_report(report_path, result)
        Console(highlight=False, stderr=True).print(f"report: {report_path}")


@mine.command("export")
@click.option("--cluster", "cluster_id", required=True, help="The cluster's id, as coach mine lists it (e.g. en-1).")
@click.option("--as-intent", help="Make it a new intent with this id (e.g. credit_report).")
@click.option("--into-intent", help="Add its utterances to the examples of this existing intent.")
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path),
              help="Where to write the patched playbook (never a shipped playbook).")
@click.option("--name", help="The new intent's name, as agents see it. Default: from its id.")
@click.option("--response", help="What the agent should say to it (the new intent's first response). Required "
                                 "with --as-intent: agents are shown it on live calls, so there is no placeholder; "
                                 "not used with --into-intent.")
@click.option("--playbook-id", help="The patched playbook's id. Default: <base id>-mined.")
@click.option("--folds", type=click.IntRange(min=2), default=None,
              help="K-fold cross-validation instead of exact leave-one-out for the before/after figures (faster).")
@click.option("--no-evaluate", is_flag=True, help="Skip the before/after accuracy figures.")
@click.option("--overwrite", is_flag=True, help="Replace --out if it exists.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def mine_export(ctx: click.Context, cluster_id: str, as_intent: str | None, into_intent: str | None, out_path: Path,
                name: str | None, response: str | None, playbook_id: str | None, folds: int | None, no_evaluate: bool,
                overwrite: bool, output_format: str) -> None:
    """Export a cluster into a playbook: as a new intent or as more examples of one. The patched
    playbook goes to --out, validated as coach playbook check does; the shipped one is never touched.
    Give the same filters as when the cluster was listed (they come before `export`).

    \b
    Examples:
      coach mine export --cluster en-1 --as-intent credit_report --name "Credit report worries" \\
        --response "I can explain how this account shows on your credit report." --out en-credit.yaml
      coach mine --language zh export --cluster zh-2 --into-intent settlement_request --out zh-patch.yaml --folds 10
      coach playbook check en-credit.yaml
    """
    import dataclasses
    import json

    from coach.config import get_settings
    from coach.errors import InputError
    from coach.mining.corpus import load_corpus
    from coach.mining.export import check_export, export_cluster
    from coach.mining.miner import engines_for, mine_corpus
    from coach.storage import CallStore

    check_export(out_path, as_intent=as_intent, into_intent=into_intent, response=response, overwrite=overwrite)
    filters, options = ctx.obj["filters"], ctx.obj["options"]
    options = dataclasses.replace(options, parts=frozenset({"clusters"}))
    settings = get_settings()
    store = CallStore(settings.database(), settings)
    try:
        corpus = load_corpus(store, filters, max_calls=options.max_calls)
    finally:
        store.close()
    engines = engines_for(corpus, options.playbook, settings)
    result = mine_corpus(corpus, filters, options, settings=settings, engines=engines)
    cluster = next((c for c in result.clusters if c.id == cluster_id), None)
    if cluster is None:
        known = ", ".join(f"{c.id} ({c.label})" for c in result.clusters) or "none"
        raise InputError(f"no cluster {cluster_id[:60]!r} in these calls; their clusters: {known}",
                         hint="give the same filters as when you listed the clusters (before `export`)")
    exported = export_cluster(cluster, engines[cluster.language], out_path, as_intent=as_intent, into_intent=into_intent,
                              name=name, response=response, playbook_id=playbook_id, folds=folds,
                              evaluate=not no_evaluate, overwrite=overwrite,
                              source=_playbook_file(engines[cluster.language], options.playbook))
    if output_format == "json":
        click.echo(json.dumps(exported.model_dump(mode="json"), ensure_ascii=False, indent=1))
        return
    what = "new intent" if exported.action == "new_intent" else "more examples of"
    click.echo(f"wrote {exported.path}: playbook {exported.playbook_id} = {exported.base} + cluster {exported.cluster} "
               f"as {what} {exported.intent} ({exported.examples_added} examples, {exported.skipped} already in the "
               "playbook or repeated)")
    if exported.before and exported.after:
        click.echo(f"{exported.after.method} intent accuracy: {exported.before.intent_accuracy:.1%} before, "
                   f"{exported.after.intent_accuracy:.1%} after; non-objection kept silent "
                   f"{exported.before.non_objection_silent:.1%} before, {exported.after.non_objection_silent:.1%} after")
        table = Table("intent", "before", "after", title="intents whose accuracy changed", title_justify="left")
        for intent, after in exported.after.per_intent.items():
            before = exported.before.per_intent.get(intent)
            if before is None or abs(after - before) >= 0.01:
                table.add_row(intent, "-" if before is None else f"{before:.0%}", f"{after:.0%}")
        Console(highlight=False).print(table)
    for item in exported.todo:
        click.echo(f"todo: {item}")
    click.echo(f"check it: coach playbook check {exported.path}")


def _playbook_file(engine, ref: str | None):
    """The file ``engine``'s playbook was read from (``--playbook``, or its installed id), if known: an
    export edits it with its comments kept."""
    from coach.errors import InvalidPlaybookError, PlaybookError
    from coach.playbook import load_playbook
    from coach.playbook.loader import resolve_playbook_path

    for candidate in filter(None, (ref, engine.playbook.id)):
        try:
            path = resolve_playbook_path(candidate)
            book = load_playbook(path)
        except (PlaybookError, InvalidPlaybookError, OSError):
            continue
        if (book.id, book.version) == (engine.playbook.id, engine.playbook.version):
            return path
    return None


#: The `coach mine` options that decide which calls are read and how they cluster: an export must repeat
#: them, or a cluster id names another run's cluster (ids are numbered per run).
MINING_SELECTION = ("since", "until", "team", "agent_id", "language", "outcome", "playbook_ref", "min_calls",
                    "max_calls", "min_cluster_size")


def _selection_args(ctx: click.Context) -> str:
    """The selection options given to `coach mine`, as they would be typed again."""
    import datetime as dt
    import shlex

    parts = []
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        if param.name not in MINING_SELECTION or value is None or value == param.default:
            continue
        if isinstance(value, dt.datetime):
            value = value.date().isoformat()
        parts.append(f"{param.opts[0]} {shlex.quote(str(value))}")
    return " ".join(parts)


def _print_mining(console: Console, result, selection: str = "") -> None:
    """The mining result as tables: intents, what works, clusters. ``selection``: the options the
    printed export command repeats (:func:`_selection_args`)."""
    window = result.window
    span = f"{window.weeks[0]} to {window.weeks[-1]}" if window.weeks else "-"
    languages = ", ".join(f"{k} {v}" for k, v in window.languages.items())
    console.print(f"[bold]{window.calls} calls[/] ({languages}), {span}")
    if window.truncated:
        console.print(f"[yellow]more calls match: the newest {window.max_calls} were mined (--max-calls)[/]")
    table = Table(title="Intents", title_justify="left")
    for column in ("intent", "calls", "share", "utterances", "weekly trend", "top team"):
        # a narrow terminal folds a long trend onto more lines rather than cutting off its latest weeks
        table.add_column(column, justify="right" if column in ("calls", "share", "utterances") else "left",
                         overflow="fold")
    for item in result.intents:
        top = item.by_team[0] if item.by_team else None
        table.add_row(item.intent, str(item.calls), f"{item.share_of_calls:.0%}", str(item.utterances),
                      _sparkline([w.calls for w in item.weekly]),
                      f"{top.key or '-'} ({top.share_of_calls:.0%})" if top else "-")
    console.print(table)
    for objection in result.responses:
        table = Table(title=f"What works: {objection.intent} ({objection.language}, {objection.calls} calls)",
                      title_justify="left")
        for column in ("rank", "answer", "calls", "promise/paid", "95% interval"):
            table.add_column(column)
        for group in objection.groups:
            answer = "off script" if group.response == "off_script" else group.response.split("#intents/")[-1]
            said = group.text or (f"e.g. {group.examples[0]}" if group.examples else "")
            table.add_row(str(group.rank) if group.rank else f"[dim]{group.note}[/]",
                          f"{escape(answer)} [dim]{escape(said[:60])}[/]", str(group.calls),
                          f"{group.successes} ({group.rate:.0%})", f"{group.low:.0%}-{group.high:.0%}")
        if objection.by_agent:
            table.add_section()
        for agent in objection.by_agent:
            table.add_row(str(agent.rank) if agent.rank else f"[dim]{agent.note}[/]", f"agent {escape(agent.agent_id or '-')}",
                          str(agent.calls), f"{agent.successes} ({agent.rate:.0%})", f"{agent.low:.0%}-{agent.high:.0%}")
        console.print(table)
    table = Table(title="What the playbook misses (clusters)", title_justify="left")
    for column in ("id", "label", "size", "calls", "new", "weekly trend", "keywords", "for example"):
        table.add_column(column, overflow="fold")
    for cluster in result.clusters:
        table.add_row(cluster.id, escape(cluster.label), str(cluster.size), str(cluster.calls), "new" if cluster.new else "",
                      _sparkline([w.utterances for w in cluster.weekly]), escape(", ".join(cluster.keywords[:6])),
                      escape(" | ".join(cluster.representatives[:2])))
    console.print(table)
    if result.clusters:
        console.print(f"[dim]export one: {escape(_export_command(result.clusters[0], selection))}[/]")
    for left in result.unclustered:
        said = " | ".join(m.text for m in left.examples[:UNCLUSTERED_PRINTED])
        console.print(f"Not yet a topic ({left.language}): {left.count} debtor utterance{'s' if left.count != 1 else ''} "
                      f"that no intent claims and no cluster holds (--min-cluster-size), "
                      f"e.g. [dim]{escape(said)}[/]")


#: Unclustered utterances quoted in the text output (--format json has up to 30 per language).
UNCLUSTERED_PRINTED = 5


def _export_command(cluster, selection: str = "") -> str:
    """How to turn ``cluster`` into playbook examples: an intent of its own when it is big enough, else
    examples of the intent that claimed most of its members (as the trainer page says)."""
    if cluster.enough_for_an_intent:
        what = '--as-intent NAME --response "what the agent should say"'
    else:
        what = f"--into-intent {max(cluster.claimed, key=cluster.claimed.get) if cluster.claimed else 'INTENT_ID'}"
    mine = f"coach mine {selection}" if selection else "coach mine"
    return f"{mine} export --cluster {cluster.id} {what} --out {cluster.id}.yaml"


def _sparkline(values: list[int]) -> str:
    bars = "▁▂▃▄▅▆▇█"
    top = max(values, default=0)
    return "".join(bars[0] if not top else bars[round(v / top * (len(bars) - 1))] for v in values)


def _quiet_libraries() -> None:
    for name in ("sentence_transformers", "transformers", "huggingface_hub"):
        logging.getLogger(name).setLevel(logging.ERROR)


if __name__ == "__main__":  # pragma: no cover
    main()
