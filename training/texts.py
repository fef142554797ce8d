"""English sentences to synthesize a training corpus from, with no download at run time.

Why this source: no speech or text data set can be fetched here, but Debian's BSD ``fortune`` data
(``apt-get install fortunes``: quotations, proverbs, short stories and jokes collected since the
1970s, BSD licence) is real, varied English prose. It is cleaned here into plain ASCII sentences of
4-25 words that every synthesizer reads the same way: no digits (engines expand numbers
differently, so the transcript would no longer match the audio), no acronyms, no abbreviations
with dots, no markup. The categories most likely to be offensive, technical jargon or nonsense are
left out.

When the fortune files are not installed, a small fallback list written for this project
(``FALLBACK_SENTENCES``, about three hundred sentences) is used instead, with a warning: enough for
tests and a toy corpus, too small for a useful model.
"""

from __future__ import annotations

import functools
import logging
import os
import random
import re
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

FORTUNE_INSTALL_HINT = "apt-get install fortunes  (Debian/Ubuntu; Fedora: dnf install fortune-mod)"
FORTUNE_DIR_ENV = "MOBILESPEECH_FORTUNE_DIR"
FORTUNE_DIRS = (
    "/usr/share/games/fortunes",
    "/usr/share/games/fortune",
    "/usr/share/fortune",
    "/usr/share/fortunes",
    "/usr/local/share/games/fortunes",
    "/opt/homebrew/share/fortune",
)
# Categories kept: prose and quotations. Left out: offensive-leaning (men-women, ethnic, drugs,
# politics), jargon and shell snippets (linux, perl, debian, computers' cousins linuxcookie and
# knghtbrd), nonsense (zippy), headings-heavy (tao), non-English (translate-me), ascii-art.
FORTUNE_CATEGORIES = (
    "art", "computers", "cookie", "definitions", "education", "food", "fortunes", "goedel",
    "humorists", "kids", "law", "literature", "love", "magic", "medicine", "miscellaneous",
    "news", "people", "pets", "platitudes", "pratchett", "riddles", "science", "songs-poems",
    "sports", "startrek", "wisdom", "work",
)  # fmt: skip

MIN_WORDS = 4
MAX_WORDS = 25

_ALLOWED = re.compile(r"^[A-Za-z][A-Za-z ,.;!?'-]*[.!?]$")
_ABBREV = re.compile(
    r"\b(Mr|Mrs|Ms|Dr|St|Jr|Sr|Prof|vs|etc|Inc|Ltd|Co|No|Mt|Ft|Gen|Col|Sgt|Capt|Lt|Rev|Gov|Sen|Rep"
    r"|Ave|Blvd|Dept|Univ|approx|ca|cf|ie|eg)\.|\b[A-Za-z]\.[A-Za-z]\.",
    re.IGNORECASE,
)
_ENDS_ABBREV = re.compile(
    r"(\b(Mr|Mrs|Ms|Dr|St|Jr|Sr|Prof|vs|etc|Inc|Ltd|Co|No|Mt|Ft|Gen|Col|Sgt|Capt|Lt|Rev|Gov|Sen"
    r"|Rep|Ave|Dept|Univ|cf)|\b[A-Z])\.$"
)
_ACRONYM = re.compile(r"\b[A-Z]{2,}\b|\b[A-Z][a-z]*[A-Z]")
_CAP_AFTER_COMMA = re.compile(r"[,;]\s+(?!I\b|I'|God\b)[A-Z]")
_LINE_START_WORDS = frozenset(
    "A An And As At But By For From He Her His How If In Is It Its My No Not Now O Of Oh On Or "
    "Our She So Some Such That The Their Then There They This Those Thou Thy To We What When Where "
    "Which While Who Why With Ye Yet You Your".split()
)
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
# Words that make a sentence unsuitable for a demo voice (the fortunes package is the
# non-offensive set, this catches what slipped through).
_BLOCKLIST = frozenset(
    "crap crappy damn damned dammit hell bitch bastard sex sexual sexy penis vagina breasts nude "
    "naked kill killed killing murder suicide rape drunk whore fart ass arse shit fuck piss "
    "nigger negro jew jews".split()
)


