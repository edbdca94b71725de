"""The deterministic safety net: is someone in danger right now, only mentioned in danger, or is it unclear?

Plain Python (no Rasa, no spaCy) so the NLU component (bot.rasa.emergency_override), the REST channel's failure path
and its turn gate share one decision. The phrases, context markers and their sources live in config/safety.yml,
which also explains the reading step by step. Regular expressions on a normalised text keep it deterministic and
well under a millisecond a message (`python -m bot.core.safety --bench`).
"""

from __future__ import annotations

import functools
import re
import sys
import time
import unicodedata
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Pattern, Tuple

from rapidfuzz.distance import DamerauLevenshtein
from rapidfuzz.process import extractOne

from bot.core.settings import load_yaml, setting_path

NOW, NOT_NOW, ASKED = "now", "not_now", "asked"
MEDICAL, SELF_HARM, BOTH = "medical", "self_harm", "both"
_URGENCY = {NOW: 3, ASKED: 2, NOT_NOW: 1}
_BY_URGENCY = {urgency: outcome for outcome, urgency in _URGENCY.items()}

_OVERDOSED_CASED = re.compile(r"\bO\.?D\.?d\b")  # "the guy ODd on xanax" (crisis_blind45): "odd" once lowercased
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "“": '"', "”": '"'})
# Contractions with an apostrophe; the apostrophe-less spellings (isnt, cant, hes) are in config/safety.yml.
_CONTRACTIONS: Tuple[Tuple[Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        # before "(\w+)'d": "he OD'd" is not "he od would"; not "odd" ("bit of an odd one", dialogues27) - "ODd"
        # is read before lowercasing (_OVERDOSED_CASED)
        (r"\bo\.?d\.?(?:'e?|e|\.)d\b", "overdosed"),
        (r"\bw/o\b", "without"),  # "ur better off w/o me"
        (r"\bw/(?=\s|\w)", "with "),
        (r"\bcan't\b|\bcannot\b", "can not"),
        (r"\bwon't\b", "will not"),
        (r"\bain't\b", "is not"),
        (r"\b(\w+)n't\b", r"\1 not"),
        (r"\b(he|she|it|that|there|what|who|where)'s\b", r"\1 is"),
        (r"\bi'm\b", "i am"),
        (r"\b(\w+)'re\b", r"\1 are"),
        (r"\b(\w+)'ll\b", r"\1 will"),
        (r"\b(\w+)'ve\b", r"\1 have"),
        (r"\b(\w+)'d\b", r"\1 would"),
    )
)
_REPEATS = re.compile(r"(\w)\1{2,}")
_NON_WORD = re.compile(r"[^\w!?.,;\n]+")
_SENTENCE = re.compile(r"[.!?;\n]+")
_CLAUSE = re.compile(r"[.!?;,\n]+|\bbut\b")
# a clause that only dates the one before it: "..., that is like 5 years ago"
_DATING = re.compile(
    r"(?:that|this|it|which) (?:is|was|s|were) "
    r"(?:like |about |around |almost |nearly |over |maybe |probably |at least )?"
)
# ... or a seizure verb in the progressive, its "is" lost to a possessive spelling ("Dad's having a fit" -> "dads
# having a fit", crisis_blind75), unless told in the past ("was having")
_PRESENT = re.compile(r"\b(?:is|are|am|keeps?|currently|esta|estan|sigue)\b|(?<!\bwas )(?<!\bwere )(?<!\bbeen )"
                      r"\b(?:having|seizing|fitting|convulsing|jerking|twitching)\b")
