"""Dutch text as every stage sees it: accent folding, stopwords, stemming, terms, compound splitting, language
identification, word frequency and the "another minister is competent" detector.

One list of stopwords (bm25s' Dutch list) and one stemmer (Snowball Dutch, via PyStemmer) serve the keyword
index, the highlighter and the abstain evidence; py3langid names a question's language and wordfreq says how common
a word is in it (both models ship in their wheels). Pure functions of strings; no corpus state lives here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import cache
from typing import Any

COMPOUND_PART_MIN = 3
"""The shortest word a compound is split into when looking for words the corpus never uses."""

LANGUAGES = ("nl", "en", "fr", "de")
"""The languages a question is told apart in: the corpus's (Dutch) and the others a Belgian user may type."""
CORPUS_LANGUAGE = "nl"
LANGUAGE_MIN_PROBABILITY = 0.5
"""Below this (py3langid's probability over LANGUAGES) a question is too short to tell ("En in Gent?") and is taken
to be in the corpus's language."""
_WORDS = re.compile(r"\w\w+")


def fold_accents(text: str) -> str:
    """ "België" -> "Belgie": exports often lose diacritics ("categorieen"), so both sides drop them."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@cache
def stemmer() -> Any:
    """The Dutch Snowball stemmer (one per process; PyStemmer caches its results)."""
    import Stemmer

    return Stemmer.Stemmer("dutch")


@cache
def stopwords() -> tuple[str, ...]:
    """The Dutch stopwords of the keyword side (bm25s' list)."""
    from bm25s.stopwords import STOPWORDS_DUTCH

    return tuple(STOPWORDS_DUTCH)


def tokenize(texts: list[str]) -> Any:
    """bm25s tokens (ids + vocabulary) of accent-folded texts, stopwords removed and stemmed, for indexing."""
    import bm25s

    folded = [fold_accents(t) for t in texts]
    return bm25s.tokenize(folded, stopwords=list(stopwords()), stemmer=stemmer(), show_progress=False)


def terms(text: str) -> list[str]:
    """The stemmed, accent-folded content words of a text, as the keyword index sees them."""
    import bm25s

    return list(
        bm25s.tokenize(
            fold_accents(text), stopwords=list(stopwords()), stemmer=stemmer(), return_ids=False, show_progress=False
        )[0]
    )


def words(text: str) -> list[str]:
    """The distinct words of at least two letters, in order."""
    return list(dict.fromkeys(_WORDS.findall(text)))


def split_compound(term: str, form: Callable[[str], str | None]) -> tuple[str, ...]:
    """A stemmed term as the known terms it is made of: itself when known, else the parts of the compound
    (longest known head first, with a linking -s-, -e-, -en-: "brandstofstal" -> brandstof, stal); () when it
    does not split into known words. `form(word)` is the known form of a word (as it is, or its stem) or None."""
    if form(term) == term:
        return (term,)
    for i in range(len(term) - COMPOUND_PART_MIN, COMPOUND_PART_MIN - 1, -1):
        head = _head_form(term[:i], form)
        if head:
            tail = form(term[i:])
            rest = (tail,) if tail else split_compound(term[i:], form)
            if rest:
                return (head, *rest)
    return ()


def _head_form(head: str, form: Callable[[str], str | None]) -> str | None:
    for h in [head] + [head[: -len(link)] for link in ("s", "e", "en") if head.endswith(link)]:
        found = form(h) if len(h) >= COMPOUND_PART_MIN else None
        if found:
            return found
    return None


@cache
def _identifier() -> Any:
    """py3langid's model (in its wheel; about a second to load, once per process), restricted to LANGUAGES."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def language(text: str) -> str:
    """The language of a question, one of LANGUAGES: py3langid's best guess, or Dutch when it is not sure."""
    if not re.search(r"[^\W\d_]", text):
        return CORPUS_LANGUAGE
    best, probability = _identifier().classify(text)
    return str(best) if probability >= LANGUAGE_MIN_PROBABILITY else CORPUS_LANGUAGE


def warm() -> None:
    """Load the language model and the word lists now (about 1.5 s, once per process), not on the first question."""
    _identifier()
    zipf_frequency("geld")


def zipf_frequency(word: str, lang: str = CORPUS_LANGUAGE) -> float:
    """How common a word is in the language generally (wordfreq's Zipf scale: 0 for a word it never saw, about 3 for
    one in a million words, 5.6 for "geld", 6.2 for "jaar")."""
    from wordfreq import zipf_frequency as zipf

    return float(zipf(word, lang))


# ---------------------------------------------------------------- referrals

_REFERRAL = re.compile(
    r"(?:toegezonden|overgezonden|doorgestuurd|doorverwezen|overgemaakt)\s+(?:aan|naar)"
    r"|(?:behoort|behoren|valt|vallen|ressorteert|ressorteren)\s+(?:niet\s+)?(?:onder|tot)\s+(?:de\s+)?"
    r"(?:exclusieve\s+)?bevoegdhe"
    r"|tot\s+de\s+bevoegdhe(?:id|den)\s+van"
    r"|verwijs\s+(?:ik\s+)?(?:u\s+|het\s+geachte\s+lid\s+)?(?:graag\s+)?(?:door\s+)?naar\s+"
    r"(?:mijn\s+collega|de\s+(?:vice-?eerste\s*)?minister|de\s+staatssecretaris|de\s+bevoegde)"
    r"|(?:ben|is)\s+(?:hiervoor\s+|daarvoor\s+)?niet\s+bevoegd"
    r"|te\s+bekomen\s+bij\s+mijn\s+collega"
    r"|(?:richten|stellen)\s+aan\s+(?:mijn\s+collega|de\s+minister)",
    re.IGNORECASE,
)
REFERRAL_MAX_CHARS = 600
"""Longer answers that mention another minister's competence usually answer too, and are not referrals."""


def is_referral(answer: str) -> bool:
    """Whether an answer does little more than say that someone else is competent ("De vraag wordt toegezonden
    aan de minister van Justitie", "Dit behoort tot de bevoegdheid van mijn collega ...")."""
    text = " ".join(answer.split())
    return 0 < len(text) <= REFERRAL_MAX_CHARS and _REFERRAL.search(text) is not None
