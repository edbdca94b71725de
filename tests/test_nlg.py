"""bot/rasa/nlg.py: the closing line of a "not now" answer, and the emergency answer repeated the turn after one."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.core.after_emergency import acknowledgement
from bot.rasa.nlg import SafetyNoteNLG
from tests.servers import ROOT

DOMAIN = Domain.load(str(ROOT / "domain.yml"))


def said(text: str, intent: str, confidence: float, safety: Dict[str, Any] | None = None) -> UserUttered:
    parse = {"intent": {"name": intent, "confidence": confidence}, **({"safety": safety} if safety else {})}
    return UserUttered(text, intent=parse["intent"], parse_data=parse)


def answered(utter_action: str) -> List[Event]:
    return [ActionExecuted(utter_action), BotUttered("...", metadata={"utter_action": utter_action})]


def generate(utter_action: str, events: List[Event]) -> Dict[str, Any]:
    tracker = DialogueStateTracker.from_events("t", events, slots=DOMAIN.slots)
    return asyncio.run(SafetyNoteNLG(domain=DOMAIN).generate(utter_action, tracker, "rest"))


def assert_answered_as_placed(utter_action: str, events: List[Event]) -> None:
    """The turn got the topic's own answer (any closing line after it aside)."""
    text = generate(utter_action, events)["text"]
    assert text.startswith(generate(utter_action, [])["text"][:60]), text


def assert_acknowledged(utter_action: str, events: List[Event]) -> None:
    """The turn got the acknowledgement, which repeats the guidance with 911."""
    text = generate(utter_action, events)["text"]
    assert text.startswith("Okay. Please stay with them") and "911" in text, text


def emergency_text() -> str:
    return generate("utter_emergency_self_harm", [])["text"]


@pytest.fixture()
def after_an_emergency() -> List[Event]:
    return [said("he keeps saying he wants to die", "emergency_self_harm", 1.0), *answered("utter_emergency_self_harm")]


def test_a_weakly_placed_topic_right_after_an_emergency_gets_the_emergency_answer_again(after_an_emergency) -> None:
    crying = said("hes lying on the couch crying, he wont talk to me", "ask_rebuilding_trust", 0.78)  # its score
    events = [*after_an_emergency, crying]
    assert generate("utter_ask_rebuilding_trust", events)["text"] == emergency_text()


def test_a_clear_question_after_an_emergency_is_answered(after_an_emergency) -> None:
    events = [*after_an_emergency, said("what is dbt", "ask_dbt", 0.95)]
    assert generate("utter_ask_dbt", events)["text"].startswith(generate("utter_ask_dbt", [])["text"])


def test_a_question_right_after_a_self_harm_answer_keeps_988_in_the_answer(after_an_emergency) -> None:
    """dialogues40: "is this the withdrawal talking?" after "he says he wants to die" got the withdrawal answer."""
    plain = generate("utter_ask_withdrawal_symptoms", [])["text"]
    asked = said("is this the withdrawal talking?", "ask_withdrawal_symptoms", 0.9)
    text = generate("utter_ask_withdrawal_symptoms", [*after_an_emergency, asked])["text"]
    assert text.startswith(plain) and text.endswith("call or text 988 if someone may hurt themselves.")
    # not after a medical answer, not once someone is with them, not two turns later
    medical = [said("he wont wake up", "emergency_medical", 1.0), *answered("utter_emergency_medical"), asked]
    assert generate("utter_ask_withdrawal_symptoms", medical)["text"] == plain
    with_her = said("her mum is with her now. is this the withdrawal talking?", "ask_withdrawal_symptoms", 0.9)
    assert generate("utter_ask_withdrawal_symptoms", [*after_an_emergency, with_her])["text"] == plain
    later = [*after_an_emergency, asked, *answered("utter_ask_withdrawal_symptoms"), said("what is dbt", "ask_dbt", .9)]
    assert generate("utter_ask_dbt", later)["text"] == generate("utter_ask_dbt", [])["text"]


def test_saying_help_is_being_called_gets_an_acknowledgement_not_the_same_answer(after_an_emergency) -> None:
    calling = said("ok calling 911 now", "ask_medication_advice", 0.29)
    text = generate("utter_ask_medication_advice", [*after_an_emergency, calling])["text"]
    assert text.startswith("Okay. Please stay with them") and "911" in text and "988" in text
    # and the next message still in the crisis, or an everyday reply, gets it too - not "You're welcome"
    acknowledged = [*after_an_emergency, calling, BotUttered(text, metadata={})]
    worried = said("is he going to be ok??", "ask_is_recovery_possible", 0.2)
    assert generate("utter_ask_is_recovery_possible", [*acknowledged, worried])["text"] == text
    thanks = said("ok thank you", "thank", 0.99)
    assert generate("utter_thank", [*after_an_emergency, thanks])["text"] == text
    assert generate("utter_thank", [thanks])["text"] != text  # only right after an emergency answer
    # after "Is this happening right now?", leaving gets it; "no" is an answer to the question
    checked = [said("should i wake my dad up", "safety_check_self_harm", 1.0),
               *answered("utter_safety_check_self_harm")]
    assert generate("utter_goodbye", [*checked, said("ok im going to wake him", "goodbye", 0.78)])["text"] == text
    assert generate("utter_affirm", [*checked, said("no", "deny", 0.99)])["text"] != text


