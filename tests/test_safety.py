"""The deterministic safety net: now / not now / unclear, the Rasa component around it, and the crisis sets."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import joblib
import pytest
import yaml
from rasa.shared.nlu.training_data.message import Message

from bot.core.crisis_model import NONE, LearnedNet, cache_path, save_fitted, training_examples
from bot.core.safety import ASKED, BOTH, NOT_NOW, NOW, SafetyDecision, SafetyNet
from bot.core.safety import SELF_HARM as SELF_HARM_KIND
from bot.core.settings import load_yaml, setting_path
from bot.rasa.emergency_override import EmergencyOverride
from tests.servers import ROOT

MEDICAL = [
    "he took all his pills and won't wake up",
    "my baby might have eaten one of my valiums",  # a plural brand name (crisis_blind44)
    "my son took all of his xanax",
    "she swallowed the whole bottle of klonopin",
    "my husband isnt breathing",
    "my husband isn’t breathing",  # a phone's curly apostrophe
    "he's barely breathing after taking his valium with beer",
    "my mom wont wake up",
    "i cant wake him up he took too many pills",
    "my daughter is having a seizure right now",
    "my daughter is having a siezure",  # misspelled
    "he is unconcious",  # misspelled
    "her lips are turning blue",
    "my brother overdosed on ativan",
    "dad collapsed and is unresponsive",
    "MY SON IS NOT BREATHING",
    "hes not responding and his lips look grey",
    "she took a bunch of bars and drank, now she's nodding off and wont answer",
    "is it normal that shes only breathing like 4 times a minute??",  # a question frame does not cancel this sign
    "ive been shaking him for 5 min and nothing",
    "bro is blue around the mouth",
    "she took her xanax with wine and wont wake up, could it be the pills?",  # not an everyday sign: still now
    "she's nodding off after her bars and vodka right now, is that the xanax",  # soft, but a strong now-marker
    "is it ok for someone to breathe about 5 times a minute after klonopin? im counting",  # breathe, not breathing
    "is it bad if he's breathing really slow and his lips look dusky",  # "is it bad if he's ...": what he is doing
    "how many is too many? he took like 30 of them an hour ago and is really sleepy",  # a count, not "that many"
    "my son just had a fit on the kitchen floor and its still going, he stopped his valium last week",  # crisis_blind68
    "my flatmate is not conshous, i cant get a word out of him",  # crisis_blind70, reworded
    "my 10 month old was chewing on something, there are tablets missing from my blister pack",  # crisis_blind72
    "my dad is fitting in the kitchen and wont stop",  # nlu_blind34, reworded ("fitting in" a place, not fitting in)
    "she is having a panic attack and her lips have gone blue",  # a panic attack beside blue lips (found, stop 25)
    "is it normal hes slept all day after extra xanax? we tried to wake him and he just groans",  # crisis_blind73
    "my wife took a box of her diazepam and is slurring and confused",  # crisis_blind73, reworded
    "my man wont wke up, he tok a load of his pils",  # crisis_blind74, reworded: misspellings
    "shes on the floor shakin and jerkin, came off her valium cold",  # crisis_blind74, reworded: dropped g
    "mi daughter pon de bed and she nah wakin up",  # nlu_blind36, reworded: Jamaican
    "hes making rattling noises in his throat after his pills",  # rattling as a sound stays an emergency
    "Mum's having a fit, arms going everywhere, she quit her valium last week",  # crisis_blind75, reworded
    "mi daughter fall down an she nah move",  # nlu_blind37, reworded: Jamaican
]
SELF_HARM = [
    "my brother came home with a rope and said it was for the car, he doesnt even have a car",  # (crisis_blind51)
    "im cutting again and i cant stop",  # the writer's own self-injury (crisis_blind45)
    "she said if im not around next month you can have my guitar",  # (crisis_blind44)
    "i keep thinking how easy it would be to not wake up",
    "he asked if going that way is painless",
    "she says she wants to die",
    "i want to kill myself",
    "everyone would be better off without me",
    "my wife is suicidal",
    "my daughter is cutting herself",
    "he wants to end his life",
    "my dad doesnt want to live anymore",
    "he gave all his stuff away and texted me goodbye",
    "she has been googling how many pills would be lethal",
    "kms",
    "dont look for me, i love you all",
    "i just want it to be over",
    "he says he'd rather die than go back to detox and he means it",  # the figure of speech, meant
    "my sister has been on xanax since last year and lately she says everyone would be better off without her",
    "my cousin says hes gonna kill him self tonight",  # a reflexive split in two
    "she keeps saying she wishes she was dead",
    "he took his gun out to the car and told me not to follow him",
    "she says she doesnt see a way out and she has all her pills lined up",
    "he's up on the parking garage roof right now and won't talk to me",
    "my friend keeps asking what songs i would play at her funeral and says nothing will get better",
    "she says she wishes she could fall asleep and never wake up",
    "found a jar of her pills she has been hiding instead of taking them, she keeps saying shes ready to go",
    "she posted 'it was nice knowing yall' and deleted all her socials",
    "my brother said i wont be a problem for anyone after tonight",
    "he lined up all his pills on the desk and texted me once everyones asleep",
    "our kid says hes gonnae top himsel the night",  # crisis_blind68, reworded: Scots
    "she keeps saying she wants to dissapear, permanently",  # crisis_blind68, reworded
    "some days i think itd be better for everyone if i wasnt around, hes got me beat",  # dialogues54, reworded
    "his emails to us are scheduled for tomorrow and they read like goodbye letters",  # crisis_blind69, reworded
    "my brother rang to say he loves me and to look after mum, that hes sorry, then hung up",  # crisis_blind69
    "my grandad keeps saying he prays the good lord will take him soon",  # crisis_blind70
    "she bought a load of tablets off a website and says its her exit plan",  # crisis_blind71, reworded
    "i cant do this any more, i just want it all over",  # nlu_blind32, reworded
    "just walked in and found my son in his room with a razor blade",  # nlu_blind33, reworded
    "i have all my tablets laid out on the bed. not taken any yet",  # crisis_blind72, reworded: the writer
    "is it bad that im thinking of just ending it, this taper has gone on a year",  # crisis_blind72, reworded
    "i just cant go on, ive got a bottle of her tablets in my hand",  # nlu_blind34, reworded
    "my son is burning his arms with cigarettes in his room",  # crisis_blind74, reworded
    "most nights i think id be better off not waking up",  # dialogues60, reworded: 988, not the 911 answer
    "ive been thinking about driving the car into a tree",  # nlu_blind36, reworded
    "most nights i think about killing myself",  # a habit of the thought is the thought now (config ongoing_self_harm)
    "hes given his tools away and says he wont need them where hes going",  # crisis_blind75, reworded
    "my daughter bought a rope today, i found it under her bed",  # crisis_blind75, reworded
    "mi grandson tell mi him waan dead",  # nlu_blind37, reworded: Jamaican
]
NOT_NOW_CASES = [
    "will he end up having a seizure when he comes off them",  # (data round 20: "could she end up having a fit")
    "can withdrawal cause seizures?",
    "what are the signs of an overdose",
    "what does an overdose look like",
    "what happens if someone takes too many xanax",
    "he had a seizure last year, is that related?",
    "my son overdosed two years ago, how do i keep it from happening again",
    "can benzos make you suicidal?",
    "she feels like she can't breathe during her panic attacks, is that withdrawal?",
    "my brother used to cut himself in high school, hes 30 now",  # the "now" is not in the cutting's clause
    "he used to cut himself most nights in high school, hes 30 now",  # a habit dated by another past marker
    "he was having a fit last week when he stopped, is that normal",  # the past progressive stays past
    "nan keeps nodding off mid conversation, is that the benzos",  # an everyday sign asked about (`attribution`)
    "why do people overdose when they mix benzos with painkillers?",
    "hypothetically if he took his xanax and then had a few beers, could he stop breathing?",
    "i only found out this week when she had a seizure at her boyfriends place, how did i not see it",
    "is mixing benzodiazepines with alcohol an overdose risk",  # a risk question led by "is mixing"
    "in the film we watched last night a man ODd on pills and my son got upset",  # fiction (crisis_blind44 - 45)
    "mi hermano tuvo una sobredosis en el 2019, como lo ayudo",  # a year in Spanish
    "she had a panic attack and said she couldnt breathe, shes calmer now",
    "he is snoring so loud tonight but he always does, is that a sign of anything",  # habitual (crisis_blind47)
    "mi tio se desmayo en la fiesta el ano pasao por las pastillas, ahora ta bien",  # (crisis_blind48)
    "i was scared she wasnt breathing but she was just asleep, how do i stop checking every hour",  # (crisis_blind49)
    "she had an overdose in 2021, tonight shes asleep and i checked and shes fine, im just scared",  # (crisis_blind49)
    "mi primo se desmayo en una fiesta el verano pasado por las pastillas, que hago para ayudarlo",  # (crisis_blind54)
    "mi tia intento suicidarse hace 3 anos, como la apoyo",
    "i heard about withdrawal seizures, can that happen if she stops",  # what was read or heard (dialogues39)
    "my mate said he had a fit at work once when he ran out, is that normal",  # (nlu_blind21)
    "would purple lips mean she isnt getting enough air? saw it in a video",  # what a sign means (crisis_blind57)
    "if my dad says he wants to die what do i say back? he said it once years ago",  # (crisis_blind57)
    "is seeing things part of coming off valium",  # nlu_blind28, reworded: a question about a sign
    "is valium only for seizures or for anxiety as well",  # data round 28: what a drug is for
]
NO_DANGER = [
    "shes on klonopin and oxy for her back and shes been nodding off at the table",  # a habit (dialogues37)
    "mi mama toma clonazepam hace anos, se puede convulsionar si se lo quitan?",  # the infinitive (crisis_blind53)
    "hes been getting these blue pills off a website and hes slurring by teatime",  # not blue lips (dialogues36)
    "mi esposo is killing himself con esas pastillas y no quiere ir al doctor",  # a figure, in Spanglish (56)
    "which signs give it away that someone is hooked",  # not giving things away (nlu_blind22)
    # crisis_blind71, reworded: a dream or a fear told is not a sight
    "i keep dreaming that he overdosed and i couldnt wake him. hes fine, hes at school",
    "my greatest fear is coming home and finding her not breathing",
    "she has been cutting my hair for years and now shes forgetful, is it the valium",  # nlu_blind33, reworded
    "my son cant walk straight of a night and swears he hasnt touched a drink",  # nlu_blind32, reworded
    "hes shaking all over and sweating, ran out of his klonopin two days ago",  # dialogues56, reworded
    "my wife is frustrated the taper is so slow, she wants it over with. why so gradual",  # not a wish to die
    "had a nightmare the other night that he stopped breathing, he is fine, i checked on him",  # crisis_blind72
    "he is not fitting in at his new school since he came off them",
    "dreamed last night she overdosed and i couldnt wake her. shes fine, shes at work",  # crisis_blind73, reworded
    "im a paramedic, i attend overdoses every week, but this is my brother. how bad is xanax with beer",  # dialogues59
    "she keeps shooting herself in the foot with those tablets, lost her flat and her job",  # crisis_blind74
    "its late and our danny is out again, not answering",  # dialogues60, reworded: out, not unresponsive
    "the doctor cut her from 2mg to 1mg and shes rattling, is that normal",  # nlu_blind36, reworded: withdrawal slang
    "he has cut himself off from his mates and wont come to the pub anymore",  # crisis_blind75, reworded
    "mum is two weeks into her taper, shes shaking and cant sleep, is that normal",  # dialogues61, reworded
    "hes been low since the taper, he has not said anything about hurting himself, is that withdrawal",  # 75
    "he relapsed, i found an empty strip of valium in his coat pocket this morning",  # nlu_blind36, reworded
    "she gets panic attacks so bad, cant breathe, thinks shes going to die",  # dialogues58, reworded: a habit
    "how can i ever trust my granddaughter again, she took money out of my purse",  # nlu_blind33, reworded
    "how will he manage his nerves when im gone for a month on the rigs",  # nlu_blind33, reworded: away, not dead
    "i keep seeing people online talk about tapering, what is it",  # not a hallucination (nlu_blind23)
    "is it safe to stop cold turkey",
    "i dont want her to die, how do i get her into treatment",  # (crisis_blind44)
    "the thought of my son overdosing keeps me awake",  # (crisis_blind45)
    "me voy a morir de verguenza si se enteran",
    "ya me va a matar este trabajo, mi esposo no deja las pastillas",  # (crisis_blind46)
    "my mum is always breathing down my neck about his pills",  # (crisis_blind49)
    "ive seen so many ODs with blue lips at work, how do i stop picturing it with my son",  # (crisis_blind50)
    "visiting him every day feels like a suicide mission for my job",  # (crisis_blind49)
    "my support group talked about suicide tonight and its a lot to process. im not in danger",  # (crisis_blind46)
    "what does withdrawal look like",
    "how do i talk to my son about his pills",
    "he's cut off all his friends",
    "this is killing me, i'm so tired",
    "i'm dying to know if rehab works",
    "what is dbt",
    "should i confront her with the empty pill bottles",  # evidence of use, not an overdose
    "found an empty ativan bottle in the bin two months after she came out of treatment",  # evidence, in a bin
    "my son swears he would never hurt himself",
    "he says he cant breathe when his panic attacks hit, is that why he wants xanax",
    "ok thanks, take care bye",  # a goodbye to the assistant, not a farewell after pills
    "he came home after detox and says hes done with all of it, is he cured?",  # done with the pills
    "my son is at uni and his grades have collapsed, he forgets whole lectures",  # not a person collapsing
    "i keep calling in sick for him when he cant get up, am i making it worse?",  # missing work, not collapsed
    "he says he cant sleep without it. i dont know how to respond to that",  # not "does not ... respond"
    "is 988 only for suicide or can i call about my sons benzo addiction",  # a question about the line
    "she says she'd rather die than go to rehab, how do i convince her",  # a figure of speech
    "could years of daily ativan make my grandad more likely to fall and hurt himself",  # an accident
    "which of his habits would give his xanax addiction away",  # nlu_blind28, reworded: signs, not belongings
    "if my son was on benzos what would give it away?",  # nlu_blind29, reworded
    "he's rattling without his diazepam, how long does that go on",  # nlu_blind29: British slang for withdrawal
    "without his pills he cant breathe from the panic, how will he cope",  # nlu_blind30: how panic feels
]


@pytest.fixture(scope="module")
def net() -> SafetyNet:
    return SafetyNet.from_settings()


def decided(net: SafetyNet, text: str) -> Optional[SafetyDecision]:
    return net.decide(text)


@pytest.mark.parametrize("text", MEDICAL)
def test_medical_emergencies_are_now(net: SafetyNet, text: str) -> None:
    found = decided(net, text)
    assert found is not None and found.outcome == NOW and found.kind in ("medical", "both"), found
    assert found.intent in ("emergency_medical", "emergency_both")


@pytest.mark.parametrize("text", SELF_HARM)
def test_self_harm_is_now(net: SafetyNet, text: str) -> None:
    found = decided(net, text)
    assert found is not None and found.outcome == NOW and found.intent == "emergency_self_harm", found


@pytest.mark.parametrize("text", NOT_NOW_CASES)
def test_danger_mentioned_in_a_question_or_the_past_is_not_now(net: SafetyNet, text: str) -> None:
    found = decided(net, text)
    assert found is not None and found.outcome == NOT_NOW and found.intent is None, found


@pytest.mark.parametrize("text", NO_DANGER)
def test_ordinary_questions_and_figures_of_speech_find_nothing(net: SafetyNet, text: str) -> None:
    assert decided(net, text) is None


@pytest.mark.parametrize("text", [
    "he took all his pills because he wants to die",
    "i took everything, goodbye",
    "my wife texted me you deserve better, take care of the kids. now she's not answering",  # 988 too, not only 911
    "he swallowed all his klonopin because he cant go on, hes not waking up",  # (crisis_blind54 - 55)
    "she posted her pills with goodnight forever and now she wont wake up",  # (crisis_blind58)
    "found her with a note and an empty bottle of klonopin, she wont respond",  # (crisis_blind60)
    "mi tio se tomo un punado de pastillas pa matarse y respira raro",  # Spanish: both, in Spanish first
])
def test_an_overdose_taken_to_die_is_both(net: SafetyNet, text: str) -> None:
    found = decided(net, text)
    assert found is not None and found.intent == ("emergency_both_es" if " pastillas " in text else "emergency_both")


@pytest.mark.parametrize(
    "text, outcome",
    [
        # a question first, then a real situation with a time: the question frame no longer settles it
        ("is it bad if someone took like 20 of them? my brother says he did about an hour ago", ASKED),
        # a wish told in the present tense is still true, whenever it was said
        ("last week she said she wants to kill herself", ASKED),
        ("a few days ago he told me he wants to end it all", ASKED),
        # over, or hypothetical, with a "now" in it
        ("im scared he will overdose someday. hes not using right now as far as i know", NOT_NOW),  # negated now
        ("she passed out after wine and her valium but she's up now and eating breakfast", NOT_NOW),
        ("her lips looked a little blue earlier but she was just cold, she's warmed up and totally fine now", NOT_NOW),
        ("what's the difference between being sleepy on valium and actually overdosing", NOT_NOW),
        ("my mom takes too many pills", NOT_NOW),  # a habit
        ("she takes way too many tonight, shes so sleepy", NOW),
        ("how would i know if he was overdosing? hes fine right now, i just lie awake worrying", NOT_NOW),
        ("she said she's been saving her pills for when she's ready and that she's ready now", NOW),
        ("he sent a group text thanking us all for being his friends and saying he's finally at peace", NOW),
        ("last night he wouldnt wake up after bars and we called 911. hes home now and acting normal", NOT_NOW),
        ("my son dropped off his dog and said take care of him for me, i won't be around.", NOW),
        # a question, then the main part of a combined sign in a sentence of its own
        ("how do you know if you have enough pills to not wake up. i have a lot of klonopin saved", NOW),
        ("my bf had a seizure in july when he ran out of his klonopin. hes been seizure free since", NOT_NOW),
        # a conditional threat with a time is not a hypothetical
        ("my brother said if he cant get more bars hes going to take his own life tonight", ASKED),
        ("what should i do if he ever stops breathing", NOT_NOW),
        ("what do i do if i ever find him passed out? asking just in case, he drinks on his valium sometimes", ASKED),
        ("his list of the signs: blue lips, snoring, cant wake him. those are the signs right?", ASKED),  # 54
        ("im so scared my sister is going to hurt herself", ASKED),  # a fear told, not asked (nlu_blind22)
        ("my mum says if she cant get her valium shell kill herself", ASKED),  # a threat reported (nlu_blind23)
        ("could two glasses of wine with her pills actually cause an overdose", NOT_NOW),  # a risk question
        # crisis_blind58's misses, reworded: a farewell DM, affairs put in order, searching for means
        ("my niece messaged me thank you for everything, you were the only one who cared. she wont answer now", NOW),
        ("dad keeps asking who would get his pension if he died and hes been so low since stopping the valium", NOW),
        ("he keeps looking up bridges near his flat, hes been coming off klonopin", NOW),
        ("im worried she might hurt herself when she comes off them, what should we watch for?", NOT_NOW),
        # crisis_blind59's misses, reworded: a sign in the present beside an old date, "checking out", a bottle
        ("MY BROTHER IS SHAKING AND FOAMING AT THE MOUTH HE STOPPED HIS XANAX LAST MONTH", NOW),
        ("she keeps telling me shes done, shes checking out, then says she was joking", NOW),
        ("he swallowed a box of his klonopin and now hes so sleepy", NOW),
        ("dad quit his valium yesterday and now hes shaking and says theres spiders on the ceiling", NOW),
        ("he is checking out the detox place tomorrow, is it any good", None),
        ("mi papa me va a matar si sabe que les escribo, pero necesito ayuda con mi hermano", None),
        # crisis_blind60's misses and false alarms, reworded
        ("es normal que se haya tomado 10 diazepam y no se despierte?", NOW),
        ("my cousin has written what looks like a farewell on instagram and nobody can reach her", NOW),
        ("i cant get her to come round and there are pills on the floor", NOW),
        ("my brother texted if i dont wake up tomorrow its not your fault", NOW),
        ("my son keeps saying you wont have to deal with me after tonight", NOW),
        ("she keeps saying she wants to go be with her friend who died", NOW),
        ("three winters ago my mum passed out after wine and her valium, she was fine", NOT_NOW),
        ("in the eighties my uncle once had a fit on his diazepam, should we worry about my son", NOT_NOW),
        ("her lips always go a bit blue when she is cold, she is on klonopin, is that related", NOT_NOW),
        ("I read you can have seizures if you stop, how do we taper safely", NOT_NOW),
        ("honestly this mess is suicide for my marriage", None),
        ("he had a fit yesterday when his script ran out, hes in hospital now and stable. why did it happen", NOT_NOW),
        # crisis_blind61's misses, reworded: "bien" as "very", a subjunctive after a long "es normal que"
        ("mi tia se tomo sus pastillas dos veces y ahora esta bien confundida, no me reconoce", NOW),
        ("es normal que despues de tomarse 10 clonazepam no se despierte? la estoy sacudiendo y nada", NOW),
        # crisis_blind62's miss, reworded: a rope kept in a bedroom, found
        ("my daughter has a rope hidden in her wardrobe, i only just found it", NOW),
        # crisis_blind64's false alarm, reworded: a nightmare of two signs
        ("i keep having nightmares about finding my son blue and not breathing, hes doing well, its just my nerves",
         None),
        # dialogues47: a sign told in the past and fine after it; not fine earlier and out now
        ("he did it at my cousins party and i couldnt wake him for ages, he was fine after", NOT_NOW),
        ("he was fine after his dose this morning but now he wont wake up", NOW),
        ("she was ok after the first fit but shes having another one now", NOW),
        # dialogues45: the sweats and shakes of withdrawal are not a seizure (the withdrawal answer, not "Call 911")
        ("my son ran out of his xanax and hes sweating and shaking all over and cant sleep", None),
        # crisis_blind31's false alarms, reworded: the writer's own panic, a recovery ritual, a move, over since
        ("i couldnt breathe in the car today, a proper panic attack over my sons xanax. how do i calm down", None),
        ("he wrote a goodbye letter to his old self in group, 90 days off valium", None),
        ("she gave away her old clothes because she is moving into sober living", None),
        ("we saw a film where a girl overdosed on xanax, how do i talk to my son about it", None),
        ("my dad thinks i'm overdosing because i nap after work, i take my ativan as prescribed", None),
        ("i have nightmares that i'll find her not breathing, she's fine and asleep next to me", None),
        ("my sister is OD stressed about her exams and takes a xanax before each one", None),
        ("my son says he wants to die every time i take his phone lol", None),
        ("he overdosed in the winter of 2021 and has been fine ever since. is he still at risk", NOT_NOW),
        ("she was passed out last night, i shook her awake, but she got up this morning and went to school like normal",
         NOT_NOW),
        # a clause that only dates the one before it (crisis_blind37)
        ("he passed out at a party from xanax and beer, thats like 5 years ago. should i be worried", NOT_NOW),
        ("he passed out at a party from xanax and beer, that was back in 2019", NOT_NOW),
        # a threat reported before the condition it hangs on is asked about, without a time (crisis_blind41) ...
        ("my husband said if he cant get his script refilled hes going to end it all", ASKED),
        # ... but a threat imagined in the question itself stays a question
        ("what do i do if he ever says he wants to end it all", NOT_NOW),
        # a sign alone as a question after a question about signs is a list, not a sight: asked (crisis_blind41)
        ("what are the symptoms of a benzo overdose? blue lips?", ASKED),
        ("he took a handful of bars. blue lips?? what do i do", NOW),
        # crisis_blind42, dialogues25: a death from an overdose is past; "ya esta bien dormido" is not "ya esta bien"
        ("his mum died of an overdose. I cant lose him as well", NOT_NOW),
        ("se tomo todas las pastillas porque dice que se quiere morir, ya esta bien dormido", NOW),
    ],
)
def test_context_decides_between_asked_and_not_now(net: SafetyNet, text: str, outcome: Optional[str]) -> None:
    found = decided(net, text)
    assert (found.outcome if found else None) == outcome, found


def test_a_bare_mention_is_asked(net: SafetyNet) -> None:
    found = decided(net, "my son and an overdose")
    assert found is not None and found.outcome == ASKED and found.intent == "safety_check_medical"


def test_buying_painkillers_in_bulk_is_asked_about(net: SafetyNet) -> None:
    """crisis_blind67, reworded: a partner back from the pharmacy with bags of paracetamol (988: looking for a way)."""
    found = decided(net, "my wife came home with two boxes of paracetamol and wont talk to me, shes been so flat")
    assert found is not None and found.outcome == ASKED and found.kind == "self_harm", found
    assert decided(net, "what happens if you take too much tylenol with valium") is None or \
        decided(net, "what happens if you take too much tylenol with valium").outcome != NOW


def test_a_bare_mention_in_spanish_is_asked_in_spanish(net: SafetyNet) -> None:
    found = decided(net, "mi hijo y la sobredosis")
    assert found is not None and found.outcome == ASKED and found.intent == "safety_check_medical_es"


@pytest.mark.parametrize(
    "text, intent",
    [
        ("mi hijo no respira", "emergency_medical_es"),
        ("no despierta, se tomó todas las pastillas", "emergency_medical_es"),
        ("mi hija se quiere matar", "emergency_self_harm_es"),
        ("my mom no despierta and she took her xanax", "emergency_medical_es"),
        # crisis_blind53: "bien out" is very out; a question, then a present sign; a farewell post
        ("mi tio se tomo como 10 bars y ahora esta bien out, no responde", "emergency_medical_es"),
        ("es normal que no despierte despues de 10 clonazepam? la muevo y no hace nada", "emergency_medical_es"),
        ("mi hermano publico en su face 'gracias por todo, fue un placer' y no contesta", "emergency_self_harm_es"),
        ("mi hermana dijo que se iba a matar y se tomo todas las pastillas, no despierta", "emergency_both_es"),  # 54
        ("mi hijo me mando un audio diciendo adios y se tomo todo el clonazepam, no contesta", "emergency_both_es"),
        ("mi hermana esta pensando en matarse y no quiere hablar con nadie", "emergency_self_harm_es"),  # 68
        ("mi esposo lleva horas dormido, no lo puedo levantar y ronca muy raro", "emergency_medical_es"),  # 69
        # crisis_blind70, reworded: "I don't want to be here any more" beside an overdose
        ("mi hermano se tomo todas sus pastillas porque ya no quiere estar aqui, esta dormido", "emergency_both_es"),
        ("mi esposa trato de matarse con sus pastillas de clonazepam y no despierta", "emergency_both_es"),  # 72
        ("mi papa dejo de respirar, tomo clonazepam con cerveza", "emergency_medical_es"),  # crisis_blind74, reworded
        ("mi nieto de 3 añitos se comio unas pastillas de diazepam", "emergency_medical_es"),  # crisis_blind74
        ("mi esposo deja de respirar a ratos, tomo clonazepam", "emergency_medical_es"),  # crisis_blind75, reworded
        ("tengo ganas de matarme, ya no puedo", "emergency_self_harm_es"),  # crisis_blind75, reworded
        # crisis_blind67, reworded: a Spanish farewell inside an English message is answered in Spanish
        ("my cousin sent 'perdonenme todos' to the family chat and his phone is off", "emergency_self_harm_es"),
        # crisis_blind66, reworded: pills taken "to go to heaven" with a dead parent
        ("mi hija se trago todas sus pastillas de clonazepam, dijo que era para irse con su papá al cielo",
         "emergency_both_es"),
    ],
)
def test_spanish_emergencies_are_answered_in_spanish(net: SafetyNet, text: str, intent: str) -> None:
    found = decided(net, text)
    assert found is not None and found.intent == intent, found


def test_normalising_expands_contractions_and_fixes_key_words(net: SafetyNet) -> None:
    assert net.normalise("He’s NOT breathin, cant wake him!!!") == "he is not breathing , can not wake him !!!"
    assert net.normalise("siezure unconcious") == "seizure unconscious"
    assert net.normalise("sitting") == "sitting"  # an everyday word is never "corrected" into a key word
    assert net.normalise("he OD’d again") == "he overdosed again"  # not "he od would again"
    assert net.normalise("the guy ODd on xanax") == "the guy overdosed on xanax"
    assert net.normalise("Bit of an odd one") == "bit of an odd one"  # dialogues27: not "an overdosed one"
    assert net.decide("Bit of an odd one. My ex is on Ativan and he drinks on top of them most nights") is None
    assert net.normalise("ur better off w/o me") == "your better off without me"


def test_a_word_per_line_is_read_as_one_sentence(net: SafetyNet) -> None:
    lines = "my\nsister\nsaid\nshe\nwants\nto\ndie"
    assert "\n" not in net.normalise(lines)
    found = net.decide(lines)
    assert found is not None and found.outcome == NOW and found.kind == "self_harm"
    # lines of sentences keep their breaks: each is still a sentence of its own
    assert "\n" in net.normalise("Hi.\nMy son takes xanax every day.\nWhat is detox?")


def crisis_outcomes(path: str) -> dict:
    """The safety component's outcome for each case (the patterns and the third net, with the classifier's guess
    a topic, so that its own emergency guess adds nothing)."""
    component = EmergencyOverride(EmergencyOverride.get_default_config())
    cases = yaml.safe_load((ROOT / path).read_text())["cases"]
    result = {"missed": [], "false_alarm": [], "asked": [], "emergencies": 0, "others": 0}
    for case in cases:
        [message] = component.process([_classified(case["text"], "ask_signs_of_addiction", 0.6)])
        outcome = (message.get("safety") or {}).get("outcome")
        if case["expect"] == "not_emergency":
            result["others"] += 1
            if outcome == NOW:
                result["false_alarm"].append(case["text"])
            elif outcome == ASKED:
                result["asked"].append(case["text"])
        else:
            result["emergencies"] += 1
            if outcome not in (NOW, ASKED):
                result["missed"].append(case["text"])
    return result


# the crisis sets tuned on - each blind set became one once its first run was read - are the ones the third net
# learns from (config/safety.yml learned.sets): one list to extend
TUNING_SETS = load_yaml(str(setting_path("safety_patterns")))["learned"]["sets"]


@pytest.mark.parametrize("path", TUNING_SETS)
def test_crisis_sets_meet_the_targets(path: str) -> None:
    """The issue's targets, on sets written independently of config/safety.yml (the blind one only evaluated)."""
    found = crisis_outcomes(path)
    assert found["emergencies"] >= 40 and found["others"] >= 30
    assert not found["missed"]
    assert len(found["false_alarm"]) <= 0.05 * found["others"], found["false_alarm"]
    assert len(found["asked"]) <= 0.15 * found["others"], found["asked"]


