"""Rasa NLG (endpoints.yml `nlg: type: bot.rasa.nlg.SafetyNoteNLG`): domain responses, plus one closing line.

When the safety net decided that danger is mentioned but not happening now (parse data "safety", outcome not_now),
the first answer of the turn ends with "If this is happening right now, call 911" (and 988 for self-harm words),
worded in config/safety.yml (`notes`). An answer that already gives 911 keeps
its own words. A generator, not a rule, because the note belongs after whichever topic the classifier chose.
The turn after an emergency answer repeats it instead of a weakly placed topic (`_emergency_again`).
"""

from __future__ import annotations

import re
from typing import Any, Dict, Optional, Text, Tuple

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.core.after_emergency import (
    HELP_ON_THE_WAY,
    acknowledgement,
    afraid_once_helped,
    asks,
    asks_beyond_help,
    asks_if_ok,
    asks_once_helped,
    denies_danger,
    emergency_answers_in_a_row,
    emergency_for_check,
    for_own_denial,
    help_called,
    help_present,
    own_denial,
    previous_crisis_answer,
    says_now,
)
from bot.core.safety import MEDICAL, SafetyNet
from bot.core.settings import load_yaml, setting_path

# everyday replies and fear right after an emergency answer ("ok", "thank you", "im so scared") get the
# acknowledgement, which repeats the guidance, instead of "You're welcome" or "Take care"
SOCIAL = ("utter_affirm", "utter_thank", "utter_goodbye", "utter_deny", "utter_express_overwhelmed")
# answers that are not a topic but, right after an emergency answer, are guesses all the same: "ambulance is coming
# from 20 miles out what do i do till they get here" placed off-topic, "i rang 999 they said do cpr im doing it"
# placed as asking for a person (dialogues50) get the guidance, like a weakly placed topic
GUESSES = ("utter_out_of_scope", "utter_request_human")


class SafetyNoteNLG(TemplatedNaturalLanguageGenerator):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, domain: Optional[Domain] = None) -> None:
        super().__init__((domain or Domain.empty()).responses)

    async def generate(
        self, utter_action: Text, tracker: DialogueStateTracker, output_channel: Text, **kwargs: Any
    ) -> Optional[Dict[Text, Any]]:
        echoed = _echoed_topic(tracker) if utter_action.startswith("utter_safety_check_") else None
        if echoed:  # "seizures??" right after an answer that said "seizures": a reaction to it, not an emergency
            response = await super().generate(echoed, tracker, output_channel, **kwargs)
            note = SafetyNet.from_settings().notes[MEDICAL if "medical" in utter_action else "self_harm"]
            return {**response, "text": f"{response['text']}\n\n{note}"} if response else response
        denied = self._denied(tracker, utter_action)
        if denied:  # "she says she won't do anything", "im not going to do anything i just needed to say it. is
            utter_action = denied  # there someone i can talk to" (dialogues20, 24): a denial is not safety
        elif self._afraid(tracker, utter_action):  # "the paramedics took her. i feel sick and im shaking"
            utter_action = "utter_express_overwhelmed"
        elif utter_action == "utter_affirm" and _opening(tracker):  # "alright" opening a conversation is a hello
            utter_action = "utter_greet"  # (dialogues39): there is nothing yet to agree to
        elif utter_action.startswith("utter_ask_") or utter_action in GUESSES:  # a topic, or the menu ("ok called
            utter_action = _emergency_again(tracker) or utter_action  # 911 what do i do til they get here" is no
            # request for the menu)
        elif utter_action in SOCIAL and _acknowledge(utter_action, _after_emergency(tracker)):
            utter_action = HELP_ON_THE_WAY
        if utter_action == HELP_ON_THE_WAY:  # "ok calling 911 now": acknowledged (config/followups.yml)
            return {"text": acknowledgement()}
        response = await super().generate(utter_action, tracker, output_channel, **kwargs)
        if response and utter_action.startswith("utter_emergency_"):
            response = {**response, "answered_as": utter_action}  # the event's metadata: what this turn answered
        if not utter_action.startswith("utter_ask_") or utter_action == "utter_ask_topics":
            return response  # the line closes an information answer, not a menu or a question
        note = self._note(tracker) or _after_self_harm_note(tracker)
        if response and note and response.get("text") and "911" not in response["text"]:
            response = {**response, "text": f"{response['text']}\n\n{note}"}
        return response

    def _denied(self, tracker: DialogueStateTracker, utter_action: str) -> Optional[str]:
        """The answer to give when this message denies the danger right after an emergency answer, whatever the
        classifier made of it (a topic, a person, "ok"), or None. The emergency answer again after an emergency
        answer ("she says she won't do anything"). When the writer says it of themselves (config/followups.yml
        `own_denial`), also after "Is this happening right now?" about self-harm words: the 988 answer when they ask
        for a person (`asks_for_person`), else the answer as chosen when it gives 988 itself, else
        `own_denial_answer` (feeling overwhelmed, which gives 988). None when someone is with them (`help_present`)
        or the answer was already repeated (`after_emergency_repeats`)."""
        if utter_action.startswith(("utter_emergency_", "utter_safety_check_")) or _answered_this_turn(tracker):
            return None  # the turn's first answer only: not the helpline line after it
        found = _after_emergency(tracker)
        if not found or help_present(found[2]):
            return None
        previous, _, text = found
        own = own_denial(text)
        if previous.startswith("utter_safety_check_self_harm") and own:
            emergency = emergency_for_check(previous)
        elif previous.startswith("utter_emergency_") and denies_danger(text):
            emergency = previous
        else:
            return None
        repeated = emergency_answers_in_a_row(event.as_dict() for event in reversed(tracker.events))
        if repeated > int(load_yaml("config/followups.yml").get("after_emergency_repeats", 1)):
            return None
        instead = for_own_denial(text, emergency)
        if instead and any("988" in str(v.get("text", "")) for v in self.responses.get(utter_action, [])):
            return utter_action  # as chosen, not the acknowledgement ("please stay with them") either
        return instead or emergency

    @staticmethod
    def _afraid(tracker: DialogueStateTracker, utter_action: str) -> bool:
        """Whether this turn's first answer is the one for feeling overwhelmed: the writer's fear or shock once help is
        there or called (bot.core.after_emergency.afraid_once_helped), unless it also asks a question the classifier
        placed at config/safety.yml `after_emergency_with_help_below` or more."""
        if utter_action.startswith(("utter_emergency_", "utter_safety_check_")) or _answered_this_turn(tracker):
            return False
        found = _after_emergency(tracker)
        if not found or not afraid_once_helped(found[2]):
            return False
        settings = load_yaml(str(setting_path("safety_patterns")))
        placed = found[1] >= float(settings.get("after_emergency_with_help_below", 0.5))
        return not (placed and utter_action.startswith("utter_ask_") and utter_action != "utter_ask_topics")

    def _note(self, tracker: DialogueStateTracker) -> Optional[str]:
        """The closing line this turn needs, if this is the turn's first answer and the message was "not now"."""
        for event in reversed(tracker.events):
            if isinstance(event, BotUttered):
                return None  # the turn's first answer already carried it
            if isinstance(event, UserUttered):
                safety = (event.parse_data or {}).get("safety") or {}
                if safety.get("outcome") != "not_now":
                    return None
                return SafetyNet.from_settings().notes[MEDICAL if safety.get("kind") == MEDICAL else "self_harm"]
        return None