def test_the_emergency_is_not_repeated_two_turns_later(after_an_emergency) -> None:
    events = [*after_an_emergency, said("thank you", "thank", 0.99), *answered("utter_thank"),
              said("what now", "ask_rebuilding_trust", 0.3)]
    assert generate("utter_ask_rebuilding_trust", events)["text"] != emergency_text()


def test_a_not_now_answer_ends_with_the_closing_line() -> None:
    safety = {"outcome": "not_now", "kind": "medical"}
    events = [said("what does an overdose look like", "ask_mixing_with_alcohol_or_opioids", 0.9, safety)]
    text = generate("utter_ask_mixing_with_alcohol_or_opioids", events)["text"]
    assert text.endswith("If this is happening right now, call 911.")


def test_a_question_once_someone_is_with_them_is_answered_as_placed(after_an_emergency) -> None:
    """dialogues36: "they took her to hospital, they think she will be ok. how do we get her proper help after this"
    got "If you haven't yet, call 911 now". Once help is there, a question is answered as in any turn."""
    topic = generate("utter_ask_find_treatment", [])["text"]
    for question in ["ok her mom is with her now. what kind of treatment is there for her",
                     "they took her to hospital, they think she will be ok. how do we get her proper help after this",
                     # dialogues35: got the 988 answer again
                     "ok her roommate is with her now theyre going to the ER. will the hospital help her come off "
                     "properly",
                     "theyve taken her to Morriston, shes breathing ok now. will the hospital stop her tablets"]:
        for confidence in (0.6, 0.3):
            events = [*after_an_emergency, said(question, "ask_find_treatment", confidence)]
            assert generate("utter_ask_find_treatment", events)["text"] == topic
    # without anyone with them, the same confidence still repeats the emergency answer
    alone = [*after_an_emergency, said("what kind of treatment is there for her", "ask_find_treatment", 0.6)]
    assert generate("utter_ask_find_treatment", alone)["text"] == emergency_text()
    # and a weakly placed statement with help there gets the guidance, acknowledged, not "call 911 now" again
    statement = said("they took him to the hospital. she was on the valium", "ask_find_treatment", 0.3)
    weak = [*after_an_emergency, statement]
    text = generate("utter_ask_find_treatment", weak)["text"]
    assert text.startswith("Okay. Please stay with them") and "911" in text and "988" in text


@pytest.mark.parametrize("fear", ["ok paramedics are here. im so scared i cant stop shaking",
                                  "i rang lifeline and they were good. im just so scared"])
def test_fear_once_help_is_there_is_answered_as_fear(after_an_emergency, fear: str) -> None:
    """dialogues33, 36: once help is there or the call is made, "im so scared" gets the answer for feeling overwhelmed
    (which still gives 911 and 988), not "If you haven't yet, call 911 now"; before it, the acknowledgement."""
    overwhelmed = generate("utter_express_overwhelmed", [])["text"]
    assert "911" in overwhelmed and "988" in overwhelmed
    events = [*after_an_emergency, said(fear, "express_overwhelmed", 0.9)]
    assert generate("utter_express_overwhelmed", events)["text"] == overwhelmed
    waiting = [*after_an_emergency, said("im so scared", "express_overwhelmed", 0.9)]
    assert generate("utter_express_overwhelmed", waiting)["text"].startswith("Okay. Please stay with them")


