"""What follow-up resolution knows about words and documents: topic words, words that point back, and the
`Catalog` of document metadata (departments and how users name them, series of one question sent to several
ministers, word rarity). Pure; built once per generation of the index by the Assistant.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from assistant.periods import YEAR

# -- words

_WORD = re.compile(r"[\w'-]+", re.UNICODE)
_STOP = frozenset(
    """
    aan al alle alleen als altijd andere ben bij daar dan dat de der deze die dit door dus een eens en er ge geen
    geweest haar had heb hebben heeft hem het hier hij hoe hun iemand iets ik in is ja je kan kon kunnen maar me meer
    men met mij mijn moet moeten na naar niet niets nog nu of om omdat onder ons ook op over reeds te tegen toch toen
    tot u uit uw van veel voor want waren was wat werd werden wezen wie wil worden wordt zal ze zelf zich zij zijn zo
    zonder zou zouden welk welke wanneer waar waarom hoeveel hoelang vaak sinds per daarnaast daarvan daarvoor
    daarmee daarover daarbij daaraan daardoor daarop daarin ervan erover hiervan hierover hen zo'n zulke dergelijke
    dezelfde hetzelfde diezelfde gebeurt kunt mag jaar jaren dan
    the a an and to were how many much what which who when why does did do are for by with from has have had this
    that there their they them it its will would could should about of in on is was be been also any some those
    these then such he she his her over last since
    """.split()
)
"""Function words, question words and pronouns: what any two questions share, so never a topic."""

_ANAPHORA = frozenset(
    """
    daar daarvan daarvoor daarmee daarover daarbij daaraan daardoor daarop daarin ervan erover hiervan hierover hen
    zo'n zulke dergelijke dezelfde hetzelfde diezelfde toen ze zij hun hij haar
    it its they them their there those these such then he she his her
    """.split()
)
"""Words that point back to something said before."""
_DEMONSTRATIVES = frozenset("die dat deze dit that this".split())
"""Point back only as a determiner or pronoun ("die app"), not as a relative or conjunction ("mensen die ...")."""
_OPENERS = frozenset("en ook maar and also".split())
_CUES = frozenset("fod pod minister ministerie staatssecretaris departement kabinet bij aan van voor".split())
_SERVICE = re.compile(r"\b(?:fod|pod)\s+((?:[\w'-]+)(?:\s+(?:en\s+)?(?!en\b)[\w'-]+){0,3})")


def fold(text: str) -> str:
    """Lower case without diacritics ("Financiën" -> "financien"), as exports often lose them; same length."""
    out = []
    for ch in text:
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        out.append(base[:1].lower() if base else ch.lower())
    return "".join(out).replace("\u2019", "'")


def words(text: str) -> list[str]:
    return [w.strip("'-") for w in _WORD.findall(fold(text)) if w.strip("'-")]


def stem(word: str) -> str:
    """Crude, but enough to tell whether two questions share a word ("vertalers" / "vertaling")."""
    return word[:6]


def content_words(text: str) -> list[str]:
    """The words that can carry a text's topic: no function words, question words, pronouns or years."""
    return [w for w in words(text) if w not in _STOP and not YEAR.fullmatch(w) and len(w) > 1]


def points_back(question: str) -> bool:
    """Whether the question refers to something said before ("daarvan", "zo'n LOI", "die app", "there")."""
    tokens = words(question)
    for i, t in enumerate(tokens):
        if t in _ANAPHORA:
            return True
        if t in _DEMONSTRATIVES:
            before = tokens[i - 1] if i else ""
            # a determiner or pronoun follows a function word or the verb that opens the question ("Is die app",
            # "met dat toestel"), a relative pronoun or conjunction follows a noun or verb ("Hoeveel mensen die ...")
            if i <= 1 or before in _STOP or (i == 2 and tokens[0] in _OPENERS):
                return True
    return False


# -- what the resolver needs to know about documents


class DocumentLike(Protocol):
    """The document metadata the resolver reads; assistant.types.Document has it."""

    @property
    def doc_id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def question_text(self) -> str: ...
    @property
    def answer_text(self) -> str: ...
    @property
    def asker(self) -> str | None: ...
    @property
    def department(self) -> str | None: ...


_ROLE = re.compile(r"^(?:vice-?eerste\s*minister\s+en\s+)?(?:minister|staatssecretaris)\s+(?:van|voor)\s+")


def portfolio_phrases(department: str) -> tuple[str, ...]:
    """ "Minister van Financien, belast met Bestrijding van de fiscale fraude" -> ("financien", "bestrijding van de
    fiscale fraude"): the portfolio as a user names it, without the role or the minister it is attached to."""
    text = re.split(r",?\s*toegevoegd aan\b", fold(department))[0].strip()
    if text == "eerste minister":
        return (text,)
    text = _ROLE.sub("", text)
    out: list[str] = []
    for piece in re.split(r",|\bbelast met\b|\ben\b", text):
        piece = re.sub(r"^(?:de|het)\s+", "", piece.strip(" .;"))
        if len(piece) > 2 and piece not in out:
            out.append(piece)
    return tuple(out)


