"""The deterministic safety net: emergencies are caught whatever the classifier says; questions are not."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.emergency_override import EmergencyOverride
from bot.safety import EmergencyDetector

MEDICAL = [
    "he took all his pills and won't wake up",
    "my son took all of his xanax",
    "she swallowed the whole bottle of klonopin",
    "my husband isnt breathing",
    "he's barely breathing after taking his valium with beer",
    "my mom wont wake up",
    "i cant wake him up he took too many pills",
    "my daughter is having a seizure right now",
    "he is seizing on the floor",
    "her lips are turning blue",
    "his lips are blue",
    "my brother overdosed on ativan",
    "I think my wife is overdosing",
    "He OD'd on xanax",
    "dad collapsed and is unresponsive",
    "MY SON IS NOT BREATHING",
    "my girlfriend passed out after drinking on her benzos",
]
SELF_HARM = [
    "she says she wants to die",
    "i want to kill myself",
    "my son said he is going to kill himself",
    "everyone would be better off without me",
    "he keeps saying he'd be better off dead",
    "my wife is suicidal",
    "i'm suicidal",
    "he's suicidal since he stopped",
    "my daughter is cutting herself",
    "he wants to end his life",
    "i just want to end it all",
    "my dad doesnt want to live anymore",
]
QUESTIONS = [
    "can withdrawal cause seizures?",
    "what are the signs of an overdose",
    "is it dangerous to mix xanax with alcohol?",
    "can benzos make you suicidal?",
    "what is respiratory depression",
    "he had a seizure last year, is that related?",
    "is it safe to stop cold turkey",
    "what does withdrawal look like",
    "how many people overdose on benzos",
    "how do i talk to my son about his pills",
    "what is dbt",
    "my son is addicted to xanax what do i do",
    "does detox hurt",
    "i am so tired of all this",
]


@pytest.fixture(scope="module")
def detector() -> EmergencyDetector:
    return EmergencyDetector.from_settings()


@pytest.mark.parametrize("text", MEDICAL)
def test_medical_emergencies_are_caught(detector: EmergencyDetector, text: str) -> None:
    found = detector.detect(text)
    assert found is not None and found.intent == "emergency_medical", found


@pytest.mark.parametrize("text", SELF_HARM)
def test_self_harm_is_caught(detector: EmergencyDetector, text: str) -> None:
    found = detector.detect(text)
    assert found is not None and found.intent == "emergency_self_harm", found


@pytest.mark.parametrize("text", QUESTIONS)
def test_information_questions_do_not_fire(detector: EmergencyDetector, text: str) -> None:
    assert detector.detect(text) is None


def test_an_overdose_with_suicidal_words_gets_911_first(detector: EmergencyDetector) -> None:
    found = detector.detect("he took all his pills because he wants to die")
    assert found is not None and found.intent == "emergency_medical"


def test_every_configured_phrase_matches_itself(detector: EmergencyDetector) -> None:
    """A phrase that cannot match its own words is a typo in config/safety.yml."""
    from bot.settings import load_yaml, setting_path

    for intent, phrases in load_yaml(str(setting_path("safety_patterns"))).items():
        for phrase in phrases:
            words = [item.lstrip("=").split("|")[0] for item in phrase.split() if item != "_"]
            found = detector.detect(" ".join(words))
            assert found is not None and found.intent == intent, phrase


@pytest.fixture(scope="module")
def component() -> EmergencyOverride:
    return EmergencyOverride(EmergencyOverride.get_default_config())


def _classified(text: str, intent: str, confidence: float) -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence}, add_to_output=True)
    message.set("intent_ranking", [{"name": intent, "confidence": confidence}], add_to_output=True)
    return message


def test_component_overrides_a_wrong_low_confidence_guess(component: EmergencyOverride) -> None:
    [message] = component.process([_classified("he took all his pills and won't wake up", "ask_detox_process", 0.12)])
    assert message.get("intent") == {"name": "emergency_medical", "confidence": 1.0}
    assert message.get("intent_ranking")[0]["name"] == "emergency_medical"
    assert message.get("safety")["classifier_intent"] == "ask_detox_process"
    assert "safety" in message.output_properties


def test_component_leaves_questions_alone(component: EmergencyOverride) -> None:
    [message] = component.process([_classified("can withdrawal cause seizures?", "ask_withdrawal_symptoms", 0.4)])
    assert message.get("intent") == {"name": "ask_withdrawal_symptoms", "confidence": 0.4}
    assert message.get("safety") is None
