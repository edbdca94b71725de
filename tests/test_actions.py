"""Custom actions, run with rasa-sdk's real Tracker and dispatcher."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, List

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import actions as actions_module
from actions.actions import NOTHING_MORE, ActionProviderContact, ActionTellMore
from bot.core import live_chat, provider
from bot.core.settings import load_yaml
from tests.servers import ROOT

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())


def user(intent: str) -> Dict[str, Any]:
    return {"event": "user", "text": intent, "parse_data": {"intent": {"name": intent, "confidence": 0.9}}}


def tracker(*intents: str) -> Tracker:
    return Tracker("t", {}, {}, [user(i) for i in intents], False, None, {}, "action_listen")


def run(action: Any, t: Tracker) -> List[Dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    action.run(dispatcher, t, DOMAIN)
    return dispatcher.messages


def test_provider_contact_is_silent_when_none_is_configured() -> None:
    assert run(ActionProviderContact(), tracker("request_human")) == []


def test_provider_contact_gives_the_configured_details(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        provider, "load_yaml",
        lambda _: {"name": "Valley Recovery", "phone": "559-555-0100", "website": "https://valley.example"},
    )
    [message] = run(ActionProviderContact(), tracker("request_human"))
    assert message["text"] == "You can also contact Valley Recovery: call 559-555-0100 or https://valley.example."


def test_the_default_provider_file_is_empty() -> None:
    """No contact details until the provider gives real ones, and live chat off (no staffed hours)."""
    data = load_yaml("config/provider.yml")
    assert not any(data.get(key) for key in ("name", "phone", "website", "hours"))
    assert not (data.get("live_chat") or {}).get("hours")


@pytest.mark.parametrize(("intent", "staffed", "offered"), [
    ("request_human", True, True), ("request_human", False, False), ("ask_medication_advice", True, False)])
def test_a_request_for_a_person_is_offered_live_chat_during_staffed_hours(
    monkeypatch: pytest.MonkeyPatch, intent: str, staffed: bool, offered: bool,
) -> None:
    hours = {day: "00:00-24:00" for day in live_chat.DAYS}
    if not staffed:
        hours.pop(live_chat.DAYS[datetime.now(timezone.utc).weekday()])
    settings = live_chat.parse({"name": "Valley Recovery", "live_chat": {"timezone": "UTC", "hours": hours}})
    monkeypatch.setattr(actions_module, "LIVE_CHAT", settings)
    latest = {"intent": {"name": intent, "confidence": 0.9}}
    messages = run(ActionProviderContact(), Tracker("t", {}, latest, [user(intent)], False, None, {}, "action_listen"))
    if offered:
        [offer] = messages
        assert offer["text"] == "Someone from Valley Recovery is available to chat with you here now."
        assert offer["custom"] == {"live_chat": {"offer": "Chat with our team"}}
    else:
        assert messages == []


def test_tell_me_more_gives_unseen_source_sentences_of_the_last_topic() -> None:
    intro, message = run(ActionTellMore(), tracker("greet", "ask_signs_of_addiction", "ask_more"))
    assert intro["text"] == "More on Signs to look for:"  # says which topic it is more on
    source = (ROOT.parent / "shared/source/benzodiazepine-addiction-treatment.txt").read_text().splitlines()
    assert message["text"] and message["text"].split(". ")[0] in " ".join(source[8:11])
    assert message["text"] not in DOMAIN["responses"]["utter_ask_signs_of_addiction"][0]["text"]
    assert message["buttons"] == DOMAIN["responses"]["utter_ask_signs_of_addiction"][0]["buttons"]


def test_tell_me_more_pages_through_and_then_says_so() -> None:
    pages = [next(m for m in run(ActionTellMore(), tracker("ask_risks_of_long_term_use", *["ask_more"] * n))
                  if not (m.get("text") or "").startswith("More on ")) for n in range(1, 6)]
    texts = [page["text"] for page in pages]
    assert texts[0] != NOTHING_MORE and texts[1] != NOTHING_MORE and texts[0] != texts[1]
    assert texts[-1] == NOTHING_MORE


def test_tell_me_more_says_so_when_the_answer_was_the_whole_paragraph() -> None:
    messages = run(ActionTellMore(), tracker("ask_dbt", "ask_more"))
    assert messages[0]["text"] == NOTHING_MORE and messages[1]["response"] == "utter_ask_topics"


def test_tell_me_more_without_a_topic_offers_the_menu() -> None:
    [message] = run(ActionTellMore(), tracker("greet", "ask_more"))
    assert message["response"] == "utter_ask_topics"


def tell_more_about(text: str, ranking: List[Dict[str, Any]], *events: Dict[str, Any]) -> Tracker:
    parse = {"text": text, "intent": ranking[0], "intent_ranking": ranking}
    return Tracker("t", {}, parse, [*events, {**user("ask_more"), "text": text}], False, None, {}, "action_listen")


def bot(response: str) -> Dict[str, Any]:
    return {"event": "bot", "text": "...", "metadata": {"utter_action": response}}


MORE_ABOUT_THERAPY = [{"name": "ask_more", "confidence": 0.69}, {"name": "ask_therapy_options", "confidence": 0.28}]


def test_tell_me_more_about_a_named_topic_answers_that_topic_not_the_last_one() -> None:
    t = tell_more_about("tell me more about the therapy part", MORE_ABOUT_THERAPY,
                        user("ask_detox_process"), bot("utter_ask_detox_process"))
    dispatcher = CollectingDispatcher()
    events = ActionTellMore().run(dispatcher, t, DOMAIN)
    assert [m["response"] for m in dispatcher.messages] == ["utter_ask_therapy_options"]  # not shown yet: its answer
    assert {"event": "slot", "name": "last_topic", "value": "ask_therapy_options"} in [
        {k: e[k] for k in ("event", "name", "value")} for e in events]


def test_tell_me_more_about_a_topic_already_answered_gives_more_of_it() -> None:
    t = tell_more_about("tell me more about the therapy part", MORE_ABOUT_THERAPY,
                        user("ask_therapy_options"), bot("utter_ask_therapy_options"),
                        user("ask_detox_process"), bot("utter_ask_detox_process"))
    intro, page = run(ActionTellMore(), t)
    assert intro["text"] == "More on Therapy options:"
    assert page["text"] not in DOMAIN["responses"]["utter_ask_therapy_options"][0]["text"]


@pytest.mark.parametrize("text", ["tell me more about that", "can you tell me more", "more on it please"])
def test_tell_me_more_about_that_continues_the_last_topic(text: str) -> None:
    t = tell_more_about(text, MORE_ABOUT_THERAPY, user("ask_detox_process"), bot("utter_ask_detox_process"))
    intro, _ = run(ActionTellMore(), t)
    assert intro["text"] == "More on What is detox?:"


# ---------------------------------------------------------------- follow-ups, "Did you mean", after the safety check
def with_slots(t: Tracker, **slots: Any) -> Tracker:
    t.slots.update(slots)
    return t


def latest(text: str, ranking: List[Dict[str, Any]], **slots: Any) -> Tracker:
    parse = {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.4}, "intent_ranking": ranking}
    event = {"event": "user", "text": text, "parse_data": parse}
    return Tracker("t", dict(slots), parse, [event], False, None, {}, "action_listen")


def test_and_after_that_walks_the_source_order_and_remembers_where_it_is() -> None:
    from actions.actions import ActionNextStep

    dispatcher = CollectingDispatcher()
    events = ActionNextStep().run(dispatcher, with_slots(tracker("ask_detox_process"), last_topic="ask_detox_process"),
                                  DOMAIN)
    assert dispatcher.messages[0]["response"] == "utter_ask_after_detox"
    assert events == [{"event": "slot", "timestamp": None, "name": "last_topic", "value": "ask_after_detox"}]


def test_what_now_after_a_relapse_is_getting_back_into_treatment() -> None:
    """"what do we do now" right after the relapse answer: seven blind dialogue sets asked it, four of them wanting
    the treatment answer (the relapse answer again the others); support groups, as before, none of them."""
    from actions.actions import ActionNextStep

    [message] = run(ActionNextStep(), with_slots(tracker("ask_relapse_happened"), last_topic="ask_relapse_happened"))
    assert message["response"] == "utter_ask_find_treatment"


def test_and_after_that_without_a_topic_offers_the_menu() -> None:
    from actions.actions import ActionNextStep

    [message] = run(ActionNextStep(), tracker("greet"))
    assert message["response"] == "utter_ask_topics"


def test_is_that_safe_answers_from_the_topic_or_says_it_is_not_covered() -> None:
    from actions.actions import ActionFollowupSafety

    [tapering] = run(ActionFollowupSafety(), with_slots(tracker("ask_tapering"), last_topic="ask_tapering"))
    assert tapering["response"] == "utter_ask_tapering"
    [cbt] = run(ActionFollowupSafety(), with_slots(tracker("ask_cbt"), last_topic="ask_cbt"))
    assert cbt["response"] == "utter_ask_not_covered"


def test_did_you_mean_offers_the_likeliest_topics_and_something_else() -> None:
    from actions.actions import ActionClarify

    ranking = [{"name": "nlu_fallback", "confidence": 0.4}, {"name": "ask_cbt", "confidence": 0.35},
               {"name": "emergency_medical", "confidence": 0.3}, {"name": "ask_dbt", "confidence": 0.2},
               {"name": "greet", "confidence": 0.05}]
    [message] = run(ActionClarify(), latest("the thinking one", ranking))
    assert "Did you mean" in message["text"]
    assert [b["payload"] for b in message["buttons"]] == ["/ask_cbt", "/ask_dbt", "/ask_topics"]  # no emergency


def test_a_follow_up_the_last_answer_offered_is_answered_not_asked_about() -> None:
    from actions.actions import ActionClarify

    ranking = [{"name": "ask_detox_process", "confidence": 0.3}, {"name": "ask_cbt", "confidence": 0.25}]
    dispatcher = CollectingDispatcher()
    events = ActionClarify().run(dispatcher, latest("so whats the safer way", ranking,
                                                    last_topic="ask_quitting_cold_turkey"), DOMAIN)
    assert dispatcher.messages[0]["response"] == "utter_ask_detox_process"  # a button of the cold-turkey answer
    assert events[0]["value"] == "ask_detox_process"
    [asked] = run(ActionClarify(), latest("so whats the safer way", ranking, last_topic="ask_dbt"))
    assert "Did you mean" in asked["text"]  # not related to DBT: ask


def test_two_likely_everyday_replies_get_one_not_a_rephrase() -> None:
    from actions.actions import ActionClarify

    split = [{"name": "nlu_fallback", "confidence": 0.1}, {"name": "affirm", "confidence": 0.44},
             {"name": "thank", "confidence": 0.43}]
    [answer] = run(ActionClarify(), latest("ok ty", split))
    assert answer["response"] == "utter_thank"
    # "do they actually help" right after an answer asks about it, even placed between thank and affirm (dialogues10)
    helps = [{"name": "nlu_fallback", "confidence": 0.1}, {"name": "thank", "confidence": 0.3},
             {"name": "affirm", "confidence": 0.25}]
    [more, *_] = run(ActionClarify(), latest("do they actually help", helps, last_topic="ask_support_groups"))
    assert more.get("response") != "utter_thank" and "Support groups" in str(more)
    topic_too = [{"name": "affirm", "confidence": 0.3}, {"name": "ask_cbt", "confidence": 0.25}]
    [asked, *_] = run(ActionClarify(), latest("ok cbt", topic_too))
    assert "utter_" not in str(asked.get("response"))  # a topic among the two: still asked or rephrased


def test_nothing_likely_asks_to_rephrase_with_the_menu() -> None:
    from actions.actions import ActionClarify

    messages = run(ActionClarify(), latest("qwerty", [{"name": "ask_cbt", "confidence": 0.05}]))
    assert "rephrase" in messages[0]["text"] and messages[1]["response"] == "utter_ask_topics"


@pytest.mark.parametrize("text, response", [
    ("no im not going to do anything. i just needed to say it to someone", "utter_express_overwhelmed"),
    ("im not going to do anything. is there someone i can actually talk to", "utter_emergency_self_harm"),
    ("she says she wont do anything", "utter_emergency_self_harm"),
    ("im not gonna do anything, i just have nobody to talk to", "utter_emergency_self_harm"),  # (dialogues47)
])
def test_an_unclear_denial_after_a_self_harm_answer_gets_an_answer_with_988(text: str, response: str) -> None:
    """dialogues28: the writer's own denial, placed nowhere, got the 988 answer again; like bot/rasa/nlg.py, it gets
    the answer for feeling overwhelmed (which gives 988), unless it asks for someone to talk to."""
    from actions.actions import ActionClarify

    parse = {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.1}, "intent_ranking": []}
    events = [user("emergency_self_harm"), {"event": "bot", "text": "Please call or text 988 now",
                                            "metadata": {"utter_action": "utter_emergency_self_harm"}},
              {"event": "user", "text": text, "parse_data": parse}]
    [message] = run(ActionClarify(), Tracker("t", {}, parse, events, False, None, {}, "action_listen"))
    assert message["response"] == response


def test_right_after_an_emergency_answer_an_unclear_message_gets_it_again() -> None:
    from actions.actions import ActionClarify

    text = "hes lying on the couch crying, he wont talk to me"
    parse = {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.4},
             "intent_ranking": [{"name": "ask_rebuilding_trust", "confidence": 0.3}]}
    events = [user("emergency_self_harm"), {"event": "bot", "text": "Please call or text 988 now",
                                            "metadata": {"utter_action": "utter_emergency_self_harm"}},
              {"event": "user", "text": text, "parse_data": parse}]
    [message] = run(ActionClarify(), Tracker("t", {}, parse, events, False, None, {}, "action_listen"))
    assert message["response"] == "utter_emergency_self_harm"
    # saying help is being called is acknowledged instead
    calling = {**parse, "text": "ok we called 911, the ambulance is on the way"}
    [message] = run(ActionClarify(), Tracker("t", {}, calling, [*events[:2], {"event": "user", "text": calling["text"],
                                                                          "parse_data": calling}],
                                             False, None, {}, "action_listen"))
    assert message["text"].startswith("Okay. Please stay with them") and "911" in message["text"]
    # two turns later, or after another answer, it is a question like any other
    later = [*events[:2], user("thank"), {"event": "bot", "text": "You're welcome",
                                          "metadata": {"utter_action": "utter_thank"}}, events[2]]
    [asked] = run(ActionClarify(), Tracker("t", {}, parse, later, False, None, {}, "action_listen"))
    assert "Did you mean" in asked["text"]
    # once someone is with them, an unclear question is asked about like any other
    with_help = {**parse, "text": "ok her mom is with her now. what kind of treatment is there for her"}
    helped = [*events[:2], {"event": "user", "text": with_help["text"], "parse_data": with_help}]
    [asked] = run(ActionClarify(), Tracker("t", {}, with_help, helped, False, None, {}, "action_listen"))
    assert "Did you mean" in asked["text"]
    # fear or guilt once help is there: the answer for feeling overwhelmed (dialogues35), not "call 911 if you haven't"
    guilt = {**parse, "text": "paramedics took her in. i feel awful i didnt stop her",
             "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.1},
                                {"name": "express_overwhelmed", "confidence": 0.28}]}
    felt = [*events[:2], {"event": "user", "text": guilt["text"], "parse_data": guilt}]
    [message] = run(ActionClarify(), Tracker("t", {}, guilt, felt, False, None, {}, "action_listen"))
    assert message["response"] == "utter_express_overwhelmed"
    alone = {**guilt, "text": "i feel awful i didnt stop her"}
    still = [*events[:2], {"event": "user", "text": alone["text"], "parse_data": alone}]
    [message] = run(ActionClarify(), Tracker("t", {}, alone, still, False, None, {}, "action_listen"))
    assert message.get("response") == "utter_emergency_self_harm"  # no help there yet: the guidance again
    # the writer's own shock once help has come, whatever the classifier's guess (dialogues37)
    shaking = {**guilt, "text": "they said hes going to make it. i cant stop shaking",
               "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.1},
                                  {"name": "ask_withdrawal_symptoms", "confidence": 0.23}]}
    shook = [*events[:2], {"event": "user", "text": shaking["text"], "parse_data": shaking}]
    [message] = run(ActionClarify(), Tracker("t", {}, shaking, shook, False, None, {}, "action_listen"))
    assert message["response"] == "utter_express_overwhelmed"


@pytest.mark.parametrize("text", ["are benzos opioids", "i heard fake bars have fentanyl in them, is that true"])
def test_an_in_field_question_no_topic_fits_is_honestly_not_covered(text: str) -> None:
    from actions.actions import ActionClarify

    [message] = run(ActionClarify(), latest(text, [{"name": "ask_cbt", "confidence": 0.05}]))
    assert message["response"] == "utter_ask_not_covered"


def test_no_after_the_safety_check_answers_the_recorded_topic() -> None:
    from actions.actions import ActionAnswerAfterCheck

    asked = {"event": "user", "text": "he had a seizure yesterday", "parse_data": {
        "intent": {"name": "safety_check_medical", "confidence": 1.0},
        "safety": {"outcome": "asked", "classifier_intent": "emergency_medical",
                   "answer_intent": "ask_withdrawal_symptoms"}}}
    no = user("deny")
    messages = run(ActionAnswerAfterCheck(), Tracker("t", {}, no, [asked, no], False, None, {}, "action_listen"))
    assert messages[-1]["response"] == "utter_ask_withdrawal_symptoms"


def test_a_short_follow_up_pointing_back_continues_the_topic_being_talked_about() -> None:
    from actions.actions import ActionClarify

    nothing_likely = [{"name": "ask_cbt", "confidence": 0.05}]
    dispatcher = CollectingDispatcher()
    events = ActionClarify().run(dispatcher, latest("how bad is that really", nothing_likely,
                                                    last_topic="ask_mixing_with_alcohol_or_opioids"), DOMAIN)
    intro, more = dispatcher.messages
    assert intro["text"] == "More on Mixing with alcohol or opioids:"
    assert more["text"] and "Did you mean" not in more["text"] and "rephrase" not in more["text"]
    assert events == [{"event": "slot", "timestamp": None, "name": "more_shown",
                       "value": "ask_mixing_with_alcohol_or_opioids:1"},
                      {"event": "slot", "timestamp": None, "name": "last_topic",
                       "value": "ask_mixing_with_alcohol_or_opioids"}]
    # a long message, or one that points at nothing, is still asked to rephrase
    [rephrase, _] = run(ActionClarify(), latest("qwerty asdf", nothing_likely, last_topic="ask_dbt"))
    assert "rephrase" in rephrase["text"]


def test_a_follow_up_picks_the_offered_topic_the_classifier_clearly_prefers() -> None:
    from actions.actions import ActionClarify

    ranking = [{"name": "ask_dbt", "confidence": 0.09}, {"name": "ask_cbt", "confidence": 0.03},
               {"name": "greet", "confidence": 0.02}]
    [answer] = run(ActionClarify(), latest("which of the two is about emotions", ranking,
                                           last_topic="ask_therapy_options"))
    assert answer["response"] == "utter_ask_dbt"
    close = [{"name": "ask_dbt", "confidence": 0.09}, {"name": "ask_cbt", "confidence": 0.08}]
    intro, _ = run(ActionClarify(), latest("which of the two works better", close,
                                           last_topic="ask_therapy_options"))
    assert intro["text"] == "More on Therapy options:"  # too close to call: more on the topic being talked about


def test_a_follow_up_that_names_what_an_offered_topic_is_about_gets_that_topic() -> None:
    """The classifier can't tell DBT from CBT by "emotions" or "thoughts"; the source's own words for each can."""
    from actions.actions import ActionClarify

    unsure = [{"name": "ask_therapy_options", "confidence": 0.12}, {"name": "out_of_scope", "confidence": 0.08}]
    [answer] = run(ActionClarify(), latest("which of those is the one about emotions", unsure,
                                           last_topic="ask_therapy_options"))
    assert answer["response"] == "utter_ask_dbt"
    # a sibling of the last topic: after the DBT answer, "the other one, the thoughts one" is CBT
    [answer] = run(ActionClarify(), latest("and the other one, the thoughts one", unsure, last_topic="ask_dbt"))
    assert answer["response"] == "utter_ask_cbt"
    # pointing back names one even when the last answer was not about therapy (a missed question before it)
    [answer] = run(ActionClarify(), latest("which of those is about emotions", unsure, last_topic="ask_find_treatment"))
    assert answer["response"] == "utter_ask_dbt"
    # naming comes before the classifier's guess of the last topic itself
    last_again = [{"name": "ask_therapy_options", "confidence": 0.25}, {"name": "ask_dbt", "confidence": 0.1}]
    [answer] = run(ActionClarify(), latest("which of the two is about emotions?", last_again,
                                           last_topic="ask_therapy_options"))
    assert answer["response"] == "utter_ask_dbt"
    # naming two at once ("feelings or thoughts?") decides nothing
    [answer, *_] = run(ActionClarify(), latest("is that about feelings or thoughts", unsure,
                                               last_topic="ask_therapy_options"))
    assert answer.get("response") not in ("utter_ask_dbt", "utter_ask_cbt")


@pytest.mark.parametrize("text", ["do they actually help", "does it actually help or is it just talking",
                                  "whats the point of it", "what's even the point of that",
                                  "could the ativan be doing that??", "is that him or the drug"])
def test_asking_whether_the_thing_just_described_works_gets_more_on_it(text: str) -> None:
    from actions.actions import ActionClarify

    unrelated = [{"name": "ask_detox_process", "confidence": 0.3},
                 {"name": "ask_stages_of_recovery", "confidence": 0.2}]
    intro, more = run(ActionClarify(), latest(text, unrelated, last_topic="ask_support_groups"))
    assert intro["text"] == "More on Support groups:" and "Did you mean" not in more["text"]
    # the same words with no topic being talked about are still asked about
    [asked] = run(ActionClarify(), latest(text, unrelated))
    assert "Did you mean" in asked["text"]


@pytest.mark.parametrize("text", ["is that normal?", "both??", "so which one is she", "what do they actually do in it",
                                  "so what now", "what can happen", "how?"])
def test_a_follow_up_with_no_subject_of_its_own_continues_the_last_topic(text: str) -> None:
    """Placed confidently elsewhere by the classifier (bot/rasa/followup_marker.py sends it here), it still has no
    subject but the one being talked about."""
    from actions.actions import ActionClarify

    elsewhere = [{"name": "ask_doctor_shopping", "confidence": 0.7}, {"name": "ask_cbt", "confidence": 0.1}]
    intro, more = run(ActionClarify(), latest(text, elsewhere, last_topic="ask_mixing_with_alcohol_or_opioids"))
    assert intro["text"] == "More on Mixing with alcohol or opioids:" and "Did you mean" not in more["text"]
    # with nothing talked about yet there is no subject to continue: asked, not guessed
    [asked] = run(ActionClarify(), latest(text, elsewhere))
    assert "Did you mean" in asked["text"]


@pytest.mark.parametrize("text", ["so what should he do instead", "so what is he supposed to do instead",
                                  "ok what do we do now", "What would you advise?"])
def test_asking_what_to_do_gets_what_the_source_says_to_do_about_the_last_topic(text: str) -> None:
    from actions.actions import ActionClarify

    elsewhere = [{"name": "ask_anxiety_without_pills", "confidence": 0.6}, {"name": "ask_cbt", "confidence": 0.1}]
    [answer] = run(ActionClarify(), latest(text, elsewhere, last_topic="ask_quitting_cold_turkey"))
    assert answer["response"] == "utter_ask_detox_process"  # config/followups.yml todo.topics
    # a topic with nothing named gets more of the source on itself
    intro, _ = run(ActionClarify(), latest(text, elsewhere, last_topic="ask_relapse_happened"))
    assert intro["text"].startswith("More on ")
    # with no topic yet there is nothing to go on: asked
    [asked] = run(ActionClarify(), latest(text, elsewhere))
    assert "Did you mean" in asked["text"]


def test_a_follow_up_that_brings_its_own_subject_is_not_taken_for_the_last_topic() -> None:
    from actions.actions import ActionClarify

    ranking = [{"name": "ask_how_to_talk_to_loved_one", "confidence": 0.15},
               {"name": "ask_cbt", "confidence": 0.12}]
    [asked] = run(ActionClarify(), latest("what should i say to him", ranking, last_topic="ask_signs_of_addiction"))
    assert "More on" not in (asked.get("text") or "")


def test_an_unsure_message_with_the_last_topic_among_the_two_likeliest_goes_on_with_it() -> None:
    from actions.actions import ActionClarify

    ranking = [{"name": "nlu_fallback", "confidence": 0.4}, {"name": "ask_money_and_work", "confidence": 0.32},
               {"name": "ask_enabling", "confidence": 0.30}, {"name": "ask_cbt", "confidence": 0.2}]
    text = "but if i stop she'll lose her job"
    intro, more = run(ActionClarify(), latest(text, ranking, last_topic="ask_enabling"))
    assert intro["text"].startswith("More on") and more["text"]  # the next sentences on enabling
    [asked] = run(ActionClarify(), latest(text, ranking, last_topic="ask_memory_problems"))  # another topic: ask
    assert "Did you mean" in asked["text"]
    third = [ranking[0], ranking[1], ranking[3], ranking[2]]  # the last topic only third: ask
    [asked] = run(ActionClarify(), latest(text, third, last_topic="ask_enabling"))
    assert "Did you mean" in asked["text"]
    faint = [ranking[0], ranking[1], {"name": "ask_enabling", "confidence": 0.05}]  # second but faint: ask
    [asked] = run(ActionClarify(), latest(text, faint, last_topic="ask_enabling"))
    assert "Did you mean" in asked["text"]


@pytest.mark.parametrize(
    "text", ["whats the first step", "what happens in the first part?", "thats a lot. whats the first one"]
)
def test_the_first_step_after_the_stages_is_the_stage_that_comes_first(text: str) -> None:
    from actions.actions import ActionClarify

    unsure = [{"name": "ask_medication_advice", "confidence": 0.2}, {"name": "ask_detox_process", "confidence": 0.15}]
    [answer] = run(ActionClarify(), latest(text, unsure, last_topic="ask_stages_of_recovery"))
    assert answer["response"] == "utter_ask_detox_process"
    # after a topic that lists no stages, the same words are asked about
    [asked] = run(ActionClarify(), latest(text, unsure, last_topic="ask_cbt"))
    assert "Did you mean" in asked["text"]


def test_help_coming_after_is_this_happening_now_is_acknowledged_not_asked_about() -> None:
    from actions.actions import ActionClarify

    asked = {"event": "bot", "text": "Is this happening right now?",
             "metadata": {"utter_action": "utter_safety_check_medical"}}
    text = "what do i do until they get here"
    parse = {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.3},
             "intent_ranking": [{"name": "ask_topics", "confidence": 0.3}]}
    events = [{"event": "user", "text": "hes so sleepy", "parse_data": {}}, asked,
              {"event": "user", "text": text, "parse_data": parse}]
    t = Tracker("t", {}, parse, events, False, None, {}, "action_listen")
    [answer] = run(ActionClarify(), t)
    assert answer["text"].startswith("Okay. Please stay with them") and "911" in answer["text"]


def test_saying_it_is_happening_after_is_this_happening_now_gets_the_emergency_answer() -> None:
    from actions.actions import ActionClarify

    asked = {"event": "bot", "text": "Is this happening right now?",
             "metadata": {"utter_action": "utter_safety_check_self_harm"}}
    ranking = [{"name": "ask_quitting_cold_turkey", "confidence": 0.3}]

    def reply(text: str) -> List[Dict[str, Any]]:
        parse = {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.3}, "intent_ranking": ranking}
        events = [{"event": "user", "text": "he doesnt see the point in living", "parse_data": {}}, asked,
                  {"event": "user", "text": text, "parse_data": parse}]
        return run(ActionClarify(), Tracker("t", {}, parse, events, False, None, {}, "action_listen"))

    [answer] = reply("hes alone at his flat right now")
    assert answer["response"] == "utter_emergency_self_harm"
    assert reply("no not now, that was last year")[0].get("response") != "utter_emergency_self_harm"


@pytest.mark.parametrize("text", ["ok ambulance is on the way", "ok calling", "calling now!"])  # dialogues12
def test_help_on_the_way_is_acknowledged_after_any_number_of_emergency_answers(text: str) -> None:
    from actions.actions import ActionClarify

    parse = {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.3},
             "intent_ranking": [{"name": "ask_signs_of_addiction", "confidence": 0.3}]}
    answers = [{"event": "user", "text": "she wont wake up", "parse_data": {}},
               {"event": "bot", "text": "911", "metadata": {"utter_action": "utter_emergency_medical"}}] * 2
    t = Tracker("t", {}, parse, [*answers, {"event": "user", "text": text, "parse_data": parse}], False, None, {},
                "action_listen")
    [answer] = run(ActionClarify(), t)
    assert answer["text"].startswith("Okay. Please stay with them") and "911" in answer["text"]


def test_after_the_emergency_answer_and_one_repeat_an_unclear_question_is_asked_about_not_repeated() -> None:
    from actions.actions import ActionClarify

    def emergency(text: str) -> List[Dict[str, Any]]:
        return [{"event": "user", "text": text, "parse_data": {}},
                {"event": "bot", "text": "988", "metadata": {"utter_action": "utter_emergency_self_harm"}}]

    text = "what kind of therapy would help her"
    ranking = [{"name": "ask_therapy_options", "confidence": 0.3}, {"name": "ask_dbt", "confidence": 0.2}]
    parse = {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.3}, "intent_ranking": ranking}
    latest_event = {"event": "user", "text": text, "parse_data": parse}
    once = Tracker("t", {}, parse, [*emergency("she says she wants to die"), latest_event], False, None, {},
                   "action_listen")
    [again] = run(ActionClarify(), once)
    assert again["response"] == "utter_emergency_self_harm"
    twice = Tracker("t", {}, parse, [*emergency("she says she wants to die"), *emergency("shes crying"), latest_event],
                    False, None, {}, "action_listen")
    [asked] = run(ActionClarify(), twice)
    assert "Did you mean" in asked["text"]


def test_with_someone_there_a_statement_after_an_emergency_answer_gets_the_guidance_acknowledged() -> None:
    from actions.actions import ActionClarify

    text = "hes here with me now, he says he didnt mean it"
    parse = {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.2},
             "intent_ranking": [{"name": "ask_rebuilding_trust", "confidence": 0.2}]}
    events = [{"event": "user", "text": "he says he wants to die", "parse_data": {}},
              {"event": "bot", "text": "988", "metadata": {"utter_action": "utter_emergency_self_harm"}},
              {"event": "user", "text": text, "parse_data": parse}]
    [answer] = run(ActionClarify(), Tracker("t", {}, parse, events, False, None, {}, "action_listen"))
    assert answer["text"].startswith("Okay. Please stay with them") and "988" in answer["text"]


def test_an_unclear_question_once_someone_is_taking_them_in_is_asked_about_not_acknowledged() -> None:
    """dialogues43: after "Is this happening right now?", "my aunt is taking her to the ER now. why did that happen"
    got the acknowledgement (help on its way); someone is with her, so it is a question like any other. Waiting for
    help, or a worried question right after the acknowledgement ("is he going to be ok??"), still gets it."""
    from actions.actions import ActionClarify
    from bot.core.after_emergency import acknowledgement

    ranking = [{"name": "ask_detox_process", "confidence": 0.34}, {"name": "ask_tapering", "confidence": 0.2}]
    checked = [{"event": "user", "text": "she is seeing bugs on the wall", "parse_data": {}},
               {"event": "bot", "text": "Is this happening right now?",
                "metadata": {"utter_action": "utter_safety_check_medical"}}]
    acknowledged = [{"event": "user", "text": "she is seeing bugs on the wall", "parse_data": {}},
                    {"event": "bot", "text": "Call 911", "metadata": {"utter_action": "utter_emergency_medical"}},
                    {"event": "user", "text": "ok calling 911", "parse_data": {}},
                    {"event": "bot", "text": acknowledgement(), "metadata": {}}]

    def reply(before: List[Dict[str, Any]], text: str) -> Dict[str, Any]:
        parse = {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.1}, "intent_ranking": ranking}
        events = [*before, {"event": "user", "text": text, "parse_data": parse}]
        [answer] = run(ActionClarify(), Tracker("t", {}, parse, events, False, None, {}, "action_listen"))
        return answer

    assert "Did you mean" in reply(checked, "my aunt is taking her to the ER now. why did that happen")["text"]
    assert reply(checked, "my aunt is taking her to the ER now. what do i do till they see her")["text"] == \
        acknowledgement()
    assert reply(acknowledged, "is he going to be ok??")["text"] == acknowledgement()