# a wish told in the present ("last week she said she *wants* to die"): still true, so it is asked, not dismissed
_PRESENT_WISH = re.compile(
    r"\b(?:wants?|is|are|am|keeps?|plans?|planning|going to|gonna|thinking|talks|talking|says)\b"
)
_NOW_ASSERTED = re.compile(r"\bnow (?:he|she|they|it) (?:is|are|keeps?)\b|\bnow (?:i|we) (?:can not|could not)\b")
# "if someone took 15mg and is breathing really slow right now, do i call 911": a question about a sight now
_NOW_IN_QUESTION = re.compile(r"\b(?:right now|as we speak|at this moment|at the moment)\b")
_NEGATED = re.compile(r"\b(?:not|never|no)\b")
# a threat reported before the condition it hangs on ("my bf said if he can't get more bars he's gonna end it all")
_REPORTED = re.compile(
    r"\b(?:said|says|told (?:me|us|her|him)|tells (?:me|us|her|him)|texted|threatened|threatens|keeps saying"
    r"|kept saying|has been saying)\b"
)
_AGO_NOW = re.compile(r"\b(?:ago|back|before|since then|earlier) now\b")
_MACRO = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class SafetyDecision:
    outcome: str  # now | not_now | asked
    kind: str  # medical | self_harm | both
    phrase: str  # the words that matched, from the normalised message
    group: str  # the config/safety.yml group that matched
    language: str  # en | es: the language the emergency answer starts in

    @property
    def intent(self) -> Optional[str]:
        """The intent the assistant answers with: the emergency intents, the "is this happening now?" check, or
        None (not now: the classifier's own topic answers, with the closing line)."""
        if self.outcome == NOW:
            return f"emergency_{self.kind}" + ("_es" if self.language == "es" else "")
        if self.outcome == ASKED:
            return f"safety_check_{MEDICAL if self.kind == MEDICAL else SELF_HARM}" + (
                "_es" if self.language == "es" else ""
            )
        return None

    def record(self, classifier_intent: Optional[str], topic: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """What goes into the message's parse data (and so the stored conversation) for staff review; `topic` is the
        information answer the message gets if it is not (or turns out not to be) an emergency."""
        return {
            "outcome": self.outcome,
            "kind": self.kind,
            "phrase": self.phrase,
            "group": self.group,
            "language": self.language,
            "classifier_intent": classifier_intent,
            "answer_intent": (topic or {}).get("name"),
        }


@dataclass(frozen=True)
class _Group:
    name: str
    kind: str
    tense: str  # state | critical (a state no question frame cancels) | event | mention | habit | intent
    patterns: Tuple[Tuple[Pattern[str], bool], ...]  # any of them, each with whether it is a Spanish phrase
    required: Tuple[Pattern[str], ...]  # all of them (the `all:` form)
    soft: bool = False  # a sign families also see every day: a question about its cause makes it not now
    even_if_fine: bool = False  # "acting normal right now" does not make it over (a child who swallowed pills)
    any_pattern: Optional[Pattern[str]] = None  # all `patterns` in one: most groups match nothing, found in one scan


@dataclass(frozen=True)
class _Hit:
    group: _Group
    start: int
    end: int
    text: str
    spanish: bool


class SafetyNet:
    def __init__(self, config: Dict[str, Any]) -> None:
        macros = dict(config.get("macros") or {})

        def compile_all(patterns: Iterable[str]) -> Tuple[Pattern[str], ...]:
            return tuple(re.compile(_MACRO.sub(lambda m: macros.get(m.group(1), m.group(0)), p)) for p in patterns)

        self.notes: Dict[str, str] = dict(config.get("notes") or {})
        self.topics: Dict[str, str] = dict(config.get("topics") or {})
        self.topic_min = float(config.get("topic_min_confidence", 0.3))
        self.misspellings: Dict[str, str] = {str(k): str(v) for k, v in (config.get("misspellings") or {}).items()}
        self.figures = compile_all(list(config.get("figures") or ()) + list(config.get("negations") or ()))
        # one search first: most messages hold no figure, and then none of the ~100 substitutions could change them
        self.any_figure = re.compile("|".join(f"(?:{p.pattern})" for p in self.figures)) if self.figures else None
        self.frames = compile_all(config.get("frames") or ())
        self.factive = compile_all(config.get("factive") or ())
        self.past = compile_all(config.get("past") or ())
        self.attribution = compile_all(config.get("attribution") or ())
        self.recent = compile_all(config.get("recent") or ())
        self.recovered = compile_all(config.get("recovered") or ())
        self.reading_ahead = compile_all(config.get("reading_ahead") or ())
        self.fears = compile_all(config.get("fears") or ())
        self.ongoing = compile_all(config.get("ongoing") or ())
        self.ongoing_self_harm = compile_all(config.get("ongoing_self_harm") or ())
        self.now_strong = compile_all((config.get("now") or {}).get("strong") or ())
        self.now_weak = compile_all((config.get("now") or {}).get("weak") or ())
        spanish = config.get("spanish") or {}
        self.spanish_words = frozenset(spanish.get("words") or ())
        self.spanish_min = int(spanish.get("min_words", 2))
        self.groups: List[_Group] = []
        for group in config.get("groups") or ():
            english, spanish_patterns = group.get("patterns") or (), group.get("patterns_es") or ()
            if group.get("all") and (english or spanish_patterns):
                raise ValueError(f"safety group {group['name']!r}: an all: group takes no patterns (they'd be ignored)")
            self.groups.append(
                _Group(
                    name=group["name"],
                    kind=group["kind"],
                    tense=group["tense"],
                    patterns=tuple((p, False) for p in compile_all(english))
                    + tuple((p, True) for p in compile_all(spanish_patterns)),
                    required=compile_all(group.get("all") or ()),
                    soft=bool(group.get("soft")),
                    even_if_fine=bool(group.get("even_if_fine")),
                    any_pattern=re.compile("|".join(f"(?:{p.pattern})" for p in compile_all(
                        list(english) + list(spanish_patterns)))) if english or spanish_patterns else None,
                )
            )
        vocabulary = set(config.get("keywords") or ())
        self.vocabulary = tuple(sorted(vocabulary))
        self._vocabulary_set = frozenset(vocabulary) | frozenset(config.get("known_words") or ())

    @classmethod
    @functools.cache
    def from_settings(cls) -> SafetyNet:
        return cls(load_yaml(str(setting_path("safety_patterns"))))

    # ------------------------------------------------------------------ normalising
    def normalise(self, text: str) -> str:
        """Lowercase ASCII words with contractions expanded, runs of a letter shortened and key words spelled right."""
        text = _one_line(_OVERDOSED_CASED.sub("overdosed", text.translate(_APOSTROPHES)).lower())
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
        for pattern, replacement in _CONTRACTIONS:
            text = pattern.sub(replacement, text)
        text = text.replace("'", "").replace("&", " and ").replace("+", " and ")
        text = _REPEATS.sub(r"\1", text)
        text = _NON_WORD.sub(" ", text)
        return " ".join(self._spell(word) for word in re.findall(r"\w+|[!?.,;\n]+", text))

    def _spell(self, word: str) -> str:
        if word in self.misspellings:
            return self.misspellings[word]
        if len(word) < 6 or not word.isalpha() or word in self._vocabulary_set:
            return word
        found = extractOne(word, self.vocabulary, scorer=DamerauLevenshtein.distance, score_cutoff=1)
        if not found or (len(found[0]) == len(word) and found[0][:-1] == word[:-1]):
            return word  # only the last letter differs: another form of a word ("breaths"), not a misspelling
        return found[0]

    # ------------------------------------------------------------------ deciding
    def decide(self, text: str, normal: Optional[str] = None) -> Optional[SafetyDecision]:
        """`normal`: the text already normalised, when the caller needs it too (bot.rasa.emergency_override)."""
        normal = self.without_figures(self.normalise(text) if normal is None else normal)
        hits = self._hits(normal)
        if not hits:
            return None
        cache: Dict[Any, Any] = {}
        judged = [(self._judge(h, normal, cache), h) for h in hits if h.group.tense != "intent"]
        # an "on purpose" only counts beside a medical hit that is not merely mentioned, and then makes it both
        # kinds, no more urgent than that hit ("can you have a seizure if you stop? she's thinking of quitting on
        # purpose" is a question)
        medical = max((_URGENCY[o] for o, h in judged if h.group.kind == MEDICAL), default=0)
        if medical > _URGENCY[NOT_NOW]:
            for hit in hits:
                if hit.group.tense == "intent":
                    outcome = self._judge(hit, normal, cache)
                    judged.append((min(outcome, _BY_URGENCY[medical], key=_URGENCY.__getitem__), hit))
        if not judged:
            return None
        if self.reading_ahead and any(p.search(normal) for p in self.reading_ahead) and not any(
            p.search(normal) for p in self.now_strong
        ):  # "blue lips, is that a sign of an overdose? reading up because he just started them": asked, not now
            judged = [(ASKED if o == NOW else o, h) for o, h in judged]
        top = max(_URGENCY[outcome] for outcome, _ in judged)
        winners = [h for outcome, h in judged if _URGENCY[outcome] == top]
        outcome = next(o for o, _ in judged if _URGENCY[o] == top)
        kinds = {h.group.kind for h in winners}
        kind = BOTH if kinds == {MEDICAL, SELF_HARM} else kinds.pop()
        first = min(winners, key=lambda h: (h.group.tense == "intent", h.start))
        spanish = any(h.spanish for h in winners) or self._spanish(normal)
        return SafetyDecision(outcome, kind, first.text.strip(), first.group.name, "es" if spanish else "en")

    def _fears(self, normal: str, sentence: Tuple[int, int], frame: int) -> bool:
        """A fear told, not asked, that someone will hurt themselves ("i'm scared my brother is going to hurt himself",
        nlu_blind22): config/safety.yml `fears`, where the frame starts, in a sentence with no question mark."""
        return "?" not in normal[sentence[0]:sentence[1] + 1] and any(
            p.match(normal, frame) for p in self.fears)

    def without_figures(self, normal: str) -> str:
        """The normalised text with figures of speech and negations blanked out (same length, so spans agree)."""
        if self.any_figure is None or not self.any_figure.search(normal):
            return normal
        for figure in self.figures:
            normal = figure.sub(lambda m: " " * len(m.group(0)), normal)
        return normal

    def _hits(self, normal: str) -> List[_Hit]:
        hits = []
        for group in self.groups:
            if group.required:
                found = []
                for part in group.required:  # stops at the first part missing
                    found.append(part.search(normal))
                    if not found[-1]:
                        break
                if all(found):  # judged where its first (main) part stands: "how do you know if you have enough
                    # ...? i have a lot of klonopin saved" is not a question about the pills saved
                    start = min(m.start() for m in found if m)
                    end = max(m.end() for m in found if m)
                    hits.append(_Hit(group, found[0].start(), end, normal[start:end], False))
                continue
            if group.any_pattern is None or not group.any_pattern.search(normal):
                continue
            for pattern, spanish in group.patterns:
                for match in pattern.finditer(normal):
                    hits.append(_Hit(group, match.start(), match.end(), match.group(0), spanish))
        return hits

    def _judge(self, hit: _Hit, normal: str, cache: Dict[Any, Any]) -> str:
        clause = _span(_CLAUSE, normal, hit.start)
        if clause not in cache:  # where each frame of the clause starts
            text = normal[clause[0] : clause[1]]
            starts = [
                m.start() + clause[0]
                for frame in self.frames
                for m in frame.finditer(text)
                if not any(f.match(text, m.start()) for f in self.factive)
            ]
            cache[clause] = (starts, any(p.search(text) for p in self.past) or self._dated_after(normal, clause))
        frame_starts, clause_past = cache[clause]
        tense = hit.group.tense
        sentence = _span(_SENTENCE, normal, hit.start)
        if ("sentence",) + sentence not in cache:
            cache[("sentence",) + sentence] = self._markers(normal[sentence[0] : sentence[1]])
        past, recent, strong, weak = cache[("sentence",) + sentence]
        # a sign this specific ("breathing 4 times a minute") is an emergency even inside "is it normal that ..."
        # and an "on purpose" beside an overdose happening now counts even in "what if he did it on purpose"
        if tense not in ("critical", "intent") and any(start <= hit.start for start in frame_starts):
            # "is it bad if someone took like 20? ... he did about an hour ago": a question, then a real situation;
            # "if he can't get more bars he's going to take his own life tonight": a threat with a time
            # "is it bad if she had a few bars tonight and now she's snoring weird": the question states a present sign
            first_frame = min(start for start in frame_starts if start <= hit.start)
            real = (self._strong_elsewhere(normal, clause) or (hit.group.kind == SELF_HARM and strong)
                    or bool(_NOW_ASSERTED.search(normal, clause[0], hit.end))
                    or (tense == "state" and bool(_NOW_IN_QUESTION.search(normal, hit.end, clause[1])))
                    or (hit.group.kind == SELF_HARM and bool(_REPORTED.search(normal, sentence[0], first_frame)))
                    or (hit.group.kind == SELF_HARM and self._fears(normal, sentence, first_frame)))
            return ASKED if real and not self._recovered(normal, cache) else NOT_NOW
        if hit.group.soft and not strong and any(p.search(normal, *sentence) for p in self.attribution):
            return NOT_NOW  # "nan keeps nodding off mid conversation, is that the benzos?"
        if tense in ("state", "intent", "critical"):  # a present condition: only a past marker in its own clause
            # cancels it, and not when the verb or a now-marker of that clause says it is going on ("is convulsing
            # ... stopped her pills last week"); a "now" elsewhere ("used to cut himself, he's 30 now") does not
            text = normal[sentence[0] : sentence[1]]
            if any(p.search(text) for p in self.recovered):
                return NOT_NOW  # "passed out after wine ... she's up and fine this morning"
            if (past or recent) and self._recovered(normal, cache):
                return NOT_NOW  # "last night he wouldn't wake up ... we called 911. He's home now and acting normal"
            if not clause_past:
                return ASKED if tense == "state" and self._listed_sign(normal, clause, hit) else NOW
            progressive = _PRESENT.search(normal[max(clause[0], hit.start - 12) : hit.end])
            clause_text = normal[clause[0] : clause[1]]
            if progressive or self._markers(clause_text)[3] or any(p.search(clause_text) for p in self.ongoing):
                return NOW
            if hit.group.kind == SELF_HARM and any(p.search(clause_text) for p in self.ongoing_self_harm):
                # "most nights i think about killing myself": a habit of the thought is the thought now - unless
                # another past marker dates it ("used to cut himself most nights in high school")
                rest = clause_text
                for habit in self.ongoing_self_harm:
                    rest = habit.sub(" ", rest)
                if not any(p.search(rest) for p in self.past):
                    return NOW
            return ASKED if hit.group.kind == SELF_HARM and _PRESENT_WISH.search(hit.text) else NOT_NOW
        if self._recovered(normal, cache) and not hit.group.even_if_fine:
            return NOT_NOW  # "... she's up and fine this morning": over, whatever else it says
        if tense == "habit":  # "she takes too much": told as a habit, unless "tonight", "an hour ago" ...
            return NOW if strong and not past else NOT_NOW
        if tense == "event":
            if past and not strong:
                return NOT_NOW
            if recent and not strong:
                return ASKED
            return NOW
        # a mention
        if past and not strong:
            return NOT_NOW
        if weak and not strong:  # the phrase's own words are no now-marker: "keep" in "she can't keep going like
            # this" (dialogues26, a mother asking about treatment after the ambulance came)
            weak = self._markers(f"{normal[sentence[0] : hit.start]} {normal[hit.end : sentence[1]]}")[3]
        return NOW if weak else ASKED

    def _dated_after(self, normal: str, clause: Tuple[int, int]) -> bool:
        """Whether the next clause dates this one ("he passed out at a party, that's like 5 years ago")."""
        following = normal[clause[1] :].lstrip(" ,")
        found = _DATING.match(following)
        if not found:
            return False
        dating = following[: _span(_CLAUSE, following, 0)[1]]
        return any(p.search(dating) for p in self.past)

    def _listed_sign(self, normal: str, clause: Tuple[int, int], hit: _Hit) -> bool:
        """Whether the sign stands alone as a question after a question about signs ("what are the symptoms of an
        overdose? blue lips?"): asked, not an emergency answer, since it may be a list and not a sight."""
        alone = normal[clause[0] : clause[1]].split() == hit.text.split()
        if not alone or not normal[clause[1] :].lstrip().startswith("?"):
            return False
        before = normal[: clause[0]]
        return any(frame.search(before) for frame in self.frames)

    def reassured(self, normal: str) -> bool:
        """Whether the (normalised) message says the person is fine now ("he's breathing normally", "got
        discharged"): config/safety.yml `recovered`."""
        return any(p.search(normal) for p in self.recovered)

    def _recovered(self, normal: str, cache: Dict[Any, Any]) -> bool:
        if "recovered" not in cache:
            cache["recovered"] = any(p.search(normal) for p in self.recovered)
        return bool(cache["recovered"])

    def _strong_elsewhere(self, normal: str, clause: Tuple[int, int]) -> bool:
        """Whether a strong now-marker ("an hour ago", "right now") stands outside the clause of a question."""
        rest = normal[: clause[0]] + " . " + normal[clause[1] :]
        return any(
            any(p.search(part) for p in self.now_strong) and not _NEGATED.search(part)  # "not using right now"
            for part in _CLAUSE.split(rest)
        )

    def _markers(self, sentence: str) -> Tuple[bool, bool, bool, bool]:
        """Whether a sentence has a past, a recent, a strong-now and a (weak or strong) now marker."""
        past = any(p.search(sentence) for p in self.past)
        recent = any(p.search(sentence) for p in self.recent)
        # "years ago now", "a while back now": a now inside or after a past marker says nothing about today
        sentence = _AGO_NOW.sub(" ", sentence)
        if past:
            for marker in self.past:
                sentence = marker.sub(" ", sentence)
        strong = any(p.search(sentence) for p in self.now_strong)
        return past, recent, strong, strong or any(p.search(sentence) for p in self.now_weak)

    def language(self, text: str, normal: Optional[str] = None) -> str:
        """en or es: the language an emergency answer for this message starts in."""
        return "es" if self._spanish(self.normalise(text) if normal is None else normal) else "en"

    def _spanish(self, normal: str) -> bool:
        # distinct words: Jamaican "mi" twice ("mi grandson tell mi him waan dead", nlu_blind37) is not Spanish
        return len(set(normal.split()) & self.spanish_words) >= self.spanish_min


def _one_line(text: str) -> str:
    """A message typed a word or two per line ("my\\nsister\\nsaid\\nshe\\nwants\\nto\\ndie") is one sentence, not
    a dozen: its line breaks would otherwise cut every clause into single words (crisis_blind33)."""
    lines = [line for line in text.split("\n") if line.strip()]
    if len(lines) >= 3 and sum(len(line.split()) for line in lines) <= 2 * len(lines):
        return " ".join(line.strip() for line in lines)
    return text


def _span(separator: Pattern[str], text: str, position: int) -> Tuple[int, int]:
    """The (start, end) of the sentence or clause of `text` around `position`."""
    start, end = 0, len(text)
    for match in separator.finditer(text):
        if match.end() <= position:
            start = match.end()
        elif match.start() > position:
            end = match.start()
            break
    return start, end


def main(argv: List[str]) -> None:
    """`python -m bot.core.safety TEXT...` prints decisions; `--bench` times the decision on the crisis cases."""
    net = SafetyNet.from_settings()
    if argv[:1] == ["--bench"]:
        cases = [c["text"] for c in load_yaml("tests/crisis_cases.yml")["cases"]]
        for text in cases:  # warm the caches
            net.decide(text)
        rounds = []
        for _ in range(5):
            started = time.perf_counter()
            for text in cases:
                net.decide(text)
            rounds.append((time.perf_counter() - started) / len(cases) * 1000)
        print(f"safety decision: {min(rounds):.3f}-{max(rounds):.3f} ms a message over {len(cases)} messages, 5 rounds")
        return
    for text in argv:
        print(f"{net.decide(text)}  <- {net.normalise(text)!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