@pytest.mark.parametrize(("fear", "placed_as", "score"), [
    ("the paramedics took her. they said she'll be assessed. i feel sick and im shaking",
     "ask_withdrawal_symptoms", 0.26),
    ("ok his wife is with him and the crisis line is talking to him. i dont know what else to do man",
     "ask_how_to_talk_to_loved_one", 0.46),
    ("911 is coming. i am so scared my hands are shaking", "affirm", 0.6),
    ("they said hes going to make it. i cant stop shaking", "thank", 0.3),
    ("ok shes on the phone with nhs 24 now. im literally shaking", "ask_withdrawal_symptoms", 0.3),  # dialogues42
    # dialogues51, reworded: help there in a learner's present tense; "safe" with the police there
    ("the police found him, he is ok, they take him to hospital. i cant stop shaking", "affirm", 0.4),
    ("theyve got her, shes safe. im shaking so much i cant think", "affirm", 0.4),
    ("the medics have got him. im shaking so bad", "affirm", 0.5),  # dialogues57, reworded: "ems got her"
    ("hes alive, the doctors said he was lucky. im in bits", "ask_is_recovery_possible", 0.35),  # dialogues58, reworded
    ("she came round, theyre taking her to the base hospital. im shaking like a leaf", "ask_withdrawal_symptoms", 0.2),
])
def test_the_writers_own_fear_once_help_is_there_is_answered_as_fear_whatever_it_was_placed_as(
        after_an_emergency, fear: str, placed_as: str, score: float) -> None:
    """dialogues37 - 39: the writer's fear or shock once help is there or called gets the answer for feeling
    overwhelmed, not the acknowledgement ("If you haven't yet, call 911 now") nor a weakly placed topic."""
    overwhelmed = generate("utter_express_overwhelmed", [])["text"]
    events = [*after_an_emergency, said(fear, placed_as, score)]
    assert generate(f"utter_{placed_as}", events)["text"] == overwhelmed
    assert generate(f"utter_{placed_as}", [said(fear, placed_as, score)])["text"] != overwhelmed  # only after one


def test_campus_safety_with_her_is_help_there_and_the_question_is_answered(after_an_emergency) -> None:
    """dialogues32: "they're with her" after calling campus safety is help there; the question after it is answered
    as placed, not with "Call 911 now" again."""
    asked = said("ok I've called campus safety and my hall director and they're with her. How do I approach her "
                 "tomorrow without her feeling ambushed?", "ask_how_to_talk_to_loved_one", 0.83)
    assert_answered_as_placed("utter_ask_how_to_talk_to_loved_one", [*after_an_emergency, asked])
    # "She's with our mum now" (dialogues41) too
    with_mum = said("She's with our mum now and seeing the GP first thing. Can she get therapy while shes coming off "
                    "them? what kinds are there", "ask_therapy_options", 0.7)
    assert_answered_as_placed("utter_ask_therapy_options", [*after_an_emergency, with_mum])


def test_waiting_for_help_gets_the_guidance_whatever_it_was_placed_as(after_an_emergency) -> None:
    """dialogues40: "ok 911 are on the way what do i do till they get here", placed on feeling overwhelmed, needs the
    guidance (stay with them, 911), not the answer for feeling overwhelmed."""
    waiting = said("ok 911 are on the way what do i do till they get here", "express_overwhelmed", 0.44)
    assert_acknowledged("utter_express_overwhelmed", [*after_an_emergency, waiting])


def test_the_loved_ones_shaking_once_help_is_there_is_no_fear_of_the_writer(after_an_emergency) -> None:
    question = said("paramedics are here, hes shaking and sweating is that normal?", "ask_withdrawal_symptoms", 0.8)
    assert_answered_as_placed("utter_ask_withdrawal_symptoms", [*after_an_emergency, question])
    placed = said("paramedics are here. im shaking. what will they do to her in detox", "ask_detox_process", 0.9)
    assert_answered_as_placed("utter_ask_detox_process", [*after_an_emergency, placed])  # a placed question


def test_after_the_acknowledgement_a_fairly_placed_question_is_answered(after_an_emergency) -> None:
    """dialogues30: the acknowledgement already repeated the guidance; "how do i stop this ever happening again" placed
    at config/safety.yml `after_emergency_with_help_below` or more is answered, a weak guess still is not."""
    calling = said("ok calling 911 now", "affirm", 0.9)
    acknowledged = [*after_an_emergency, calling, BotUttered(generate("utter_affirm", [*after_an_emergency, calling])
                                                            ["text"], metadata={})]
    question = "how do i stop this ever happening again, i cant lose him"
    topic = generate("utter_ask_relapse_prevention", [])["text"]
    fair = [*acknowledged, said(question, "ask_relapse_prevention", 0.6)]
    assert generate("utter_ask_relapse_prevention", fair)["text"] == topic
    weak = [*acknowledged, said(question, "ask_relapse_prevention", 0.3)]
    assert generate("utter_ask_relapse_prevention", weak)["text"].startswith("Okay. Please stay with them")


def test_the_menu_right_after_an_emergency_gives_the_guidance_instead(after_an_emergency) -> None:
    called = said("ok called 911 what do i do til they get here", "ask_topics", 0.55)
    text = generate("utter_ask_topics", [*after_an_emergency, called])["text"]
    assert text.startswith("Okay. Please stay with them") and "911" in text
    menu = generate("utter_ask_topics", [said("what can you help with", "ask_topics", 0.99)])["text"]
    assert generate("utter_ask_topics", [*after_an_emergency, said("what topics", "ask_topics", 0.95)])["text"] == menu