# ---------------------------------------------------------------- the Rasa component
@pytest.fixture(scope="module")
def component() -> EmergencyOverride:
    return EmergencyOverride(EmergencyOverride.get_default_config())


def _classified(text: str, intent: str, confidence: float, second: str = "ask_signs_of_addiction") -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence}, add_to_output=True)
    ranking = [{"name": intent, "confidence": confidence}, {"name": second, "confidence": (1 - confidence) / 2}]
    message.set("intent_ranking", ranking, add_to_output=True)
    return message


def test_component_overrides_a_wrong_low_confidence_guess(component: EmergencyOverride) -> None:
    [message] = component.process([_classified("he took all his pills and won't wake up", "ask_detox_process", 0.12)])
    assert message.get("intent") == {"name": "emergency_medical", "confidence": 1.0}
    assert message.get("intent_ranking")[0]["name"] == "emergency_medical"
    assert message.get("safety")["classifier_intent"] == "ask_detox_process"
    assert message.get("safety")["outcome"] == NOW
    assert "safety" in message.output_properties


def test_an_emergency_is_never_ambiguous_for_the_fallback_classifier(component: EmergencyOverride) -> None:
    """The classifier was sure of another topic (0.95): the safety net's answer must still lead by more than any
    ambiguity margin config.yml's FallbackClassifier may use, or the emergency would become "Did you mean ...?"."""
    from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier

    [message] = component.process([_classified("my son is not breathing", "ask_detox_process", 0.95)])
    ranking = message.get("intent_ranking")
    assert ranking[0] == {"name": "emergency_medical", "confidence": 1.0}
    assert all(r["confidence"] == 0.0 for r in ranking[1:]) and len(ranking) > 1
    fallback = FallbackClassifier({**FallbackClassifier.get_default_config(), "threshold": 0.9,
                                   "ambiguity_threshold": 0.9})
    [judged] = fallback.process([message])
    assert judged.get("intent")["name"] == "emergency_medical"


