"""Rasa NLU component: a message that only points back at the last answer is resolved in context, not classified.

"Is that normal?", "both??", "so what now", "what can happen" have no subject of their own
(bot.core.pointing.no_subject), yet the classifier places them - often confidently - on whichever topic their few
words lean to ("both??" on doctor shopping, "is that normal?" after the withdrawal answer on quitting cold turkey) or
on the topic menu ("so what now" after the relapse answer). An NLU component cannot see the conversation, so such a
message placed on an information topic or on the menu (unless addressed to the assistant: "what can you do?") goes
to action_clarify as nlu_fallback (after the FallbackClassifier in config.yml), which answers it from the last topic
(more of the source on it) and asks "Did you mean ...?" only when there is none. The classifier's ranking stays,
after nlu_fallback, for the action and for staff. Messages the safety net decided, and the follow-up intents of
their own ("and after that?", "is that safe?", "how long does that take?"), are left alone. "What do we do now?"
(bot.core.pointing.asks_what_to_do), "could the pills be doing that?" (asks_about_cause) and "does it actually work?"
(only_asks_about_efficacy: after the CBT answer, five blind dialogue sets expected CBT, not "is recovery possible") are
resolved the same way: they ask about what was just said. So is "is that normal?" placed on "is that safe?": with no
word of safety in it (no_subject has none), it asks about the answer, not about safety (dialogues38, after the
answer on stopping all at once).
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.core import pointing
from bot.core.content import information_intents, titles
from bot.rasa.untrained import UntrainedComponent

# where the classifier puts "could the pills be causing that?" or "what now?" besides the topics: the menu, "is that
# safe?" (its own follow-up, which answers only whether the last topic's steps are safe) and "that isn't covered"
ASKED_ABOUT_THE_LAST_ANSWER = ("ask_topics", "ask_followup_is_it_safe", "ask_not_covered")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class PointingFollowup(UntrainedComponent):
    def __init__(self, config: Dict[Text, Any]) -> None:
        self.follow = pointing.settings()
        self.topics = set(information_intents()) & set(titles())  # topics with an answer of their own

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            text = message.get(TEXT) or ""
            name = intent.get("name")
            if (
                not message.get("safety")
                and not text.startswith("/")
                and (
                    (pointing.no_subject(text, self.follow)
                     and (name in self.topics or name == "ask_followup_is_it_safe"
                          or (name == "ask_topics" and not pointing.about_the_assistant(text))))
                    or ((pointing.asks_what_to_do(text) or pointing.asks_about_cause(text, self.follow)
                         or pointing.only_asks_about_efficacy(text, self.follow))
                        and (name in self.topics or name in ASKED_ABOUT_THE_LAST_ANSWER))
                )
            ):
                fallback = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": intent.get("confidence", 0.0)}
                message.set(INTENT, fallback, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [fallback] + list(message.get(INTENT_RANKING_KEY) or []),
                            add_to_output=True)
        return messages