@dataclass(frozen=True)
class Mention:
    """A department or service named in a text, with where (offsets into the text as given)."""

    text: str
    """As written, with "FOD"/"POD" in front where there is one: "FOD Financiën"."""
    department: str | None
    """The department string of the metadata; None for a service the metadata does not name ("FOD Budget en
    Beheerscontrole"), which `Catalog.series_for` looks up in the answers."""
    cued: bool
    """Preceded by a word that makes it a service ("FOD", "bij", "van"), not a common noun."""
    start: int
    end: int
    service: str = ""
    """The folded service name for one the metadata does not name."""


class Catalog:
    """Document metadata for resolving follow-ups: departments and their names, series of the same question sent by
    one member to several ministers, and how rare each word is (to rank the words worth carrying)."""

    def __init__(self, docs: Iterable[DocumentLike]) -> None:
        self.docs: dict[str, DocumentLike] = {d.doc_id: d for d in docs}
        series: dict[tuple[str, str], list[str]] = defaultdict(list)
        df: Counter[str] = Counter()
        names: Counter[str] = Counter()
        for d in self.docs.values():
            if d.asker:
                series[(fold(d.asker), " ".join(words(d.title)))].append(d.doc_id)
            df.update({stem(w) for w in content_words(f"{d.title} {d.question_text}")})
            if d.department:
                names[d.department] += 1
        self._series = {doc_id: tuple(ids) for ids in series.values() if len(ids) > 1 for doc_id in ids}
        self._df = df
        self._n = max(1, len(self.docs))
        by_phrase: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        for name, count in names.items():
            for position, phrase in enumerate(portfolio_phrases(name)):
                by_phrase[phrase].append((position, -count, name))
        # a phrase that several departments list belongs to the one that names it first (its main portfolio)
        self._department_of = {p: sorted(v)[0][2] for p, v in by_phrase.items()}
        alternatives = "|".join(re.escape(p).replace(r"\ ", r"\W+") for p in sorted(by_phrase, key=len, reverse=True))
        self._phrases = re.compile(rf"\b(?:(?:fod|pod)\s+)?({alternatives})\b") if alternatives else None

    @property
    def departments(self) -> tuple[str, ...]:
        return tuple(sorted(set(self._department_of.values())))

    def get(self, doc_id: str) -> DocumentLike | None:
        return self.docs.get(doc_id)

    def series(self, doc_id: str) -> tuple[str, ...]:
        """The other documents with the same title from the same member: the question sent to other ministers."""
        return tuple(d for d in self._series.get(doc_id, ()) if d != doc_id)

    def idf(self, word: str) -> float:
        """log(N / df) of a word's stem; 0 for a word no document uses (English, a typo: no evidence either way)."""
        df = self._df.get(stem(word), 0)
        return math.log(self._n / df) if df else 0.0

    def mentions(self, text: str) -> list[Mention]:
        """The departments and services a text names ("bij Justitie", "de FOD Mobiliteit", "FOD Budget en ...")."""
        folded = fold(text)
        found: list[Mention] = []
        if self._phrases is not None:
            for m in self._phrases.finditer(folded):
                phrase = re.sub(r"\W+", " ", m.group(1))
                found.append(
                    Mention(
                        text[m.start() : m.end()],
                        self._department_of.get(phrase),
                        _cued(folded, m.start()) or m.group(0) != m.group(1),
                        m.start(),
                        m.end(),
                    )
                )
        for m in _SERVICE.finditer(folded):
            if any(f.start <= m.start(1) < f.end for f in found):
                continue
            name = re.sub(r"\W+", " ", m.group(1)).strip()
            found.append(Mention(text[m.start() : m.end()], None, True, m.start(), m.end(), service=name))
        return sorted(found, key=lambda x: x.start)

    def answers_for(self, mention: Mention, candidates: Iterable[str]) -> tuple[str, ...]:
        """Which of the candidate documents answer for the named department or service."""
        candidates = tuple(candidates)
        if mention.department is not None:
            hits = tuple(d for d in candidates if self.docs[d].department == mention.department)
            if hits:
                return hits
        name = mention.service or fold(mention.text)
        return tuple(d for d in candidates if name in " ".join(words(self.docs[d].answer_text)))


def _cued(folded: str, start: int) -> bool:
    before = folded[:start].split()
    while before and before[-1] in ("de", "het"):
        before.pop()
    return bool(before) and before[-1].strip(",.") in _CUES