def _after_self_harm_note(tracker: DialogueStateTracker) -> Optional[str]:
    """The 988 closing line for an information answer given the turn right after a self-harm emergency answer, while
    nobody is with them or called ("is this the withdrawal talking?" after "he says he wants to die", dialogues40):
    the question is answered, and the helpline stays in the bubble the family reads last."""
    if _answered_this_turn(tracker):
        return None
    found = _after_emergency(tracker)
    if not found or not found[0].startswith(("utter_emergency_self_harm", "utter_emergency_both")):
        return None
    if help_present(found[2]) or help_called(found[2]):
        return None
    return SafetyNet.from_settings().notes["self_harm"]


def _echoed_topic(tracker: DialogueStateTracker) -> Optional[str]:
    """The last topic's answer, when the message asked about only repeats the danger word that answer used
    ("seizures??", "wdym seizures" after the quitting answer): at most `echo_max_words` words (config/safety.yml) beside
    a cause asked about (`echo_cause`: "Seizures?? from stopping a pill?"), the
    matched phrase found in the previous answer, and a topic being talked about."""
    latest = tracker.latest_message
    phrase = str(((latest.parse_data or {}).get("safety") or {}).get("phrase") or "").lower() if latest else ""
    topic = tracker.get_slot("last_topic")
    settings = load_yaml(str(setting_path("safety_patterns")))
    words = re.sub(str(settings.get("echo_cause") or r"(?!)"), "", (latest.text or "").lower()) if latest else ""
    if not phrase or not topic or len(words.split()) > int(settings.get("echo_max_words", 0)):
        return None
    said, user_seen = [], False
    for event in reversed(tracker.events):  # every bubble of the previous turn: the answer, then any escalation line
        if isinstance(event, UserUttered):
            if user_seen:
                break
            user_seen = True
        elif isinstance(event, BotUttered) and user_seen:
            said.append(" ".join((event.text or "").lower().split()))
    return f"utter_{topic}" if any(phrase in text for text in said) else None


def _opening(tracker: DialogueStateTracker) -> bool:
    """Whether the latest message is the conversation's first and nothing has been answered yet."""
    users = [e for e in tracker.events if isinstance(e, UserUttered)]
    return len(users) == 1 and not any(isinstance(e, BotUttered) for e in tracker.events)


def _answered_this_turn(tracker: DialogueStateTracker) -> bool:
    for event in reversed(tracker.events):
        if isinstance(event, (BotUttered, UserUttered)):
            return isinstance(event, BotUttered)
    return False