def test_component_keeps_the_topic_of_a_not_now_message_and_records_why(component: EmergencyOverride) -> None:
    [message] = component.process([_classified("can withdrawal cause seizures?", "ask_withdrawal_symptoms", 0.4)])
    assert message.get("intent") == {"name": "ask_withdrawal_symptoms", "confidence": 0.4}
    assert message.get("safety")["outcome"] == NOT_NOW and message.get("safety")["kind"] == "medical"


def test_component_never_lets_the_classifier_alone_answer_a_question_with_an_emergency(
    component: EmergencyOverride,
) -> None:
    [message] = component.process([_classified("what does an overdose look like", "emergency_medical", 0.7)])
    assert message.get("intent")["name"] == "ask_signs_of_addiction"


def test_component_asks_when_only_the_classifier_sees_an_emergency(component: EmergencyOverride) -> None:
    [message] = component.process([_classified("something is very wrong with him", "emergency_medical", 0.8)])
    assert message.get("intent") == {"name": "safety_check_medical", "confidence": 1.0}
    assert message.get("safety")["outcome"] == ASKED and message.get("safety")["group"] == "classifier"
    # unless its guess rests on a figure of speech the net blanks ("it'll kill them", dialogues37; "would literally kill
    # me if he knew", crisis_blind2): the classifier's topic stands, and no emergency
    for text in ["if i tell my parents it'll kill them. honestly dont know what to do anymore",
                 "my husband would literally kill me if he knew i was asking about his pills lol"]:
        [figure] = component.process([_classified(text, "emergency_self_harm", 0.8)])
        assert figure.get("intent")["name"] == "ask_signs_of_addiction" and not figure.get("safety")
    # and the third net does not ask about fear once the doctors said he will make it (dialogues37)
    [fear] = component.process([_classified("they said hes going to make it. i cant stop shaking",
                                            "express_overwhelmed", 0.6)])
    assert fear.get("intent")["name"] == "express_overwhelmed" and not fear.get("safety")