def test_asking_if_they_will_be_ok_while_help_comes_keeps_the_guidance(after_an_emergency) -> None:
    """dialogues4: after "ok i called 911 theyre coming" was acknowledged, "is he going to be ok??" placed on recovery
    at 0.69 gets the acknowledgement again; once help is there, the same question is answered as placed."""
    called = [*after_an_emergency, said("ok i called 911 theyre coming", "express_overwhelmed", 0.4),
              ActionExecuted("utter_express_overwhelmed"), BotUttered(acknowledgement())]
    ok = said("is he going to be ok??", "ask_is_recovery_possible", 0.69)
    assert_acknowledged("utter_ask_is_recovery_possible", [*called, ok])
    present = said("they took him to the hospital. will he be ok?", "ask_is_recovery_possible", 0.69)
    assert_answered_as_placed("utter_ask_is_recovery_possible", [*after_an_emergency, present])
    # dialogues54, reworded: "stable, they said" is help there; the question is answered
    stable = said("shes in the infirmary now, stable they said. what happens next for her", "ask_detox_process", 0.6)
    assert_answered_as_placed("utter_ask_detox_process", [*after_an_emergency, stable])


def test_off_topic_or_asking_for_a_person_right_after_an_emergency_gets_the_guidance() -> None:
    """dialogues50: the ambulance is coming and the family asks what to do meanwhile; the dispatcher's instructions
    are being followed. Placed off-topic or as asking for a person, both get the acknowledgement with 911; the same
    answers in an ordinary conversation, or placed confidently, are given as placed."""
    medical = [said("now i cant get her to answer me, shes snoring funny and her lips look bluish", "emergency_medical",
                    1.0), *answered("utter_emergency_medical")]
    waiting = said("ambulance is coming from 20 miles out what do i do till they get here", "out_of_scope", 0.43)
    assert_acknowledged("utter_out_of_scope", [*medical, waiting])
    # dialogues51: 111 is New Zealand's emergency number; the police coming is help on its way
    checked = [said("hes gone out to the shed with the rifle and wont answer me", "safety_check_self_harm", 1.0),
               *answered("utter_safety_check_self_harm")]
    nz = said("yes rang 111 police are coming", "affirm", 0.5)
    assert_acknowledged("utter_affirm", [*checked, nz])
    cpr = said("i rang 999 they said do cpr im doing it", "request_human", 0.5)
    assert_acknowledged("utter_request_human", [*medical, cpr])
    assert_answered_as_placed("utter_out_of_scope", [said("whats the weather tomorrow", "out_of_scope", 0.43)])
    person = said("can i talk to a real person please", "request_human", 0.97)
    assert_answered_as_placed("utter_request_human", [*medical, person])


def test_after_is_this_happening_now_saying_help_is_coming_gets_the_guidance() -> None:
    checked = [said("my dad is really sleepy after his pills and beer", "safety_check_medical", 1.0),
               *answered("utter_safety_check_medical")]
    waiting = said("what do i do until they get here", "ask_topics", 0.8)
    text = generate("utter_ask_topics", [*checked, waiting])["text"]
    assert text.startswith("Okay. Please stay with them") and "911" in text
    # asking whom to call is a yes (dialogues50, after the 988 question): the emergency answer
    who = said("im at work i cant leave, who do i phone", "request_human", 0.6)
    self_harm = [said("my brother texted sorry am done and hes not answering", "safety_check_self_harm", 1.0),
                 *answered("utter_safety_check_self_harm")]
    assert generate("utter_request_human", [*self_harm, who])["text"] == emergency_text()
    # dialogues52: help on its way said without a verb, 911 on the line; dialogues56, reworded: dropped g, "911 called"
    # dialogues59, reworded: the crew on the way, the Irish police rung
    for text in ("ambulance on the way", "911 on the phone now", "phonin 911 now", "ambulance has been called",
                 "the crew are on the way", "i rang the guards"):
        assert_acknowledged("utter_out_of_scope", [*checked, said(text, "out_of_scope", 0.4)])
    # any other answer to the question is not taken for help coming
    question = said("what is tapering", "ask_tapering", 0.9)
    assert generate("utter_ask_tapering", [*checked, question])["text"] == generate("utter_ask_tapering", [])["text"]


def test_the_emergency_answer_is_repeated_once_then_a_question_is_answered(after_an_emergency) -> None:
    repeated = [*after_an_emergency, said("she wont come out of the bathroom", "ask_enabling", 0.4),
                *answered("utter_emergency_self_harm")]
    question = said("is there therapy that works on the anxiety and the pills together", "ask_therapy_options", 0.84)
    text = generate("utter_ask_therapy_options", [*repeated, question])["text"]
    assert text.startswith(generate("utter_ask_therapy_options", [])["text"]) and "988" in text
    # the first repeat still happens at the same confidence
    assert generate("utter_ask_therapy_options", [*after_an_emergency, question])["text"] == emergency_text()