def _after_emergency(tracker: DialogueStateTracker) -> Optional[Tuple[str, float, str]]:
    return previous_crisis_answer(event.as_dict() for event in reversed(tracker.events))


def _acknowledge(utter_action: str, found: Optional[Tuple[str, float, str]]) -> bool:
    """Whether an everyday reply gets the acknowledgement: after an emergency answer (or the acknowledgement), any;
    after "Is this happening right now?", only leaving, thanks ("ok im going to wake him") or help on its way - "yes"
    and "no" answer the question (rules, action_answer_after_check)."""
    if not found:
        return False
    if utter_action == "utter_express_overwhelmed" and help_present(found[2]):
        return False  # "paramedics took her in. i feel awful i didnt stop her" (dialogues30, 35): help is there, the
        # feeling answered; help only called ("ok i called 911 theyre coming", dialogues4) keeps the guidance, and
        # fear told with the call ("i rang lifeline ... im just so scared") was answered as fear before this (_afraid)
    if found[0].startswith("utter_safety_check_"):  # or one saying help is on its way ("ive got his mate going
        return utter_action in ("utter_goodbye", "utter_thank") or help_called(found[2])  # round now", dialogues30)
    return True


_ASKING_OPENER = re.compile(r"^\W*(?:would|could|can|will|is|are|do|does|did|should|has|have|was|were|what|how|why|"
                            r"where|when|who|which|any)\b", re.IGNORECASE)


def _more_about_it(text: str) -> bool:
    """A short statement that asks nothing and does not say they are all right ("he stop his pills 3 day ago by
    himself"): more about the emergency. Not "would dbt help with that side of it" (a question without its mark,
    dialogues35) nor "update shes ok, they kept her overnight ..." (dialogues24)."""
    net = SafetyNet.from_settings()
    return (len(text.split()) <= 15 and not asks(text) and not _ASKING_OPENER.match(text)
            and not net.reassured(net.normalise(text)))


def _emergency_again(tracker: DialogueStateTracker) -> Optional[str]:
    """The emergency answer of the previous turn, when this turn's message was placed weakly (config/safety.yml
    `after_emergency_below`, or `after_emergency_with_help_below` when someone is with them): in a crisis, a guessed
    topic must not replace the 911 / 988 guidance. A message saying help is being called, or one after the
    acknowledgement, gets the acknowledgement; after "Is this happening right now?" only one saying help is called
    does (any other answers the question). Once help is there, a question is answered as placed, as in any turn."""
    found = _after_emergency(tracker)
    if found and asks_once_helped(found[2]):
        return None  # "they took her to hospital. how do we get her proper help after this" (dialogues36), "my aunt is
        # taking her to the ER now. why did that happen" (dialogues43), also after "Is this happening now?": as placed
    if found and found[0].startswith("utter_safety_check_"):  # "what do i do until they get here" after "Is this
        if help_called(found[2]):  # happening right now?": yes, and help is coming
            return HELP_ON_THE_WAY
        return emergency_for_check(found[0]) if says_now(found[2]) else None  # "hes alone at his flat right now"
    settings = load_yaml(str(setting_path("safety_patterns")))
    if found and help_called(found[2]):  # "ok ambulance is on the way", however often the answer was given
        placed = found[1] >= float(settings.get("after_emergency_with_help_below", 0.5))
        return None if placed and asks_beyond_help(found[2]) else HELP_ON_THE_WAY  # ... "should I call his doctor"
    below = float(settings.get("after_emergency_below", 0.0))
    repeated = emergency_answers_in_a_row(event.as_dict() for event in reversed(tracker.events))
    repeats = int(load_yaml("config/followups.yml").get("after_emergency_repeats", 1))
    present = bool(found) and help_present(found[2])
    waiting = bool(found) and not present and asks_if_ok(found[2])  # "is he going to be ok??" while help comes
    if found and not waiting and (present or repeated > repeats or found[0] == HELP_ON_THE_WAY):
        # "her mom is with her now. what treatment is there", a question after the answer was already repeated, or
        # after the acknowledgement ("how do i stop this ever happening again", dialogues30)
        below = float(settings.get("after_emergency_with_help_below", below))
    if (found and found[0].startswith("utter_emergency_") and not present and repeated <= repeats
            and not help_called(found[2]) and _more_about_it(found[2])):
        return found[0]  # a statement right after the emergency answer, with no one there or called yet ("he stop
        # his pills 3 day ago by himself" after "my son is shaking on the floor", dialogues60): more about the
        # emergency, however confidently placed on a topic - the guidance again, not the topic
    if not found or found[1] >= below:
        return None
    previous, _, text = found
    # help has come ("they took her. is she gonna be ok", dialogues29), or the answer was already repeated
    # ("he's promised he'll do it properly next time. what does properly even mean", dialogues34): not "Call 911 now"
    # again, the acknowledgement, which still gives 911 and 988
    acknowledged = previous == HELP_ON_THE_WAY or help_called(text) or present or repeated > repeats
    return HELP_ON_THE_WAY if acknowledged else previous
