"""Whole family conversations (tests/dialogues*.yml, written independently) over HTTP.

`make eval` reports the turn accuracy against the issue's target; this test holds what must never happen - an
information turn answered with "Call 911 now" or the 988 answer, an emergency turn without 911 / 988 - and keeps
accuracy from sliding back below where each set stood when it was first run, before any change made for it
(68%, 80%, 71.9%, 72.3%, 73.5% and 81.3%).
"""

from __future__ import annotations

from typing import List

import pytest

from tests.servers import Service, say
from tools.dialogues import Turn, run, summary

# the acknowledgement after an emergency answer repeats 911 and 988: right for an emergency turn, never an
# emergency *answer* for an information turn
EMERGENCY_KEYS = {"emergency_medical", "emergency_self_harm", "emergency_both", "asked", "help_on_the_way"}


FIRST_RUN = {
    "tests/dialogues.yml": 0.68, "tests/dialogues2.yml": 0.80,
    "tests/dialogues3.yml": 0.71, "tests/dialogues4.yml": 0.72, "tests/dialogues5.yml": 0.73,
    "tests/dialogues6.yml": 0.81, "tests/dialogues7.yml": 0.75, "tests/dialogues8.yml": 0.77,
    "tests/dialogues9.yml": 0.85, "tests/dialogues10.yml": 0.81, "tests/dialogues11.yml": 0.73,
    "tests/dialogues12.yml": 0.74, "tests/dialogues13.yml": 0.84, "tests/dialogues14.yml": 0.79,
    "tests/dialogues15.yml": 0.70, "tests/dialogues16.yml": 0.84, "tests/dialogues17.yml": 0.75,
    # dialogues18: 85.4% at its first run, 84.1% with the sentence encoder (stop 16), which gained 25 turns on the
    # spent sets 1 - 18 (2,536 of 2,897 against 2,511) but asks back on three long messages the words had placed right
    "tests/dialogues18.yml": 0.84, "tests/dialogues19.yml": 0.84, "tests/dialogues20.yml": 0.83,
    # dialogues21: 76.6% at its first run (121 of 158); a fresh clone's model, whose sentence vectors are computed anew,
    # scored 120 (75.9%) at stop 16 - one turn on the line, so the floor is one turn under the first run
    "tests/dialogues21.yml": 0.75, "tests/dialogues22.yml": 0.79, "tests/dialogues23.yml": 0.79,
    "tests/dialogues24.yml": 0.86, "tests/dialogues25.yml": 0.79,
    # dialogues26: 84.8% (162 of 191) at its first run; 0.84 allows 161, one turn under
    "tests/dialogues26.yml": 0.84,
    # stop 18's sets: 85.9% (165 of 192, 159 of 185) at their first runs; floors one turn under
    "tests/dialogues27.yml": 0.85, "tests/dialogues28.yml": 0.85,
    # stop 19's sets, floors one turn under their first runs: dialogues29 74.3% (130 of 175) and dialogues30 80.4%
    # (131 of 163) on the model after the first data round; dialogues31 83.9% (141 of 168) and dialogues32 87.0%
    # (147 of 169) after the second
    "tests/dialogues29.yml": 0.73, "tests/dialogues30.yml": 0.79,
    "tests/dialogues31.yml": 0.83, "tests/dialogues32.yml": 0.86,
    # on stop 19's final system: dialogues33 87.7% (157 of 179), dialogues34 86.5% (160 of 185; its three information
    # turns given "Call 911 now" fixed after)
    "tests/dialogues33.yml": 0.87, "tests/dialogues34.yml": 0.85,
    # stop 20: dialogues36 85.9% (165 of 192) at its first run, on stop 19's final system; dialogues35 94.0% (173 of
    # 184) on stop 20's final system (one information turn given the 988 answer again, fixed after)
    "tests/dialogues35.yml": 0.93, "tests/dialogues36.yml": 0.85,
    # dialogues37 81.3% (143 of 176) on stop 20's final system (two information turns given an emergency answer:
    # "theyve taken her to Morriston ..." not read as help there; benzos with norco and "he's been nodding off at the
    # dinner table" read as happening now; both fixed after)
    "tests/dialogues37.yml": 0.80,
    # stop 21, on stop 20's final system: dialogues38 86.7% (170 of 196), dialogues39 90.2% (157 of 174)
    "tests/dialogues38.yml": 0.86, "tests/dialogues39.yml": 0.89,
    # dialogues40 78.5% (139 of 177) after stop 21's changes (data round 21, the fear once help is there)
    "tests/dialogues40.yml": 0.77,
    # dialogues41 89.3% (150 of 168) on stop 21's final system (one information turn given the 988 answer again: "She's
    # with our mum now ..." not read as help there; fixed after)
    "tests/dialogues41.yml": 0.88,
    # dialogues42 87.6% (148 of 169) on stop 21's final system (one information turn given the 988 answer: "ok shes on
    # the phone with nhs 24 now. im literally shaking" not read as help there; fixed after)
    "tests/dialogues42.yml": 0.86,
    # stop 22, on stop 21's final system (plus the 988 line after a self-harm answer): dialogues43 88.2% (165 of 187)
    "tests/dialogues43.yml": 0.87,
    # dialogues44 86.0% (153 of 178) after stop 22's first changes (one information turn given the 988 answer again:
    # "She is with me now and calm ..." not read as someone there; fixed after)
    "tests/dialogues44.yml": 0.85,
    # dialogues45 92.6% (162 of 175) on stop 22's final system (two information turns given the 911 answer: "hes
    # sweating and shaking all over, says his skin is crawling" after he ran out, read as a seizure, and the next;
    # fixed after)
    "tests/dialogues45.yml": 0.92,
    # stop 23, on stop 22's final system: dialogues46 87.0% (174 of 200; no information turn given an emergency answer,
    # one asked "is this happening now?")
    "tests/dialogues46.yml": 0.865,
    # dialogues47 88.9% (160 of 180) after stop 23's data round 25 (no information turn given an emergency answer,
    # three asked "is this happening now?": "couldnt wake her for like an hour, she was fine after" and two the third
    # net read as danger, "my mom keeps saying hes hopeless now" (both fixed after) and a refusal told with "tonight")
    "tests/dialogues47.yml": 0.88,
    # dialogues48 93.1% (163 of 175) on stop 23's final system (no information turn given an emergency answer or
    # asked "is this happening now?")
    "tests/dialogues48.yml": 0.92,
    # stop 24, on stop 23's final system: dialogues50 85.2% (190 of 223; no information turn given an emergency answer,
    # two asked "is this happening now?"; after the emergency answer "ambulance is coming ... what do i do till they
    # get here" was answered off-topic and "i rang 999 they said do cpr" as asking for a person: both fixed)
    "tests/dialogues50.yml": 0.845,
    # dialogues51 80.1% (185 of 231) on stop 24's system after data round 28 (one information turn given an
    # emergency answer: "yes rang 111 police are coming" after "Is this happening right now?" - 111 is New Zealand's
    # 911, fixed after; two asked "is this happening now?"; 14 "Did you mean ...?")
    "tests/dialogues51.yml": 0.795,
    # dialogues52 87.7% (214 of 244) and dialogues53 88.9% (192 of 216), written during stop 24, on its final system:
    # no information turn of 52 got an emergency answer or was asked; 53's "dad was off his head again tonight,
    # shouting then passed out on the sofa. hes snoring now" got the 911 answer (labelled as feeling overwhelmed; a
    # snoring sleep after being "off his head" is an overdose sign, so it stays and the label now accepts it), two were
    # asked; 52's "ambulance on the way" and "911 on the phone now" after "Is this happening right now?" got no
    # guidance (fixed after)
    "tests/dialogues52.yml": 0.873,
    "tests/dialogues53.yml": 0.885,
    # dialogues54 82.2% (176 of 214), the last set of stop 24, on its final system: "some nights i sit in t'barn wi
    # the gun and think itd be easier all round if i werent here" got the answer for feeling overwhelmed (988 named,
    # not first) and "hes in the RHH now, stable they said. what happens next for him" the 911 answer again (both fixed
    # after); 12 "Did you mean ...?"
    "tests/dialogues54.yml": 0.815,
    # dialogues55 88.5% (201 of 227), written after the final fresh-clone run of stop 24, on its final system: no
    # information turn given an emergency answer or asked "is this happening now?"; 10 "Did you mean ...?"
    "tests/dialogues55.yml": 0.88,
    # dialogues56 86.6% (187 of 216) and dialogues57 86.5% (199 of 230), stop 25's start (stop 24's final system):
    # "hes shaking all over and sweating and hasnt slept" three days after running out got the 911 answer (withdrawal,
    # fixed after), "ringin 999 now" the emergency answer again, "911 called" off-topic, "she took $200 out of her
    # nan's purse last week" was asked "is this happening now?"; 17 "Did you mean ...?"
    "tests/dialogues56.yml": 0.86,
    "tests/dialogues57.yml": 0.86,
    # dialogues58 87.8% (209 of 238), after data round 32: "shes alive. hospital says she were lucky. im in bits"
    # got the 911 answer again (help there, fixed after), "he gets panic attacks real bad, cant breathe, thinks hes
    # dying" was asked "is this happening now?" (a habit, fixed after); 9 "Did you mean ...?"
    "tests/dialogues58.yml": 0.87,
    # dialogues59 85.2% (202 of 237), after data round 33: "crew is on the way" after the 911 answer got it again,
    # "im a firefighter, i run ODs all the time but this is my sister ... how bad is that combo" was asked "is this
    # happening now?", "ive rang the gardai" got "doesn't cover that" (all fixed after); 10 "Did you mean ...?"
    "tests/dialogues59.yml": 0.85,
    # dialogues60 89.8% (202 of 225), after data round 34: "honestly some nights i think id be better off not
    # waking up at all" got the 911 answer, not 988 first ("not waking" read as cannot be woken), "our shiv is gone
    # again, not answering" the 911 answer (out, not unresponsive), "why it make seizure" after help came was asked
    # "is this happening now?" (all fixed after); 4 "Did you mean ...?"
    "tests/dialogues60.yml": 0.89,
    # dialogues61 82.6% (195 of 236), written during stop 25's make eval, on its final system: "dad's been cutting
    # down for 3 weeks with the GP. he's shaking and can't sleep, is this normal" got the 911 answer (fixed after);
    # 16 "Did you mean ...?"
    "tests/dialogues61.yml": 0.82,
}
EMERGENCY_ANSWERS = EMERGENCY_KEYS - {"asked", "help_on_the_way"}