def text_key(text: str) -> str:
    """A sentence's identity for de-duplication: lowercase letters and spaces only."""
    return re.sub(r"[^a-z ]", "", text.lower())


def clean_sentence(text: str) -> str | None:
    """Return ``text`` as one clean sentence, or None when it fails any rule a synthesizer needs."""
    s = text.replace('"', " ").replace("``", " ").replace("''", " ")
    s = re.sub(r"\s+", " ", s).strip().strip("'").strip()
    s = re.sub(r"\s+([,;.!?])", r"\1", s)
    if not s or not s.isascii() or not _ALLOWED.match(s):
        return None
    if "--" in s or ".." in s or " -" in s or "- " in s or "''" in s:
        return None
    if _ABBREV.search(s) or _ACRONYM.search(s) or _CAP_AFTER_COMMA.search(s):
        return None
    words = s.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return None
    if any(w.strip(",.;!?'").lower() in _BLOCKLIST for w in words):
        return None
    if len(s.rstrip(".!?")) != len(s) - 1:  # "?!" or "!!": read inconsistently
        return None
    return s


def _fortune_entry_text(entry: str) -> str:
    """Join one fortune entry into prose: drop attributions ("-- Author") and one-line headings."""
    entry = re.sub(r".\x08", "", entry)  # overstrike (bold/underline) in the old files
    paragraphs: list[list[str]] = [[]]
    for line in entry.split("\n"):
        if re.match(r"^\s*--", line):
            break  # attribution: everything after it is the source, not the quote
        if not line.strip():
            paragraphs.append([])
        else:
            paragraphs[-1].append(line.strip())
    kept = []
    for para in paragraphs:
        if not para:
            continue
        if len(para) == 1 and not para[0].endswith((".", "!", "?")) and len(para[0].split()) <= 5:
            continue  # a heading such as "The Way"
        joined = para[0]
        for prev, line in zip(para, para[1:], strict=False):
            first = line.split()[0]
            # A verse line break ("...not for better / Some have gone") is no sentence: the
            # "/" makes clean_sentence reject whatever sentence spans it.
            verse = not prev.endswith((".", "!", "?", ":", ";")) and first in _LINE_START_WORDS
            joined += (" / " if verse else " ") + line
        kept.append(joined)
    return " ".join(kept)


def sentences_from_fortune_file(path: Path) -> list[str]:
    """Clean sentences from one fortune data file (entries separated by lines holding '%')."""
    raw = path.read_text(encoding="latin-1")
    out: list[str] = []
    for entry in re.split(r"\n%\n", raw):
        text = _fortune_entry_text(entry)
        text = re.sub(r"\s+", " ", text.replace('"', " ")).strip()
        pieces: list[str] = []
        for piece in _SPLIT.split(text):
            if pieces and _ENDS_ABBREV.search(pieces[-1]):
                pieces[-1] += " " + piece  # "Mr. Smith": one sentence, rejected whole below
            else:
                pieces.append(piece)
        for piece in pieces:
            s = clean_sentence(piece)
            if s is not None:
                out.append(s)
    return out


def find_fortune_dir() -> Path | None:
    """The folder of fortune data files, from $MOBILESPEECH_FORTUNE_DIR or the usual places."""
    env = os.environ.get(FORTUNE_DIR_ENV)
    candidates = [env] if env else []
    candidates += list(FORTUNE_DIRS)
    for c in candidates:
        p = Path(c)
        if p.is_dir() and any((p / name).is_file() for name in FORTUNE_CATEGORIES):
            return p
    return None