def test_help_called_and_a_clear_question_of_its_own_gets_the_answer(after_an_emergency) -> None:
    """dialogues23 - 24: the family called the crisis line and asks about the doctor; waiting for help, or a question
    placed weakly, still gets the acknowledgement."""
    asks = said("ok I called the crisis line and they're talking to him. should I call his doctor about the refill "
                "too", "ask_call_prescriber", 0.8)
    assert generate("utter_ask_call_prescriber", [*after_an_emergency, asks])["text"] == \
        generate("utter_ask_call_prescriber", [])["text"]
    waiting = said("ok calling 911. what should i do until they get here?", "ask_call_prescriber", 0.8)
    assert generate("utter_ask_call_prescriber", [*after_an_emergency, waiting])["text"].startswith("Okay. Please")
    not_yet = said("ok i'll call. is this the withdrawal talking?", "ask_withdrawal_symptoms", 0.9)
    assert generate("utter_ask_withdrawal_symptoms", [*after_an_emergency, not_yet])["text"].startswith("Okay. Please")
    unsure = said("ok I called the crisis line. should I call his doctor too", "ask_call_prescriber", 0.3)
    assert generate("utter_ask_call_prescriber", [*after_an_emergency, unsure])["text"].startswith("Okay. Please")
    # dialogues34: a question of its own in "what kind of" words
    therapy = said("ok I called the crisis line and they're talking to him now. After all this, what kind of therapy "
                   "actually works for guys like him", "ask_therapy_options", 0.7)
    assert generate("utter_ask_therapy_options", [*after_an_emergency, therapy])["text"] == \
        generate("utter_ask_therapy_options", [])["text"]


def test_someone_sitting_with_them_counts_as_help_present(after_an_emergency) -> None:
    text = "shes out now, sitting with me. tomorrow what kind of help do we look for"
    question = said(text, "ask_find_treatment", 0.6)
    text = generate("utter_ask_find_treatment", [*after_an_emergency, question])["text"]
    assert text == generate("utter_ask_find_treatment", [])["text"]


OWN_DENIALS = ["im not going to do anything i just needed to say it. is there someone i can actually talk to",
               "no im not going to do anything. im just so tired",
               "No I'm not going to do anything. I'm just so tired."]   # with the apostrophe (dialogues35)


@pytest.mark.parametrize("text", OWN_DENIALS)
@pytest.mark.parametrize("placed", ["request_human", "deny", "affirm", "ask_support_for_family", "express_overwhelmed"])
def test_the_writers_own_denial_after_a_self_harm_answer_gets_988_again(after_an_emergency, text: str,
                                                                       placed: str) -> None:
    """dialogues24, 26, 28: the person writing says they won't do anything. CI's freshly trained model placed
    dialogues24's message elsewhere than this machine's did: whatever it is placed on, the answer gives 988 - the
    988 answer when they ask for a person, else the answer for feeling overwhelmed ("... if you are thinking of
    harming yourself, call or text 988"), not "Okay" nor "please stay with them"."""
    overwhelmed = generate("utter_express_overwhelmed", [])["text"]
    assert "988" in overwhelmed
    answer = generate(f"utter_{placed}", [*after_an_emergency, said(text, placed, 0.95)])["text"]
    assert answer == (emergency_text() if "someone i can" in text else overwhelmed)
    # a denial reported of someone else gets the emergency answer again, once
    reported = said("she says she wont do anything", placed, 0.95)
    assert generate(f"utter_{placed}", [*after_an_emergency, reported])["text"] == emergency_text()
    repeated = [*after_an_emergency, reported, *answered("utter_emergency_self_harm")]
    assert generate(f"utter_{placed}", [*repeated, reported])["text"] != emergency_text()


@pytest.mark.parametrize("placed", ["request_human", "ask_support_for_family"])
def test_the_writers_own_denial_after_is_this_happening_now_gets_988(placed: str) -> None:
    """dialogues24 in CI: the third net asked "Is this happening right now?" about "sometimes i think about ending it
    myself"; "im not going to do anything ... is there someone i can talk to" got the request-a-person answer, with
    no 988. The writer's own denial gets an answer with 988; another's denial, or a plain question, the answer asked
    for."""
    checked = [said("sometimes i think about ending it myself", "safety_check_self_harm", 1.0),
               *answered("utter_safety_check_self_harm")]
    answer = generate(f"utter_{placed}", [*checked, said(OWN_DENIALS[0], placed, 0.95)])["text"]
    assert answer == emergency_text()  # it asks for someone to talk to, wherever it was placed
    # dialogues28: "to someone" is no request for a person: the answer for feeling overwhelmed (with 988)
    vented = said("no im not going to do anything. i just needed to say it to someone", placed, 0.95)
    assert generate(f"utter_{placed}", [*checked, vented])["text"] == generate("utter_express_overwhelmed", [])["text"]
    # the turn's first answer only: the helpline line after it stays itself
    first = [*checked, said(OWN_DENIALS[0], placed, 0.95), *answered("utter_emergency_self_harm")]
    assert generate("utter_professional_help", first)["text"] == generate("utter_professional_help", [])["text"]
    for other in ("she says she wont do anything. is there someone i can talk to", "is there someone i can talk to"):
        assert generate(f"utter_{placed}", [*checked, said(other, placed, 0.95)])["text"] == \
            generate(f"utter_{placed}", [])["text"]
    medical = [said("he is very sleepy after his pills", "safety_check_medical", 1.0),
               *answered("utter_safety_check_medical")]
    assert generate(f"utter_{placed}", [*medical, said(OWN_DENIALS[0], placed, 0.95)])["text"] == \
        generate(f"utter_{placed}", [])["text"]


