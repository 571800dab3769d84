"""The demo's second pool source: a small set of examples annotated against a moderation policy.

Real users hold two kinds of candidate data: a large general pool (the demo's ``general``
source, drawn like ``train``) and a small set written and labelled against the policy, like the
per-guideline train files of public policy suites. This module generates the latter: a few
hundred rows over eight guidelines that cover the topics of the demo specs (threats, name-calling,
obfuscated insults, derogation of groups, neutral and positive mentions of groups, counter-speech,
criticism of ideas, praise), each guideline with violating (toxic) and allowed (non-toxic)
examples, the allowed ones often close to a violation on the surface.

It is written from first principles with its own sentence templates and its own word lists
(names, insults, adjectives, topics, obfuscated spellings; the list of protected groups shares a
few of the most common group names with the demo, as any two policies would); none of its
templates comes from ``specs/demo.yaml`` (D_i or D_i_heldout) or from the demo's generator
patterns (:mod:`harness_plugins.tasks.demo`).
"""

from __future__ import annotations

import random

NAMES = ["Hannah", "Marcus", "Yusuf", "Ingrid", "Diego", "Mei", "Pat", "Aisha", "Bruno", "Leila"]
GROUPS = [
    "women",
    "muslims",
    "trans people",
    "black people",
    "refugees",
    "jewish people",
    "migrants",
    "lesbians",
    "bisexual people",
    "wheelchair users",
    "pensioners",
    "hindus",
    "sikhs",
    "roma",
    "asylum seekers",
    "single mothers",
]
INSULTS = [
    "halfwit",
    "numbskull",
    "bonehead",
    "twit",
    "oaf",
    "dunce",
    "airhead",
    "knucklehead",
    "nincompoop",
    "blockhead",
    "lowlife",
    "muppet",
    "imbecile",
    "cretin",
]
OBFUSCATED = [
    "halfw1t",
    "numbsku11",
    "b0nehead",
    "tw1t",
    "0af",
    "dunc3",
    "a1rhead",
    "bl0ckhead",
    "mupp3t",
    "imb3cile",
    "cr3tin",
    "l0wlife",
]
OBFUSCATED_PRAISE = ["l3gend", "st4r", "g3nius", "h3ro", "ch4mp", "r0ckstar"]
BAD = ["dishonest", "lazy", "vile", "dim", "greedy", "backward", "filthy", "sneaky"]
GOOD = ["excellent", "inspiring", "superb", "first-rate", "top-notch", "heartwarming"]
TOPICS = [
    "the parking reform",
    "the zoning proposal",
    "the library cuts",
    "the fare increase",
    "the new curfew",
    "the recycling scheme",
    "the stadium deal",
    "the four-day week trial",
]
OPENERS = ["", "", "", "ngl ", "tbf ", "so "]
CLOSERS = ["", "", ".", "!", " imo", " fr"]

TOXIC, NON_TOXIC = "toxic", "non-toxic"