@functools.lru_cache(maxsize=4)
def _all_sentences(fortune_dir: str | None) -> tuple[tuple[str, ...], str]:
    seen: set[str] = set()
    out: list[str] = []

    def add(items: list[str] | tuple[str, ...]) -> None:
        for s in items:
            key = text_key(s)
            if key not in seen:
                seen.add(key)
                out.append(s)

    if fortune_dir is not None:
        for name in FORTUNE_CATEGORIES:
            f = Path(fortune_dir) / name
            if f.is_file():
                add(sentences_from_fortune_file(f))
    if out:
        return tuple(out), f"fortune data in {fortune_dir}"
    log.warning(
        "fortune data not found (install it: %s); using the %d built-in fallback sentences",
        FORTUNE_INSTALL_HINT,
        len(FALLBACK_SENTENCES),
    )
    add([s for s in FALLBACK_SENTENCES if clean_sentence(s) == s])
    return tuple(out), "built-in fallback list"


def sentence_source() -> str:
    """Which source ``load_sentences`` reads from on this machine (for logs and corpus stats)."""
    d = find_fortune_dir()
    return _all_sentences(str(d) if d else None)[1]


def load_sentences(limit: int | None = None, seed: int = 0, fortunes: bool = True) -> list[str]:
    """Distinct clean English sentences in a shuffled order fixed by ``seed``.

    The order is deterministic for a given source and seed, so corpus builds are reproducible
    and resumable; ``limit`` takes the first ``limit`` of that order. ``fortunes=False`` reads
    the built-in list even where the fortune data is installed (the same texts on every machine).
    """
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    d = find_fortune_dir() if fortunes else None
    sentences = sorted(_all_sentences(str(d) if d else None)[0])
    random.Random(seed).shuffle(sentences)
    return sentences if limit is None else sentences[:limit]


# ---------------------------------------------------------------------------------------------
# Varied sentences: numbers, dates, money, times, abbreviations, questions (written here)
# ---------------------------------------------------------------------------------------------

# Why: fortunes hold no digits or abbreviations (clean_sentence rejects them, because each engine
# reads them differently), yet a TTS model must learn how "$12.50" or "Dr." sound. These
# templates are filled from a seeded generator and expanded by our own normalizer
# (``mobilespeech_model.frontend.normalize``), so the text every engine reads is already words
# and matches what the runtime front end will produce.
_NAMES = (
    "Anna",
    "Tom",
    "Maria",
    "David",
    "Grace",
    "Oliver",
    "Sophie",
    "James",
    "Lucy",
    "Peter",
    "Emma",
    "Daniel",
    "Hannah",
    "Samuel",
    "Alice",
    "Henry",
    "Julia",
    "Mark",
    "Clara",
    "Ben",
)
_PLACES = (
    "the station",
    "the library",
    "the harbour",
    "the market",
    "the town hall",
    "the airport",
    "the museum",
    "the old mill",
    "the bakery",
    "the school",
)
_THINGS = (
    "apples",
    "tickets",
    "books",
    "chairs",
    "candles",
    "letters",
    "bottles of milk",
    "loaves of bread",
    "pencils",
    "postcards",
    "umbrellas",
    "plates",
)
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_STREETS = ("Baker", "Mill", "Church", "Station", "Park", "Bridge", "King", "Market", "Hill")
_TEMPLATES = (
    "{name} bought {n} {things} for ${money} at {place}.",
    "The train to {city} leaves at {time} from platform {small}.",
    "Please meet me at {place} on {day} at {hour} {ampm}.",
    "Dr. {name} lives at {num} {street} St., next to {place}.",
    "Our flight was delayed by {small} hours and {minutes} minutes.",
    "The recipe needs {small} eggs, {grams} grams of flour and a pinch of salt.",
    "{name} was born on {month} {dayn}, {year}.",
    "Is it true that {name} ran {small} miles before breakfast?",
    "Prices went up by {pct}% in {year}, and nobody was happy about it.",
    "The bridge is {num} metres long and {small} metres wide.",
    "Call me back before {hour} {ampm}, or I will try again tomorrow.",
    "We sold {big} {things} in the first week alone!",
    "Mr. {name} and Mrs. {name2} finished {ordinal} and {ordinal2} in the race.",
    "Room {num} is on the {ordinal} floor, at the end of the corridor.",
    "The temperature dropped to {small} degrees overnight.",
    "Chapter {small} begins on page {num}.",
    "The museum on {street} St. opens at {time} on {day}s.",
    "Why did the {ordinal} bus arrive before the {ordinal2} one?",
    "{name} paid ${money} for a coat that cost ${money2} last year.",
    "About {pct}% of the people asked said they preferred tea.",
    "The meeting on {month} {dayn} starts at {time} sharp.",
    "Turn left after {small} hundred metres, then take the {ordinal} exit.",
    "My grandmother's house was built in {year}.",
    "There are {big} people living in this small town.",
    "Wait for me at {place}, I will be there by {time}!",
    "{name} scored {small} goals in the {ordinal} half.",
    "Add {frac} of a cup of sugar and stir for {small} minutes.",
    "The {ordinal} edition of the festival took place in {year}.",
    "Do you know where {name} put the {things}?",
    "It is {time} now, and the shop closes in {minutes} minutes.",
    "Her phone number ends in {small}{small2}{small3}.",
    "The parcel weighs {small}.{small2} kilograms, so the postage is ${money}.",
    "Prof. {name} will give the lecture in room {num} on {day}.",
    "Flight {num} to {city} is now boarding at gate {small}.",
    "The children counted {big} stars before they fell asleep.",
    "We have lived on {street} Rd. since {year}.",
    "Only {small} of the {num} tickets are still available.",
    "The film lasts {small} hours and {minutes} minutes, with no interval.",
    "{name} asked for {small} coffees and {small2} cups of tea.",
    "Around {pct}% of the forest was lost in the fire of {year}.",
)  # fmt: skip
_CITIES = ("London", "Paris", "Boston", "Dublin", "Madrid", "Berlin", "Chicago", "Toronto",
           "Sydney", "Lisbon", "Vienna", "Oslo")  # fmt: skip