def test_the_ambulance_having_come_counts_as_help_present(after_an_emergency) -> None:
    """dialogues25: the question after "the ambulance came" got the emergency answer again (placed at 0.6)."""
    question = said("the ambulance came, theyre taking him in. what will the hospital do with him", "ask_detox_process",
                    0.6)
    text = generate("utter_ask_detox_process", [*after_an_emergency, question])["text"]
    assert text == generate("utter_ask_detox_process", [])["text"]


@pytest.mark.parametrize("text", ["they took her. is she gonna be ok", "they've taken him. what happens now",
                                  "paramedics have took him. how does stopping cause a fit"])  # (dialogues34)
def test_being_taken_in_counts_as_help_present(after_an_emergency, text: str) -> None:
    """dialogues29 - 30 (first runs, stop 19): "they took her. is she gonna be ok" got the emergency answer again."""
    question = said(text, "ask_is_recovery_possible", 0.6)
    text = generate("utter_ask_is_recovery_possible", [*after_an_emergency, question])["text"]
    assert text == generate("utter_ask_is_recovery_possible", [])["text"]


def test_a_yes_inside_a_story_after_is_this_happening_now_is_no_yes() -> None:
    """dialogues34 (first run, stop 19): "I said yes once. Was that wrong?" after "Is this happening right now?" got
    "Call 911 now"; a reply that starts with yes (or says it is happening now) still does."""
    checked = [said("she's been nodding off mid sentence", "safety_check_medical", 1.0),
               *answered("utter_safety_check_medical")]
    story = said("she asked me to cover for her with her husband. I said yes once. Was that wrong?", "ask_enabling",
                 0.95)
    assert generate("utter_ask_enabling", [*checked, story])["text"] == generate("utter_ask_enabling", [])["text"]
    medical = generate("utter_emergency_medical", [])["text"]
    assert generate("utter_ask_enabling", [*checked, said("yes, hes on the floor", "ask_enabling", 0.5)])["text"] \
        == medical


def test_a_third_weak_turn_after_an_emergency_gets_the_acknowledgement(after_an_emergency) -> None:
    """dialogues34: the emergency answer, a repeat, then "what does properly even mean" (placed at 0.44) got "Call 911
    now" a third time; once the repeat is spent, the acknowledgement (still with 911 and 988)."""
    repeated = [*after_an_emergency, said("paramedics", "ask_detox_process", 0.3),
                *answered("utter_emergency_self_harm")]
    weak = said("what does properly even mean", "ask_tapering", 0.44)
    text = generate("utter_ask_tapering", [*repeated, weak])["text"]
    assert text.startswith("Okay. Please stay with them") and "911" in text and "988" in text


def test_help_on_its_way_after_is_this_happening_now_is_acknowledged() -> None:
    """dialogues30 (in a fresh clone's make test): "ive got his mate going round now. anything else i should do"
    after "Is this happening right now?" got the answer for feeling overwhelmed, without 911 or 988."""
    checked = [said("he texted whats the point of any of this", "safety_check_self_harm", 1.0),
               *answered("utter_safety_check_self_harm")]
    going = said("ive got his mate going round now. anything else i should do", "express_overwhelmed", 0.6)
    text = generate("utter_express_overwhelmed", [*checked, going])["text"]
    assert text.startswith("Okay. Please stay with them") and "988" in text


def test_driving_them_to_the_er_is_acknowledged(after_an_emergency) -> None:
    """dialogues30 (first run): "ok driving her to the ER now. thanks" got the emergency answer again."""
    driving = said("ok driving her to the ER now. thanks", "thank", 0.6)
    text = generate("utter_thank", [*after_an_emergency, driving])["text"]
    assert text.startswith("Okay. Please stay with them") and "911" in text


@pytest.mark.parametrize("where", ["hes in the hospital now", "he’s in the ER", "he's at the hospital"])
def test_help_present_reads_phone_spellings_of_he_is(after_an_emergency, where: str) -> None:
    question = said(f"{where} and stable. when he gets out how do we get him real help", "ask_find_treatment", 0.6)
    text = generate("utter_ask_find_treatment", [*after_an_emergency, question])["text"]
    assert text == generate("utter_ask_find_treatment", [])["text"]