# guideline -> (template, label); {n} name, {g} group, {G} group capitalised, {i} insult,
# {ia} insult with its article, {is} insult plural, {o} obfuscated insult, {op} obfuscated praise,
# {b} bad adjective ({B} capitalised), {a} good adjective, {t} topic, {T} topic capitalised
GUIDELINES: dict[str, list[tuple[str, str]]] = {
    "threats-of-harm": [
        ("{n}, one more word and you'll be sorry", TOXIC),
        ("I'll come round to your place and sort you out, {n}", TOXIC),
        ("Better sleep with one eye open, {n}", TOXIC),
        ("Someone is going to smash your windows tonight, {n}", TOXIC),
        ("Show your face here again and you'll get hurt", TOXIC),
        ("I'll come round to your place and help you move, {n}", NON_TOXIC),
        ("Our side is going to crush yours on Saturday, {n}", NON_TOXIC),
        ("{n}, text me when you get home so I know you're safe", NON_TOXIC),
    ],
    "name-calling": [
        ("Nobody asked you, {i}", TOXIC),
        ("Honestly {n}, you absolute {i}", TOXIC),
        ("Sit down, {i}, nobody cares what you think", TOXIC),
        ("Read the thread before replying, you {b} {i}", TOXIC),
        ("One bad game doesn't make you {ia}, {n}", NON_TOXIC),
        ("You're far from {ia}, whatever they say", NON_TOXIC),
        ("It would be unfair to label you {ia}, {n}", NON_TOXIC),
    ],
    "obfuscated-insults": [
        ("ur such a {o}", TOXIC),
        ("{n} = total {o}", TOXIC),
        ("lmao what a {o}", TOXIC),
        ("stop posting, {o}", TOXIC),
        ("ur such a {op}", NON_TOXIC),
        ("{n} = total {op}", NON_TOXIC),
        ("lmao what a {op}, {n}", NON_TOXIC),
    ],
    "group-derogation": [
        ("{G} are dragging this neighbourhood down", TOXIC),
        ("Never trust {g}, they're {b} to the core", TOXIC),
        ("Why are {g} always so {b}?", TOXIC),
        ("{G}? {B}, every single one of them", TOXIC),
        ("Finally someone said it: {g} are {is}", TOXIC),
    ],
    "neutral-group-mention": [
        ("The census shows more {g} moving to the coast", NON_TOXIC),
        ("A panel of {g} spoke at the council meeting", NON_TOXIC),
        ("The clinic changed its hours to suit {g}", NON_TOXIC),
        ("Local radio interviewed {g} about rising rents", NON_TOXIC),
    ],
    "positive-group-mention": [
        ("{G} have enriched this town for decades", NON_TOXIC),
        ("Huge respect to the {g} who volunteered at the shelter", NON_TOXIC),
        ("Some of the kindest people I have met are {g}", NON_TOXIC),
        ("{G} are fine as long as they stay away from me", TOXIC),
    ],
    "counter-speech": [
        ("Painting all {g} as {b} is a lazy stereotype", NON_TOXIC),
        ("I reported the post calling {g} {is}", NON_TOXIC),
        ("Generalising about {g} like that is just bigotry", NON_TOXIC),
        ("That meme about {g} being {is} is hateful, take it down", NON_TOXIC),
        ("That meme about {g} being {is} is spot on", TOXIC),
    ],
    "criticism-of-ideas": [
        ("{T} is a waste of public money", NON_TOXIC),
        ("I'm against {t}, the numbers don't add up", NON_TOXIC),
        ("Has anyone read {t}? It ignores renters completely", NON_TOXIC),
        ("Anyone who supports {t} is {ia}", TOXIC),
        ("The {is} behind {t} should be ashamed", TOXIC),
    ],
    "praise": [
        ("Cheers for fixing the printer, {n}", NON_TOXIC),
        ("{n}, your talk was {a}", NON_TOXIC),
        ("Proud of you, {n}, that took guts", NON_TOXIC),
        ("Great work, {n}, you {b} {i}", TOXIC),
    ],
}


def _article(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fill(template: str, rng: random.Random) -> str:
    insult = rng.choice(INSULTS)
    group = rng.choice(GROUPS)
    topic = rng.choice(TOPICS)
    bad = rng.choice(BAD)
    body = template.replace("{is}", "{is_}").format(
        n=rng.choice(NAMES),
        g=group,
        G=_first_upper(group),
        i=insult,
        ia=_article(insult),
        is_=insult + "s",
        o=rng.choice(OBFUSCATED),
        op=rng.choice(OBFUSCATED_PRAISE),
        b=bad,
        B=_first_upper(bad),
        a=rng.choice(GOOD),
        t=topic,
        T=_first_upper(topic),
    )
    opener = rng.choice(OPENERS) if not template.startswith("{") else ""
    if opener:  # chat style: "tbf the census shows ..."
        body = body[:1].lower() + body[1:]
    return f"{opener}{body}{rng.choice(CLOSERS)}"


def generate_policy(n: int, seed: int) -> tuple[list[str], list[str], list[str]]:
    """``n`` distinct policy-annotated texts with their labels and guideline ids, spread evenly
    over the templates of every guideline (deterministic for a given ``seed``)."""
    rng = random.Random(seed)
    templates = [(g, t, y) for g, items in GUIDELINES.items() for t, y in items]
    texts: list[str] = []
    labels: list[str] = []
    guidelines: list[str] = []
    seen: set[str] = set()
    turn = 0
    attempts = 0
    while len(texts) < n and attempts < 50 * max(n, 1):
        guideline, template, label = templates[turn % len(templates)]
        turn += 1
        attempts += 1
        text = _fill(template, rng)
        if text in seen:
            continue
        seen.add(text)
        texts.append(text)
        labels.append(label)
        guidelines.append(guideline)
    return texts, labels, guidelines