def _fill(template: str, rng: random.Random) -> str:
    def money() -> str:
        return f"{rng.randint(1, 250)}.{rng.choice(['00', '50', '25', '99', '75', '10'])}"

    names = rng.sample(_NAMES, 2)
    ords = rng.sample(range(1, 31), 2)
    slots = {
        "name": names[0], "name2": names[1], "place": rng.choice(_PLACES),
        "things": rng.choice(_THINGS), "n": rng.randint(2, 40), "money": money(),
        "money2": money(), "city": rng.choice(_CITIES), "day": rng.choice(_DAYS),
        "month": rng.choice(_MONTHS), "dayn": rng.randint(1, 28),
        "year": rng.choice([rng.randint(1890, 1999), rng.randint(2000, 2030)]),
        "time": f"{rng.randint(1, 12)}:{rng.choice(['00', '05', '15', '30', '45', '50'])}",
        "hour": rng.randint(1, 12), "ampm": rng.choice(["am", "pm"]),
        "minutes": rng.randint(2, 59), "small": rng.randint(2, 19), "small2": rng.randint(0, 9),
        "small3": rng.randint(0, 9), "num": rng.randint(20, 999),
        "big": f"{rng.randint(1, 99)},{rng.randint(0, 999):03d}",
        "grams": rng.choice(range(50, 1000, 50)),
        "pct": rng.randint(2, 95), "street": rng.choice(_STREETS),
        "ordinal": _ordinal_digits(ords[0]), "ordinal2": _ordinal_digits(ords[1]),
        "frac": rng.choice(["1/2", "1/3", "3/4", "2/3"]),
    }  # fmt: skip
    return template.format(**slots)