def test_echoing_the_danger_word_of_the_last_answer_gets_that_answer_with_the_closing_line() -> None:
    from rasa.shared.core.events import SlotSet

    quitting = generate("utter_ask_quitting_cold_turkey", [])["text"]
    assert "seizures" in quitting.lower()
    before = [said("can he just stop", "ask_quitting_cold_turkey", 0.9),
              ActionExecuted("utter_ask_quitting_cold_turkey"),
              BotUttered(quitting, metadata={"utter_action": "utter_ask_quitting_cold_turkey"}),
              SlotSet("last_topic", "ask_quitting_cold_turkey"),
              BotUttered("For help with your own situation, the SAMHSA National Helpline ...", metadata={})]
    safety = {"outcome": "asked", "kind": "medical", "phrase": "seizures"}
    echo = said("seizures??", "safety_check_medical", 1.0, safety)
    text = generate("utter_safety_check_medical", [*before, echo])["text"]
    assert text.startswith(quitting) and text.endswith("If this is happening right now, call 911.")
    # the cause asked about in the same breath (dialogues26) does not count
    cause = said("Seizures?? from stopping a pill?", "safety_check_medical", 1.0, safety)
    assert generate("utter_safety_check_medical", [*before, cause])["text"] == text
    # a longer message, or one the last answer did not prompt, is still asked about
    for words in ("he is having seizures on the floor now",
                  "seizures?? from stopping a pill? hes shaking on the floor"):
        longer = said(words, "safety_check_medical", 1.0, safety)
        assert generate("utter_safety_check_medical", [*before, longer])["text"] != text
    longer = said("he is having seizures on the floor now", "safety_check_medical", 1.0, safety)
    assert generate("utter_safety_check_medical", [*before, longer])["text"] != text
    assert generate("utter_safety_check_medical", [echo])["text"] != text


def test_help_on_the_way_is_acknowledged_even_after_the_answer_was_repeated(after_an_emergency) -> None:
    repeated = [*after_an_emergency, said("she wont open the door", "ask_enabling", 0.4),
                *answered("utter_emergency_self_harm")]
    coming = said("ok ambulance is on the way", "ask_signs_of_addiction", 0.95)
    text = generate("utter_ask_signs_of_addiction", [*repeated, coming])["text"]
    assert text.startswith("Okay. Please stay with them") and "911" in text


def test_saying_it_is_happening_in_words_after_the_question_gets_the_emergency_answer() -> None:
    checked = [said("my brother texted me he doesnt see the point in living", "safety_check_self_harm", 1.0),
               *answered("utter_safety_check_self_harm")]
    alone = said("hes alone at his flat right now", "ask_quitting_cold_turkey", 0.9)
    assert generate("utter_ask_quitting_cold_turkey", [*checked, alone])["text"] == emergency_text()
    # "no" in words is an answer too: the question asked about, not the emergency answer
    not_now = said("no not right now, that was last year", "ask_quitting_cold_turkey", 0.9)
    assert generate("utter_ask_quitting_cold_turkey", [*checked, not_now])["text"] != emergency_text()


def test_an_emergency_answer_given_in_place_of_a_topic_counts_as_one_next_turn() -> None:
    checked = [said("he texted me he doesnt see the point in living", "safety_check_self_harm", 1.0),
               *answered("utter_safety_check_self_harm")]
    alone = said("hes alone at his flat right now", "ask_quitting_cold_turkey", 0.9)
    response = generate("utter_ask_quitting_cold_turkey", [*checked, alone])
    assert response["answered_as"] == "utter_emergency_self_harm"
    given = [*checked, alone, ActionExecuted("utter_ask_quitting_cold_turkey"),
             BotUttered(response["text"], metadata={"utter_action": "utter_ask_quitting_cold_turkey",
                                                    "answered_as": response["answered_as"]})]
    calling = said("ok im calling them now and driving over", "ask_not_covered", 0.6)
    text = generate("utter_ask_not_covered", [*given, calling])["text"]
    assert text.startswith("Okay. Please stay with them")


@pytest.mark.parametrize("text", ["she's in the next room. she says she won't do anything", "he says hes fine now",
                                  "he swore he wont try anything"])