@pytest.fixture(scope="module", params=sorted(FIRST_RUN))
def dialogue_set(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def turns(rasa_server: Service, dialogue_set: str) -> List[Turn]:
    return run(lambda sender, text: say(rasa_server.url, sender, text), dialogue_set)


def _information(turns: List[Turn]) -> List[Turn]:
    return [t for t in turns if not {"emergency_medical", "emergency_self_harm"} & set(t.expected)]


def test_no_information_turn_gets_an_emergency_answer(turns: List[Turn]) -> None:
    assert not [t.text for t in _information(turns) if t.key in EMERGENCY_ANSWERS]


def test_information_turns_are_rarely_asked_whether_it_is_happening_now(turns: List[Turn]) -> None:
    """Asking is the issue's third outcome (within 15% of *alarming* non-emergencies); in ordinary conversations it
    must stay rare: at most one turn in fifty."""
    information = _information(turns)
    assert len([t for t in information if t.key == "asked"]) <= 0.02 * len(information)


def test_every_emergency_turn_gets_911_or_988_first(turns: List[Turn]) -> None:
    """A turn the writer labelled only as an emergency gets 911 / 988 first; one labelled an emergency *or* a topic
    ("is this the withdrawal talking?" after two 988 answers, dialogues40) gets 911 / 988 or that topic."""
    emergencies = {"emergency_medical", "emergency_self_harm"}
    missed = [t.text for t in turns if emergencies & set(t.expected) and t.key not in EMERGENCY_KEYS
              and (set(t.expected) <= emergencies or not t.right)]
    assert not missed


def test_turn_accuracy_does_not_slide_back(turns: List[Turn], dialogue_set: str) -> None:
    figures = summary(turns)
    assert figures["turns"] >= 100
    assert figures["turn_accuracy"] >= FIRST_RUN[dialogue_set], len([t for t in turns if not t.right])


def test_every_answer_is_told_apart_by_the_scorer() -> None:
    """Answers that open with the same source sentence (memory problems and signs of addiction; the stages of
    recovery and detox) must each score as themselves: with 60-character prefixes both scored as the first."""
    from bot.core.settings import load_yaml
    from tools.dialogues import SPECIAL, answer_key

    for name, variations in load_yaml("domain.yml")["responses"].items():
        for variation in variations:
            text = variation.get("text", "")
            if text and "{" not in text:
                assert answer_key([{"text": text}]) == SPECIAL.get(name, name.removeprefix("utter_")), name