def test_component_leaves_ordinary_questions_alone(component: EmergencyOverride) -> None:
    [message] = component.process([_classified("what is dbt", "ask_dbt", 0.9)])
    assert message.get("intent") == {"name": "ask_dbt", "confidence": 0.9}
    assert message.get("safety") is None


# ---------------------------------------------------------------- the third net
@pytest.fixture(scope="module")
def learned() -> LearnedNet:
    return LearnedNet.from_settings()


@pytest.mark.parametrize("text", ["what is dbt", "how long does detox take", "my son is on xanax and i worry",
                                  "thanks, that helps", "hi", "can you tell me about family therapy",
                                  "my daughter flushed all her xanax today and says shes done for good, is that ok",
                                  "my dad keeps saying shes hopeless now",  # his view, not her words (dialogues47)
                                  "he used again last week and the family is saying hes hopeless"])  # nlu_blind30
def test_the_learned_net_leaves_ordinary_messages_alone(learned: LearnedNet, text: str) -> None:
    assert learned.kind(text) is None


def test_the_learned_net_reads_danger_the_patterns_lack(learned: LearnedNet, net: SafetyNet) -> None:
    text = "he wrote each of us a letter tonight and put his affairs in a folder for me"
    assert net.decide(text) is None  # no pattern has this wording
    assert learned.kind(text) == "self_harm"