def test_the_person_saying_they_are_fine_gets_the_guidance_again_however_sure_the_classifier(
    after_an_emergency, text: str
) -> None:
    denial = said(text, "ask_loved_one_refuses", 0.98)  # what the classifier said in dialogues20
    assert generate("utter_ask_loved_one_refuses", [*after_an_emergency, denial])["text"] == emergency_text()
    # not once someone is with them, nor after the answer was already repeated
    with_help = said(f"her mom is with her now. {text}", "ask_loved_one_refuses", 0.98)
    answer = generate("utter_ask_loved_one_refuses", [])["text"]
    assert generate("utter_ask_loved_one_refuses", [*after_an_emergency, with_help])["text"] == answer
    repeated = [*after_an_emergency, said("she wont come out", "ask_enabling", 0.4),
                *answered("utter_emergency_self_harm")]
    answered_with_988 = generate("utter_ask_loved_one_refuses", [*repeated, denial])["text"]
    assert answered_with_988.startswith(answer) and "988" in answered_with_988  # the closing line still gives 988


def test_an_ok_opening_the_conversation_is_greeted() -> None:
    """dialogues39: "alright" as a first message is a hello (British), and "ok" there agrees to nothing."""
    greeting = generate("utter_greet", [])["text"]
    assert generate("utter_affirm", [said("alright", "affirm", 0.9)])["text"] == greeting
    later = [said("hi", "greet", 0.99), *answered("utter_greet"), said("alright", "affirm", 0.9)]
    assert generate("utter_affirm", later)["text"] != greeting


def test_a_question_once_someone_is_taking_them_to_the_er_is_answered_after_is_this_happening_now() -> None:
    """dialogues43: "my aunt is taking her to the ER now. why did that happen" after "Is this happening right now?"
    got the acknowledgement; someone is with her, so the question is answered. Saying help is coming still is not."""
    checked = [said("now shes shaking and says theres bugs on the wall", "safety_check_medical", 1.0),
               *answered("utter_safety_check_medical")]
    aunt = said("my aunt is taking her to the ER now. why did that happen", "ask_withdrawal_symptoms", 0.85)
    assert_answered_as_placed("utter_ask_withdrawal_symptoms", [*checked, aunt])
    coming = said("ok the ambulance is on the way, why did that happen", "ask_withdrawal_symptoms", 0.85)
    assert_acknowledged("utter_ask_withdrawal_symptoms", [*checked, coming])


def test_with_me_now_counts_as_help_present(after_an_emergency) -> None:
    """dialogues44: "She is with me now and calm, we will go to her doctor tomorrow morning. What kind of therapy will
    help her" after the 988 answer got the 988 answer again (and the next question the acknowledgement)."""
    with_me = said("She is with me now and calm, we will go to her doctor tomorrow morning. What kind of therapy will "
                   "help her", "ask_therapy_options", 0.45)
    plain = generate("utter_ask_therapy_options", [])["text"]
    assert generate("utter_ask_therapy_options", [*after_an_emergency, with_me])["text"] == plain


def test_saying_help_is_coming_placed_as_feeling_overwhelmed_is_acknowledged(after_an_emergency) -> None:
    """dialogues4: "ok i called 911 theyre coming", placed as feeling overwhelmed, got that answer instead of the
    acknowledgement (which keeps the guidance); fear told once help is there is still answered as fear."""
    calling = said("ok i called 911 theyre coming", "express_overwhelmed", 0.6)
    assert_acknowledged("utter_express_overwhelmed", [*after_an_emergency, calling])
    scared = said("ok i called 911 theyre coming. im so scared", "express_overwhelmed", 0.6)
    overwhelmed = generate("utter_express_overwhelmed", [])["text"]
    assert generate("utter_express_overwhelmed", [*after_an_emergency, scared])["text"] == overwhelmed
    taken = said("paramedics took her in. i feel awful i didnt stop her", "express_overwhelmed", 0.6)
    assert generate("utter_express_overwhelmed", [*after_an_emergency, taken])["text"] == overwhelmed


def test_a_statement_right_after_the_emergency_answer_keeps_the_guidance() -> None:
    """dialogues60 (first run, stop 25): "he stop his pills 3 day ago by himself" right after "my son is shaking on
    the floor he dont respond" was placed on quitting at 0.96 and got that topic instead of "Call 911 now" again. A
    statement then is more about the emergency; a question, or the same statement once help is there, is answered."""
    medical = [said("my daughter is jerking on the floor and wont answer me", "emergency_medical", 1.0),
               *answered("utter_emergency_medical")]
    guidance = generate("utter_emergency_medical", [])["text"]
    statement = said("she quit her klonopin by herself four days ago", "ask_quitting_cold_turkey", 0.96)
    assert generate("utter_ask_quitting_cold_turkey", [*medical, statement])["text"] == guidance
    question = said("why would stopping cause a fit?", "ask_withdrawal_symptoms", 0.96)
    assert_answered_as_placed("utter_ask_withdrawal_symptoms", [*medical, question])
    with_help = said("her dad is with her now. she quit her klonopin by herself four days ago",
                     "ask_quitting_cold_turkey", 0.96)
    assert_answered_as_placed("utter_ask_quitting_cold_turkey", [*medical, with_help])