def _ordinal_digits(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


_TITLE_WORDS = {"i": "I", "mister": "Mister", "missus": "Missus", "doctor": "Doctor",
                "professor": "Professor"}  # fmt: skip


def normalize_for_synthesis(text: str, lexicon: Callable[[str], bool] | None = None) -> str | None:
    """``text`` as plain words through our normalizer (numbers, money, abbreviations spelt out)."""
    from mobilespeech_model.frontend.normalize import join_tokens, normalize_text

    sentences = normalize_text(text, lexicon)
    if len(sentences) != 1:
        return None
    s = join_tokens(sentences[0])
    caps = {w.lower(): w for w in re.findall(r"[A-Za-z]+", text) if w[0].isupper()}
    caps.update(_TITLE_WORDS)
    s = re.sub(
        r"[a-z]+", lambda m: caps.get(m.group(0), m.group(0)), s
    )  # the normalizer lowercases
    s = s[:1].upper() + s[1:]
    return clean_sentence(s)


@functools.lru_cache(maxsize=4)
def varied_sentences(n: int = 3000, seed: int = 0) -> tuple[str, ...]:
    """``n`` distinct normalized sentences from ``_TEMPLATES`` (fixed by ``seed``)."""
    from mobilespeech_model.frontend.g2p import load_cmudict

    lexicon = load_cmudict()
    rng = random.Random(f"varied-{seed}")
    out: dict[str, None] = {}
    tries = 0
    while len(out) < n and tries < 20 * n:
        tries += 1
        s = normalize_for_synthesis(_fill(rng.choice(_TEMPLATES), rng), lexicon.__contains__)
        if s is not None:
            out.setdefault(s, None)
    return tuple(out)


def corpus_sentences(seed: int = 0, varied: int = 3000, fortunes: bool = True) -> list[str]:
    """What a corpus build reads: every ``load_sentences`` sentence plus ``varied`` templated ones
    with numbers and abbreviations, shuffled together in an order fixed by ``seed``."""
    base = load_sentences(seed=seed, fortunes=fortunes)
    seen = {text_key(x) for x in base}
    extra = [x for x in varied_sentences(varied, seed) if text_key(x) not in seen]
    out = sorted(set(base) | set(extra))
    random.Random(seed).shuffle(out)
    return out


# Written for this project (no third-party text): the fallback when fortune data is absent.
FALLBACK_SENTENCES: tuple[str, ...] = (
    "The old lighthouse keeper climbed the stairs every evening at dusk.",
    "Please hand me the blue notebook on the kitchen table.",
    "A gentle breeze carried the smell of rain across the valley.",
    "We missed the last train and had to walk home in the dark.",
    "Her grandmother kept a jar of buttons in the hall cupboard.",
    "The children built a castle of sand and watched the tide wash it away.",
    "He forgot his umbrella again, so he arrived soaked to the skin.",
    "Fresh bread tastes best when it is still warm from the oven.",
    "The museum opens late on Thursdays during the summer.",
    "Nobody noticed the cat sleeping on top of the piano.",
    "Turn left at the bakery and walk until you see the river.",
    "The meeting was moved to the small room on the third floor.",
    "She plays the violin with a patience that surprises everyone.",
    "Could you speak a little more slowly, please?",
    "The garden gate creaked every time the wind changed direction.",
    "They painted the fence white and the shutters a deep green.",
    "A small boat drifted past the harbour wall without a sound.",
    "My brother insists that cold pizza is a perfectly good breakfast.",
    "The library smelled of dust, leather and old paper.",
    "We watched the clouds turn pink as the sun went down.",
    "The printer jammed just as the report was due.",
    "Which road leads to the station, the left one or the right one?",
    "An owl called softly from the pine trees behind the cottage.",
    "The soup needs a pinch more salt and a little pepper.",
    "He wrote a long letter and then decided not to send it.",
    "The bus was crowded, so we stood near the back door.",
    "Every spring the swallows return to the same old barn.",
    "She tied a red ribbon around the parcel and wrote his name on it.",
    "The mountain path was steep, narrow and covered in loose stones.",
    "Do you remember where we parked the car this morning?",
    "The baker starts work long before the rest of the town wakes up.",
    "A single candle lit the room while the storm knocked out the power.",
    "The teacher asked the class to read the first chapter aloud.",
    "Our neighbours are building a greenhouse for their tomatoes.",
    "I would rather walk than wait another hour for the ferry.",
    "The river froze solid during the coldest winter anyone could remember.",
    "He hummed a tune that nobody else in the room recognised.",
    "The kettle whistled, and she poured the water over the tea leaves.",
    "We found an old map folded inside the cover of the book.",
    "Please close the window before the rain comes in.",
    "The horses waited patiently by the gate for their evening hay.",
    "Her laugh could be heard from the other end of the corridor.",
    "The village market sells cheese, honey and hand woven baskets.",
    "Thunder rolled across the hills long after the lightning had passed.",
    "He keeps his tools in neat rows on the workshop wall.",
    "The little dog barked at its own reflection in the puddle.",
    "They argued for an hour about the best way to fold a map.",
    "The orchestra tuned their instruments while the audience found their seats.",
    "A trail of footprints led from the door to the edge of the forest.",
    "She learned to swim in a cold lake at the foot of the mountains.",
    "The shop on the corner has sold newspapers for as long as I can remember.",
    "Why does the toast always land with the butter side down?",
    "We planted apple trees along the southern edge of the field.",
    "The clock in the tower has been five minutes slow for years.",
    "He carried the heavy suitcase up four flights of stairs.",
    "The fog was so thick that we could barely see the road.",
    "Bright lanterns hung from the branches for the midsummer festival.",
    "The letter arrived three weeks late, but the news was still good.",
    "Nobody knows who planted the roses beside the church wall.",
    "The farmer checked the sky and decided to cut the hay tomorrow.",
    "She keeps a diary of every bird she sees from her window.",
    "The pilot announced that we would land a little ahead of schedule.",
    "A quiet street can feel very different after midnight.",
    "He repaired the bicycle with a spanner, some wire and a lot of patience.",
    "The students gathered around the fire to share stories.",
    "Our train crossed a long bridge above a wide grey river.",
    "Would you like your coffee with milk or without?",
    "The market square was empty except for a few pigeons.",
    "Her paintings are full of bright colours and strange animals.",
    "The wind blew the washing off the line and into the hedge.",
    "He finally found his keys inside the pocket of his winter coat.",
    "The waves crashed against the rocks all through the night.",
    "I have never seen so many stars as on that night in the desert.",
    "The cook tasted the sauce and added a spoonful of honey.",
    "The old bridge was closed for repairs for most of the year.",
    "We should leave early if we want to avoid the traffic.",
    "She opened the curtains and let the morning light flood in.",
    "The squirrels buried acorns all over the lawn last autumn.",
    "A stranger asked me for directions to the town hall.",
    "The choir sang so softly that the whole church fell silent.",
    "The path through the woods is muddy after a week of rain.",
    "He likes to read the last page of a novel first.",
    "Their house stands at the end of a long gravel drive.",
    "The puppy chewed a hole in my favourite slipper.",
    "Please write your name clearly at the top of the page.",
    "The ship sailed north, past islands covered in ice and snow.",
    "My aunt makes the best plum jam in the whole county.",
    "The lamp flickered twice and then went out completely.",
    "We spent the afternoon looking for shells along the beach.",
    "The doctor told him to rest and drink plenty of water.",
    "A row of ducks waddled across the road in front of the car.",
    "The concert was cancelled because the singer had lost her voice.",
    "He always whistles when he is nervous.",
    "The sunflowers turned their heads to follow the sun.",
    "Is there a pharmacy open anywhere near here on Sundays?",
    "The wooden floor creaked beneath our feet as we crept upstairs.",
    "She sent a postcard from every city she visited.",
    "The recipe calls for two eggs, a cup of flour and some sugar.",
    "We listened to the rain drumming on the roof of the tent.",
    "The new bridge will connect the two halves of the town.",
    "He was the first to arrive and the last to leave.",
    "The kitten chased a moth around the living room.",
    "The hikers reached the summit just before the clouds rolled in.",
    "It took them a whole week to paint the barn.",
    "The fisherman mended his nets on the quay every morning.",
    "A loud knock at the door made everyone jump.",
    "The shop assistant wrapped the vase in several layers of paper.",
    "My grandfather taught me how to tie a proper knot.",
    "The road winds through vineyards and small stone villages.",
    "The river rose quickly after the snow melted in the hills.",
    "She whispered the answer so that only I could hear it.",
    "The train rattled through the tunnel and out into the sunlight.",
    "Our team practised every evening for the final match.",
    "He poured the lemonade into tall glasses full of ice.",
    "The wind turned the pages of the book left open on the bench.",
    "Let us meet by the fountain in the middle of the park.",
    "The bees were busy among the lavender all afternoon.",
    "She has a habit of humming while she works.",
    "The snow fell quietly all night and covered the whole town.",
    "The carpenter measured the board twice before cutting it.",
    "We could hear music drifting up from the street below.",
    "The post office closes early on the last day of the month.",
    "He hung his coat on the hook behind the kitchen door.",
    "A bright rainbow appeared just as the shower ended.",
    "The twins are so alike that even their friends confuse them.",
    "The station clock showed ten minutes to midnight.",
    "Her voice was calm, even though her hands were shaking.",
    "The farmer's dog rounded up the sheep in a matter of minutes.",
    "They rowed across the lake to the little island in the middle.",
    "The museum guide told us the story behind every painting.",
    "I left my glasses somewhere between the garden and the garage.",
    "The streets were decorated with flags for the summer fair.",
    "The soup simmered gently on the stove for most of the afternoon.",
    "He taught himself to juggle with three oranges.",
    "The gulls followed the fishing boat back into the harbour.",
    "Everyone clapped when the little girl finished her song.",
    "We took shelter under an old oak tree until the rain stopped.",
    "The hotel room had a view of the sea and the distant hills.",
    "She folded the letter carefully and slipped it into her pocket.",
    "The frost drew delicate patterns on the window overnight.",
    "Please remember to water the plants while I am away.",
    "The old man fed the pigeons every morning at the same bench.",
    "A narrow staircase led up to the attic.",
    "The cake collapsed the moment we took it out of the oven.",
    "He spoke so quietly that the microphone barely picked him up.",
    "The forest was silent except for the crunch of our boots on the snow.",
    "They opened a small cafe next to the railway station.",
    "The goat climbed onto the roof of the shed and refused to come down.",
    "We spent the evening playing cards by the fire.",
    "The new library has a reading room with huge windows.",
    "Her bicycle had a basket on the front full of flowers.",
    "The ferry leaves every hour from the end of the pier.",
    "He stirred his tea slowly and stared out of the window.",
    "The builders finished the roof just before the winter storms.",
    "A flock of geese flew over in a perfect line.",
    "The lecture was interesting, but the hall was far too warm.",
    "She found a lost kitten hiding under the garden shed.",
    "The moon rose big and orange above the rooftops.",
    "Could you tell me what time the museum closes today?",
    "The farmer sold eggs from a wooden box beside the road.",
    "The wind howled around the house all night long.",
    "He wore a bright yellow scarf that his sister had knitted.",
    "The pond in the park freezes over almost every winter.",
    "We followed the stream until it joined a wider river.",
    "The waiter brought us bread and olives while we waited.",
    "Her handwriting is small, neat and very hard to read.",
    "The circus arrived in town with a parade of painted wagons.",
    "The garden looks wonderful after a night of gentle rain.",
    "He always keeps a spare pencil behind his ear.",
    "The mountains were hidden behind a curtain of grey cloud.",
    "The baby finally fell asleep after a long walk in the pram.",
    "They sat on the steps and watched the street come to life.",
    "A cold wind blew in from the sea and rattled the windows.",
    "The bookshop has a cat that sleeps in the front window.",
    "She practised the speech in front of the mirror many times.",
    "The tomatoes ripened slowly on the sunny side of the wall.",
    "We waved goodbye until the train disappeared around the bend.",
    "The inventor kept his notebooks in a locked drawer.",
    "A faint smell of smoke drifted in from the neighbours' garden.",
    "The road was blocked by a fallen tree after the storm.",
    "He likes his eggs boiled for exactly four minutes.",
    "The little boat rocked gently at its mooring.",
    "She could not decide between the red coat and the grey one.",
    "The sound of church bells rang across the frozen fields.",
    "Our guide pointed out an eagle circling high above the cliffs.",
    "The apples in the orchard are nearly ready to pick.",
    "Please switch off the lights when you leave the room.",
    "The village holds a music festival at the end of every summer.",
    "He dropped the plate, but by some miracle it did not break.",
    "The wind chimes tinkled softly on the porch.",
    "The old castle stands on a hill above the river.",
    "We shared a picnic of bread, cheese and ripe pears.",
    "The students waited nervously for the results to be posted.",
    "The rain stopped, and the whole street began to steam in the sun.",
    "She counted the steps from the door to the garden gate.",
    "The fox slipped silently through a gap in the hedge.",
    "He built a bird table and placed it outside the kitchen window.",
    "The evening news reported heavy snow in the north.",
    "The potter shaped the wet clay into a tall slender jug.",
    "Our car broke down halfway up a steep hill.",
    "The children ran laughing through the sprinklers on the lawn.",
    "The letters on the old sign had almost faded away.",
    "She poured the soup into bowls and called everyone to the table.",
    "A tiny spider had spun its web across the doorway.",
    "The orchestra played the final chord and the hall erupted in applause.",
    "We must finish painting the kitchen before the guests arrive.",
    "The dog waited by the door every evening for its owner.",
    "He studied the map for a long time before he spoke.",
    "The sea was calm and as smooth as a sheet of glass.",
    "The garden party moved indoors when the rain began.",
    "Her shoes were covered in mud from the walk across the field.",
    "The cook sharpened his knives before the dinner rush began.",
    "Have you ever tried to sing while brushing your teeth?",
    "The wind scattered the autumn leaves across the playground.",
    "The farmer repaired the stone wall where the sheep had escaped.",
    "They stayed up late talking about their plans for the future.",
    "The train was delayed by a herd of cows on the line.",
    "The artist sketched the harbour from the top of the hill.",
    "She keeps a spare key under a flowerpot by the door.",
    "The shop window was full of toys, sweets and paper lanterns.",
    "He slipped on the ice and landed in a snowdrift.",
    "The scent of pine needles filled the little cabin.",
    "We will need a bigger boat if everyone wants to come.",
    "The baker gave the children the broken biscuits for free.",
    "The crowd fell silent as the runners took their places.",
    "The cottage had a thatched roof and a bright red door.",
    "He had never tasted anything quite so sour in his life.",
    "The stream sparkled in the morning sunshine.",
    "She knitted a scarf long enough to wrap around her twice.",
    "The lawn mower roared into life on the first pull.",
    "A wise traveller always packs a spare pair of socks.",
    "The canal boats moved slowly past the old warehouses.",
    "The singer thanked the audience and walked off the stage.",
    "We heard the distant hoot of a train crossing the valley.",
    "The field was full of poppies swaying in the breeze.",
    "He keeps all his receipts in a shoebox under the bed.",
    "The sky cleared just in time for the fireworks.",
    "The old dog lay stretched out in a patch of sunlight.",
    "She forgot the words halfway through the song and laughed.",
    "The fishermen returned at dawn with a boat full of herring.",
    "Please wipe your boots before you come into the house.",
    "The market traders packed up their stalls as the sun set.",
    "He read the letter twice to be sure he had understood it.",
    "The snowman in the garden had a carrot for a nose.",
    "The guests danced until the musicians were too tired to play.",
    "Why do cats always want to be on the other side of the door?",
    "The workmen dug a deep trench along the side of the road.",
    "The swans glided across the lake in perfect silence.",
    "She wrapped herself in a blanket and fell asleep on the sofa.",
    "The mechanic wiped his hands and shook his head slowly.",
    "The path followed the cliff edge for several miles.",
    "He built a small raft from driftwood and old rope.",
    "The smell of fresh coffee drifted through the house.",
    "The choir practised the same hymn over and over again.",
    "We counted the seconds between the lightning and the thunder.",
    "The gardener covered the young plants to protect them from frost.",
    "The little shop sells nothing but umbrellas and hats.",
    "She smiled when she saw the flowers on her desk.",
    "The river carried the fallen leaves slowly out to sea.",
)