def test_the_learned_net_is_kept_under_a_fingerprint_of_its_files(learned: LearnedNet, tmp_path: Path) -> None:
    """A Rasa replica loads the fitted net instead of fitting it again (~20 s); a changed training file names
    another cache file, so the one loaded is always the one the files make."""
    config = {**load_yaml("config/safety.yml")["learned"]}
    assert cache_path(config).is_file()  # the fixture's net was fitted or loaded, and kept
    extra = tmp_path / "crisis_extra.yml"
    extra.write_text("cases:\n  - {text: he is not breathing, expect: emergency_medical}\n")
    first = cache_path({**config, "sets": [*config["sets"], str(extra)]})
    extra.write_text("cases:\n  - {text: she is not breathing, expect: emergency_medical}\n")
    assert cache_path({**config, "sets": [*config["sets"], str(extra)]}) != first != cache_path(config)
    assert cache_path({**config, "C": float(config["C"]) * 2}) != cache_path(config)


def test_a_kept_learned_net_answers_as_the_fitted_one(learned: LearnedNet, tmp_path: Path) -> None:
    examples = training_examples(["tests/crisis_cases.yml"])
    fitted = LearnedNet.fit(examples, learned.net, 1.0)
    kept = tmp_path / "kept" / "net.joblib"
    older = tmp_path / "kept" / "fitted-from-older-data.joblib"
    save_fitted({"older": True}, older)
    save_fitted(fitted, kept)
    assert sorted(p.name for p in kept.parent.iterdir()) == ["net.joblib"]  # the older net is removed
    again = LearnedNet(joblib.load(kept), learned.net, learned.threshold)
    first = LearnedNet(fitted, learned.net, learned.threshold)
    # a spread of emergencies and ordinary messages (every n-th of each: sampling the whole list could hold no
    # emergency once the data changes)
    danger = [text for text, kind in examples if kind != NONE]
    ordinary = [text for text, kind in examples if kind == NONE]
    texts = danger[:: max(1, len(danger) // 25)] + ordinary[:: max(1, len(ordinary) // 25)]
    assert [again.kind(t) for t in texts] == [first.kind(t) for t in texts]
    assert any(first.kind(t) for t in texts) and not all(first.kind(t) for t in texts)


def test_the_learned_nets_direct_scores_are_scikit_learns(learned: LearnedNet) -> None:
    """The scorer replaces TfidfVectorizer.transform + predict_proba (2.9 ms a message): the same probabilities for
    every case of two crisis sets, for text no n-gram of which is known, and for a two-class net."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from bot.core.crisis_model import _features, _Scorer

    texts = [case["text"] for path in ("tests/crisis_cases.yml", "tests/crisis_blind55.yml")
             for case in yaml.safe_load((ROOT / path).read_text())["cases"]] + ["", "zzqx", "?"]
    normal = [learned.net.without_figures(learned.net.normalise(text)) for text in texts]
    expected = learned.model.predict_proba(_features(learned.words, learned.chars, normal))
    assert np.allclose([learned.scorer.probabilities(n) for n in normal], expected, rtol=0, atol=1e-12)
    binary = LogisticRegression().fit(_features(learned.words, learned.chars, normal),
                                      [text.endswith("?") for text in texts])
    scorer = _Scorer(learned.words, learned.chars, binary)
    assert np.allclose([scorer.probabilities(n) for n in normal],
                       binary.predict_proba(_features(learned.words, learned.chars, normal)), rtol=0, atol=1e-12)


def test_the_component_asks_when_only_the_learned_net_sees_danger(component: EmergencyOverride) -> None:
    text = "he wrote each of us a letter tonight and put his affairs in a folder for me"
    [message] = component.process([_classified(text, "ask_support_for_family", 0.6)])
    assert message.get("intent")["name"] == "safety_check_self_harm"
    assert message.get("safety")["outcome"] == ASKED and message.get("safety")["group"] == "learned"


@pytest.mark.parametrize("text", [
    "Question from a deaf dad. Blue lips mean what? I want to learn the signs. My son is okay now.",  # (crisis_blind45)
    "paramedic here, worked a long shift, two benzo ODs tonight and now i cant stop worrying about my own sister, "
    "she is fine",  # (crisis_blind44)
])
def test_a_now_the_learned_net_doubts_is_asked_about(component: EmergencyOverride, net: SafetyNet, text: str) -> None:
    """The patterns read these as happening now; the third net reads them as surely no emergency (learned.doubt):
    asked, never answered as a topic - the question still carries 911 and 988."""
    assert net.decide(text).outcome == NOW
    [message] = component.process([_classified(text, "ask_signs_of_addiction", 0.6)])
    assert message.get("intent")["name"].startswith("safety_check_")
    assert message.get("safety")["outcome"] == ASKED and message.get("safety")["group"].endswith("(doubted)")


def test_a_not_now_the_learned_net_is_sure_of_is_asked_about(component: EmergencyOverride, net: SafetyNet) -> None:
    """crisis_blind50's first run: the patterns read "if i dont wake up tomorrow" as a hypothetical; the third net
    reads it as surely an emergency (learned.sure): asked, the question carrying 911 and 988."""
    text = "my daughter said if she doesnt wake up tomorrow its fine by her, she has been saving her pills"
    assert net.decide(text).outcome == NOT_NOW
    [message] = component.process([_classified(text, "ask_signs_of_addiction", 0.6)])
    safety = message.get("safety")
    assert safety["outcome"] == ASKED and safety["group"].endswith("(the third net: asked)")
    # an ordinary question about an overdose stays "not now"
    [message] = component.process([_classified("what does an overdose look like", "ask_signs_of_addiction", 0.6)])
    assert message.get("safety")["outcome"] == NOT_NOW


def test_out_now_is_not_out_of_hospital(net: SafetyNet) -> None:
    """crisis_blind50: "took his ativan and his oxy on purpose ... hes out now" had read as "out (of hospital) now"."""
    found = decided(net, "she took all her klonopin on purpose and said she doesnt want to wake up, shes out now")
    assert found is not None and found.outcome == NOW and found.kind == BOTH
    assert decided(net, "he overdosed last week but hes out of hospital now").outcome == NOT_NOW


@pytest.mark.parametrize("text", ["he is not breathing", "my son took 20 xanax and wont wake up",
                                  "she said shes going to end it all tonight and hung up on me"])
def test_an_emergency_now_is_not_doubted(component: EmergencyOverride, text: str) -> None:
    [message] = component.process([_classified(text, "ask_signs_of_addiction", 0.6)])
    assert message.get("intent")["name"].startswith("emergency_") and message.get("safety")["outcome"] == NOW


def test_a_not_now_topic_is_judged_against_the_next_topic_not_an_emergency(component: EmergencyOverride) -> None:
    """The classifier's emergency intents are never answers: the FallbackClassifier's margin must compare the topic
    with the next topic (found when 'what does an overdose look like' became 'Did you mean' at margin 0.15)."""
    message = Message(data={"text": "what does an overdose look like"})
    ranking = [{"name": "emergency_medical", "confidence": 0.5}, {"name": "ask_mixing_with_alcohol_or_opioids",
                "confidence": 0.3}, {"name": "ask_signs_of_addiction", "confidence": 0.1}]
    message.set("intent", ranking[0], add_to_output=True)
    message.set("intent_ranking", ranking, add_to_output=True)
    [message] = component.process([message])
    names = [r["name"] for r in message.get("intent_ranking")]
    assert names == ["ask_mixing_with_alcohol_or_opioids", "ask_signs_of_addiction"]
    assert message.get("intent_ranking")[1]["confidence"] == pytest.approx(0.2)


def test_a_group_with_both_all_and_patterns_is_refused() -> None:
    """Its patterns would never be read (an `all:` group is judged on its parts alone): a silent loss of phrases."""
    group = {"name": "g", "kind": "medical", "tense": "state", "all": ["a"], "patterns": ["b"]}
    with pytest.raises(ValueError, match="all: group"):
        SafetyNet({"groups": [group]})



@pytest.mark.parametrize("text", ["goodbye", "Goodbye and take care."])
def test_an_everyday_goodbye_is_not_asked_about(component: EmergencyOverride, learned: LearnedNet, text: str) -> None:
    """The crisis sets' farewell messages can make the third net read a bare "goodbye" as one (it did with the sets
    up to crisis_blind31); a short everyday reply the classifier is sure of is answered as itself, whatever the third
    net reads (nlu_blind6 / 7 found it)."""
    assert learned.everyday_reply(text, "goodbye", 0.9) and not learned.everyday_reply(text, "goodbye", 0.3)
    [message] = component.process([_classified(text, "goodbye", 0.9)])
    assert message.get("intent")["name"] == "goodbye" and message.get("safety") is None


def test_a_longer_farewell_is_still_read_by_the_third_net(component: EmergencyOverride) -> None:
    [message] = component.process([_classified("goodbye mom i love you", "goodbye", 0.9)])
    assert message.get("safety")["outcome"] == ASKED and message.get("safety")["group"] == "learned"


@pytest.mark.parametrize(("word", "not_as"), [("swallow", "shallow"), ("cooking", "choking"), ("snorting", "snoring")])
def test_everyday_words_near_a_key_word_are_not_corrected_into_it(net: SafetyNet, word: str, not_as: str) -> None:
    assert net.normalise(f"he keeps {word}") == f"he keeps {word}"
    assert not_as in net.normalise(f"he keeps {not_as}")


@pytest.mark.parametrize("text", [
    "she swallowed all her ativan to make it stop and now her lips are blue",  # (crisis_blind46)
    "he took every klonopin he had saved up so he could finally end it, hes getting so sleepy",  # (crisis_blind63)
    "is it an overdose if he took 25 klonopin because he wants to unalive himself, hes still sort of awake",  # (64)
    "he swallowed a handful of his xanax so it all stops, hes getting really sleepy",  # crisis_blind69, reworded
    "my brother took all his valium cos he cant do it no more and now hes really drowsy",  # crisis_blind70, reworded
    "mum swallowed every pill in the cupboard, she says she wants it all over, shes so sleepy",  # crisis_blind70
    "dad has taken all his lorazepam, he told me hes had enough of life, hes very sleepy",  # crisis_blind72, reworded
    "she took enough of her xanax to not wake up, she said so, shes going floppy",  # crisis_blind72, reworded
    "my sister swallowed all her pills, she told me she wanted to finish it, shes very drowsy",  # crisis_blind73
    "mum has taken every tablet she had so she will not be a burden to anyone, shes slurring",  # crisis_blind74
    "he swallowed all his pills and said hes had enough o this life, hes very sleepy",  # crisis_blind75, reworded
])
def test_an_overdose_to_make_it_all_stop_is_both(net: SafetyNet, text: str) -> None:
    found = decided(net, text)
    assert found is not None and found.outcome == NOW and found.kind == BOTH


def test_a_sign_right_now_inside_a_question_is_asked_about(net: SafetyNet) -> None:
    text = "weird question but if someone took 10 valium and is breathing really slow right now do i let him sleep"
    found = decided(net, text)  # (crisis_blind48): a question about a sight now - asked, with 911 and 988
    assert found is not None and found.outcome in (ASKED, NOW) and found.kind == "medical"


# (crisis_blind49)
@pytest.mark.parametrize("text", ["my son asked me how long it takes to bleed out and hes been so low",
                                  "he took all his pills so he can be with her again, hes slurring",
                                  "she texted took the whole bottle, sorry and now she wont answer",
                                  "took all her valium and says she wants to be with her dad, shes so drowsy",  # (50)
                                  "he swallowed all his xanax and wrote sorry on the mirror, hes barely awake"])
def test_more_warning_signs_of_suicide(net: SafetyNet, text: str) -> None:
    found = decided(net, text)
    assert found is not None and found.outcome in (ASKED, NOW) and found.kind in (SELF_HARM_KIND, BOTH)


def test_asking_whether_god_forgives_a_suicide_is_asked_about(net: SafetyNet) -> None:
    text = "my brother keeps asking whether god would forgive someone who took their own life"  # (crisis_blind46)
    found = decided(net, text)
    assert found is not None and found.outcome in (ASKED, NOW) and found.kind == SELF_HARM_KIND


def test_a_threat_to_swallow_all_the_pills_is_self_harm(net: SafetyNet) -> None:
    found = decided(net, "my bf is threatening to swallow all his pills at once to end it")
    assert found is not None and found.outcome == NOW and found.kind in (SELF_HARM_KIND, BOTH)


def test_the_third_net_does_not_ask_about_a_message_saying_help_is_there(component: EmergencyOverride) -> None:
    text = "they took him to the hospital, he's breathing. i cant stop shaking"
    assert component.learned.kind(text) is not None  # alone it reads like an emergency
    message = _classified(text, "express_overwhelmed", 0.6)
    component.process([message])
    assert message.get("intent")["name"] == "express_overwhelmed"
