"""Voices for one case: what the child, the family and the practitioners said, read and recorded."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text
from sqlalchemy.orm import Session, sessionmaker
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, RadioButton, RadioSet, Static, TextArea
from textual.worker import Worker, WorkerState

from schemas.audit import Actor, VoiceOut, VoiceSource
from schemas.learning import TaggedKind
from workbench.services.casework import add_voice, list_voices
from workbench.services.themes import list_themes, tags_of
from workbench.tui.feedback import explain
from workbench.tui.theme_picker import TagFlow, Tagging, read_tagging, themes_line

SOURCE_LABELS = {
    VoiceSource.CHILD: "Child",
    VoiceSource.FAMILY: "Family",
    VoiceSource.PRACTITIONER: "Practitioner",
}

NO_VOICES = "No voices recorded for this case yet."


def voice_text(voice: VoiceOut, themes: str = "") -> Text:
    """One voice as the list shows it: who spoke, who recorded it and when, then the words
    (and the line of themes it is tagged with, if any)."""
    when = voice.recorded_at
    text = Text.assemble(
        (SOURCE_LABELS[voice.source], "bold"),
        (f"  recorded by {voice.recorded_by}, {when.day} {when:%b %Y}\n", "dim"),
        voice.text,
    )
    if themes:
        text.append(f"\n{themes}", style="italic")
    return text


class VoiceItem(Static, can_focus=True):
    """One recorded voice. Focusable, so a voice can be chosen (to tag it with themes)."""

    BINDINGS = [
        Binding("up", "step(-1)", "Previous voice", show=False, id="voices.up"),
        Binding("down", "step(1)", "Next voice", show=False, id="voices.down"),
    ]

    @dataclass
    class Chosen(Message):
        voice_id: int

    def __init__(self, voice: VoiceOut, themes: str = "") -> None:
        super().__init__(voice_text(voice, themes), classes="voice")
        self.voice = voice

    def show_themes(self, themes: str) -> None:
        self.update(voice_text(self.voice, themes))

    def on_focus(self) -> None:
        self.post_message(self.Chosen(self.voice.id))

    def action_step(self, step: int) -> None:
        if step < 0:
            self.screen.focus_previous(VoiceItem)
        else:
            self.screen.focus_next(VoiceItem)


class VoicesScreen(Screen[None]):
    """Lists the case's voices and records a new one; the list is read and written in workers."""

    CSS_PATH = "voices.tcss"
    BINDINGS = [
        Binding(
            "ctrl+s",
            "record",
            "Record",
            tooltip="Record what was said, with who said it",
            id="voices.record",
        ),
        Binding(
            # A control key, so it works while the text box has the focus.
            "ctrl+r",
            "themes",
            "Tag themes",
            tooltip="Tag the chosen voice with themes (Tab or click to choose one)",
            id="voices.themes",
        ),
        Binding(
            "escape",
            "back",
            "Back",
            tooltip="Back to the return (asks first if unrecorded text would be lost)",
            id="voices.back",
        ),
    ]

    @dataclass
    class Listed(Message):
        voices: list[VoiceOut]
        tags: dict[int, tuple[str, ...]] = field(default_factory=dict)
        labels: dict[str, str] = field(default_factory=dict)

    @dataclass
    class TaggingReady(Message):
        tagging: Tagging

    @dataclass
    class Recorded(Message):
        voice: VoiceOut

    @dataclass
    class Failed(Message):
        """Reading or recording failed; `reason` is one line in plain words."""

        doing: str
        reason: str

    def __init__(
        self,
        factory: sessionmaker[Session],
        actor: Actor,
        case_id: int,
        *,
        case_reference: str = "",
    ) -> None:
        super().__init__()
        self._factory = factory
        self._actor = actor
        self._case_id = case_id
        self._case_reference = case_reference
        self._discard_armed = False
        self.chosen_voice: int | None = None
        self._labels: dict[str, str] = {}
        self._tag_flow = TagFlow(self, factory, actor, self._tagged)

    def compose(self) -> ComposeResult:
        yield Header()
        case = f"case {self._case_reference}" if self._case_reference else "this case"
        yield Static(f"Voices for {case}", id="heading", markup=False)
        yield VerticalScroll(Static(NO_VOICES, id="empty", markup=False), id="voices")
        with Vertical(id="new"):
            yield Label("Who said it")
            with RadioSet(id="source"):
                for source, label in SOURCE_LABELS.items():
                    yield RadioButton(label, value=source is VoiceSource.CHILD, name=source.value)
            yield Label("What they said (in their words where you can)")
            yield TextArea(id="said")
            yield Static("", id="problem", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self._case_reference
        self.query_one("#said", TextArea).focus()
        self.load_voices()

    @work(thread=True, exclusive=True, exit_on_error=False, group="voices.load")
    def load_voices(self) -> None:
        voices = list_voices(self._factory, self._case_id)
        labels = {theme.code: theme.label for theme in list_themes(self._factory)}
        tags = {v.id: tags_of(self._factory, TaggedKind.VOICE, v.id) for v in voices}
        self.post_message(self.Listed(voices, tags, labels))

    @on(Listed)
    def _show(self, event: Listed) -> None:
        self._labels = event.labels
        box = self.query_one("#voices", VerticalScroll)
        box.remove_children(".voice")
        box.mount_all(
            VoiceItem(v, themes_line(event.tags.get(v.id, ()), event.labels)) for v in event.voices
        )
        self.query_one("#empty").display = not event.voices
        self._mark_chosen()

    @on(VoiceItem.Chosen)
    def _chosen(self, event: VoiceItem.Chosen) -> None:
        self.chosen_voice = event.voice_id
        self._mark_chosen()

    def _mark_chosen(self) -> None:
        for item in self.query(VoiceItem):
            item.set_class(item.voice.id == self.chosen_voice, "-chosen")

    def _item(self, voice_id: int) -> VoiceItem | None:
        return next((item for item in self.query(VoiceItem) if item.voice.id == voice_id), None)

    def action_themes(self) -> None:
        item = self._item(self.chosen_voice) if self.chosen_voice is not None else None
        if item is None:
            self.query_one("#problem", Static).update(
                "Choose a voice first: Tab to the list (or click one), then ctrl+r."
            )
            return
        self.query_one("#problem", Static).update("")
        voice = item.voice
        self.prepare_tagging(voice.id, voice.text, f"{SOURCE_LABELS[voice.source]}'s voice")

    @work(thread=True, exclusive=True, exit_on_error=False, group="voices.themes")
    def prepare_tagging(self, voice_id: int, text: str, subject: str) -> None:
        tagging = read_tagging(self._factory, TaggedKind.VOICE, voice_id, text, subject)
        self.post_message(self.TaggingReady(tagging))

    @on(TaggingReady)
    def _offer_tagging(self, event: TaggingReady) -> None:
        self._tag_flow.offer(event.tagging)

    def _tagged(self, tagging: Tagging, codes: tuple[str, ...]) -> None:
        self._labels.update(tagging.labels)
        item = self._item(tagging.target_id)
        if item is not None:
            item.show_themes(themes_line(codes, self._labels))

    def _source(self) -> VoiceSource:
        pressed = self.query_one("#source", RadioSet).pressed_button
        return VoiceSource(pressed.name) if pressed and pressed.name else VoiceSource.CHILD

    def action_record(self) -> None:
        text = self.query_one("#said", TextArea).text
        if not text.strip():
            self.query_one("#problem", Static).update("Type what was said first.")
            return
        self.query_one("#problem", Static).update("")
        self.record(self._source(), text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="voices.add")
    def record(self, source: VoiceSource, text: str) -> None:
        self.post_message(
            self.Recorded(add_voice(self._factory, self._actor, self._case_id, source, text))
        )

    @on(Recorded)
    def _recorded(self, event: Recorded) -> None:
        self.query_one("#said", TextArea).load_text("")
        self._discard_armed = False
        self.notify(f"{SOURCE_LABELS[event.voice.source]}'s voice recorded.", title="Recorded")
        self.load_voices()

    @on(Failed)
    def _failed(self, event: Failed) -> None:
        # The typed text stays in the field, so nothing is lost by a failed save.
        self.query_one("#problem", Static).update(f"Could not {event.doing}: {event.reason}")
        self.notify(event.reason, title=f"Could not {event.doing}", severity="error")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        doing = {
            "voices.load": "read the voices",
            "voices.add": "record the voice",
            "voices.themes": "read the themes",
        }
        if event.worker.group in doing:
            self.post_message(self.Failed(doing[event.worker.group], explain(event.worker.error)))

    def action_back(self) -> None:
        if self.query_one("#said", TextArea).text.strip() and not self._discard_armed:
            self._discard_armed = True
            self.query_one("#problem", Static).update(
                "Not recorded yet: ctrl+s records it, Esc again leaves without it."
            )
            return
        self.dismiss(None)
