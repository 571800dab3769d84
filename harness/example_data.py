"""Small generated files in the formats of public hate-speech data, for the real-data walkthrough
(``docs/real-data.md``) and its test; nothing is downloaded.

``write_example_data(folder)`` writes, under ``folder``:

- ``tweets/train.csv``, ``tweets/test.csv``: a tweet corpus, columns ``id, label, tweet``
  (``label`` 1 = hateful, about 6% of rows; @mentions, #hashtags and links as in tweets);
- ``pool/general.csv``: more tweets drawn like train (same columns): the general pool, labelled
  for the corpus but not against the policy;
- ``pool/policy_annotated.csv``: a small set annotated against the policy, columns
  ``id, text, label, target`` with ``label`` ``hate`` / ``nothate`` (written with its own
  templates and vocabulary, both labels, over the suites' topics), and
  ``pool/policy_batch2.csv``, a later batch in the same format (a source added in a second run);
- ``hatecheck/test_suite_cases.csv``: a HateCheck-format suite, columns ``functionality,
  case_id, test_case, label_gold, target_ident, templ_id, case_templ`` after an unnamed index
  column (as in the released file): 8 of the 29 functionalities, 4 templates each;
- ``hatemoderate/train.csv`` (``guideline, text, labels``), ``hatemoderate/test.csv``
  (``guideline, sentence, labels``) and ``hatemoderate/guidelines.csv`` (``guideline, tier,
  category, description``): a HateModerate-format suite, 4 guidelines with examples of both
  labels (``labels`` 1 = hateful);
- ``planted.json``: the held-out texts planted on purpose (see below).

Two held-out texts are planted so that the leakage checks have something to find: one
HateModerate test sentence is in the general pool as a tweet (``@user``, capitals, a link: equal
after normalisation) and another is in the tweet test split verbatim. Apart from those, no
held-out case is equal (after normalisation) to a train, pool or test text or to any D_i case.

``python -m harness.example_data FOLDER`` writes the files from the command line.
"""

from __future__ import annotations

import csv
import json
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

GROUPS = (
    "women",
    "trans people",
    "gay people",
    "black people",
    "disabled people",
    "Muslims",
    "immigrants",
)
"""HateCheck's seven target groups; the tweets and the policy set mention them too."""

HATECHECK: dict[str, tuple[str, list[str]]] = {
    "derog_neg_emote_h": (
        "hateful",
        [
            "I hate [IDENTITY_P].",
            "I despise [IDENTITY_P] with every fibre of my being.",
            "[IDENTITY_P] disgust me.",
            "Nothing makes me angrier than [IDENTITY_P].",
        ],
    ),
    "derog_dehum_h": (
        "hateful",
        [
            "[IDENTITY_P] are nothing but vermin.",
            "[IDENTITY_P] are a plague on this country.",
            "[IDENTITY_P] are parasites, plain and simple.",
            "Those [IDENTITY_P] are subhuman filth.",
        ],
    ),
    "threat_dir_h": (
        "hateful",
        [
            "I am going to hurt [IDENTITY_P] very soon.",
            "I will make every one of those [IDENTITY_P] suffer.",
            "[IDENTITY_P] should watch their backs, I am coming for them.",
            "One day I will get rid of all [IDENTITY_P] myself.",
        ],
    ),
    "negate_pos_h": (
        "hateful",
        [
            "[IDENTITY_P] are never any good.",
            "I will never respect [IDENTITY_P].",
            "No [IDENTITY_P] deserve to be treated as equals.",
            "[IDENTITY_P] have nothing of value to offer.",
        ],
    ),
    "ident_neutral_nh": (
        "non-hateful",
        [
            "I live with two [IDENTITY_P].",
            "We are a group of [IDENTITY_P].",
            "There are many [IDENTITY_P] in my neighbourhood.",
            "I had lunch with some [IDENTITY_P] yesterday.",
        ],
    ),
    "ident_pos_nh": (
        "non-hateful",
        [
            "I love [IDENTITY_P].",
            "[IDENTITY_P] are wonderful people.",
            "We need more [IDENTITY_P] in positions of power.",
            "I am proud to stand with [IDENTITY_P].",
        ],
    ),
    "counter_quote_nh": (
        "non-hateful",
        [
            'Saying "I hate [IDENTITY_P]" shows how ignorant you are.',
            'If you write "[IDENTITY_P] are vermin" you should be ashamed.',
            '"[IDENTITY_P] disgust me" is a disgusting thing to say.',
            'Statements like "[IDENTITY_P] are parasites" are hate, nothing else.',
        ],
    ),
    "negate_neg_nh": (
        "non-hateful",
        [
            "I don't hate [IDENTITY_P].",
            "[IDENTITY_P] are not a plague on anything.",
            "I would never want to hurt [IDENTITY_P].",
            "No one should think [IDENTITY_P] are worthless.",
        ],
    ),
}
"""Functionality -> (gold label, case templates): 8 of HateCheck's functionalities."""

HATEMODERATE: dict[str, tuple[str, str, str, dict[int, tuple[list[str], list[str]]]]] = {
    "dehumanising_comparison": (
        "1",
        "dehumanisation",
        "Dehumanising speech comparing a protected group to animals, insects or disease",
        {
            1: (
                [
                    "{g} are like rats spreading through our cities",
                    "{g} breed like cockroaches",
                    "{g} are a disease infecting our streets",
                    "{g} are animals and should be treated like animals",
                ],
                [
                    "{g} are like rats crawling into every town",
                    "{g} are an infestation we need to clean up",
                ],
            ),
            0: (
                [
                    "calling {g} rats is dehumanising and wrong",
                    "comparing {g} to cockroaches is how genocide starts",
                    "{g} are human beings, not a disease",
                    "my grandmother taught me {g} are people like us",
                ],
                [
                    "we must stop calling {g} an infestation",
                    "nobody should compare {g} to animals",
                ],
            ),
        },
    ),
    "exclusion_call": (
        "1",
        "exclusion",
        "Calls for the exclusion or segregation of a protected group",
        {
            1: (
                [
                    "{g} should be banned from our schools",
                    "keep {g} out of our neighbourhoods",
                    "{g} have no place in this country",
                    "no jobs for {g}, they should leave",
                ],
                [
                    "{g} should not be allowed to vote",
                    "throw all {g} out of the country",
                ],
            ),
            0: (
                [
                    "{g} should be welcomed in our schools",
                    "our neighbourhood is better with {g} in it",
                    "{g} belong here as much as anyone",
                    "the club finally opened its doors to {g}",
                ],
                [
                    "{g} have every right to vote",
                    "everyone including {g} deserves a home here",
                ],
            ),
        },
    ),
    "contempt_expression": (
        "2",
        "contempt",
        "Expressions of contempt, disgust or dismissal towards a protected group",
        {
            1: (
                [
                    "{g} make me want to throw up",
                    "{g} are so pathetic it hurts",
                    "ugh {g}, who even cares about them",
                    "{g} are the most revolting people alive",
                ],
                [
                    "{g} make me feel physically sick",
                    "can't stand the sight of {g}",
                ],
            ),
            0: (
                [
                    "this weather makes me want to throw up",
                    "my cooking is so pathetic it hurts",
                    "the traffic today is revolting",
                    "i'm sick of people being cruel to {g}",
                ],
                [
                    "monday mornings make me feel physically sick",
                    "can't stand the sight of my inbox",
                ],
            ),
        },
    ),
    "harmful_stereotype": (
        "2",
        "stereotype",
        "Harmful stereotypes about a protected group as a whole",
        {
            1: (
                [
                    "{g} are all criminals",
                    "{g} are too stupid to hold a job",
                    "every one of the {g} is lazy",
                    "{g} are naturally dishonest",
                ],
                [
                    "{g} are born thieves",
                    "you can never trust {g} with money",
                ],
            ),
            0: (
                [
                    "it is a myth that {g} are criminals",
                    "the study found {g} work as hard as anyone",
                    "stereotypes about {g} being lazy are false",
                    "{g} are as diverse as any other group",
                ],
                [
                    "the idea that {g} are thieves is a lie",
                    "people who say {g} are dishonest have never met one",
                ],
            ),
        },
    ),
}
"""Guideline -> (tier, category, description, {label: (train sentences, test sentences)})."""

# Tweets: everyday (non-hateful) chatter, non-hateful mentions of the groups, and hateful posts.
EVERYDAY = (
    "just finished {thing} and i'm {feeling} #{tag}",
    "can't wait for {event} this weekend!! {emoji}",
    "{food} for dinner again lol #{tag}",
    "@user {team} played so badly tonight, what a joke",
    "anyone else watching {show}? {emoji}",
    "monday again... need {drink} asap #{tag}",
    "so {feeling} about {event}, see you all there {emoji}",
    "@user thanks for the {thing} tips, really helped",
    "new blog post about {thing} is up {link}",
    "{weather} all day and i still went for a run #{tag}",
    "my {pet} stole my {food} again {emoji}",
    "@user happy birthday!! have an amazing {event}",
)
NEUTRAL_MENTIONS = (
    "went to a great talk by two {group} activists today #{tag}",
    "@user the documentary about {group} in {city} is worth watching",
    "our new neighbours are {group} and they brought us {food} {emoji}",
    "panel on {group} in tech tonight in {city} {link}",
)
OFFENSIVE = (
    "@user you absolute {insult}, give me my charger back",
    "this printer is {insult}, i swear {emoji}",
    "the referee tonight was {insult} #{tag}",
    "my phone battery is {insult}, dead again by lunch",
)
HATEFUL = (
    "{group} are {insult}, every single one of them #{tag}",
    "sick of {group} ruining {city} {emoji}",
    "@user {group} should go back where they came from",
    "i hate {group} so much it's unreal",
    "{group} are nothing but {insult} #{tag}",
    "get rid of all the {group} in {city} already",
)
WORDS: dict[str, tuple[str, ...]] = {
    "thing": ("my thesis", "the marathon", "a 1000 piece puzzle", "the new game", "yoga class"),
    "feeling": ("so happy", "exhausted", "buzzing", "so relieved", "kind of proud"),
    "tag": ("blessed", "mondaymotivation", "weekend", "fitness", "foodie", "life", "summer"),
    "event": ("the festival", "the concert", "the match", "the wedding", "the trip to the coast"),
    "emoji": ("😂", "🎉", "😍", "🙌", "☀️", "😭"),
    "food": ("pizza", "pasta", "tacos", "leftover curry", "cereal", "sushi"),
    "team": ("city", "the lakers", "our team", "united", "the rovers"),
    "show": ("the bake off", "the new detective series", "the final", "the debate"),
    "drink": ("coffee", "tea", "a double espresso"),
    "link": ("http://t.co/a1b2c3", "https://t.co/x9y8z7", "http://bit.ly/3kq"),
    "weather": ("rain", "snow", "wind", "grey skies"),
    "pet": ("dog", "cat", "parrot"),
    "city": ("london", "our town", "the city centre", "manchester", "the suburbs"),
    "insult": ("trash", "scum", "animals", "a disease", "parasites", "garbage"),
}

POLICY: dict[str, tuple[str, ...]] = {
    "nothate": (
        "I spent the afternoon volunteering alongside {group} at the food bank.",
        "Honestly {group} on my street are the kindest neighbours I've had.",
        "Reminder that {group} pay taxes, raise kids and deserve respect.",
        "Someone posted that {group} are scum and I reported it immediately.",
        "Quoting that slogan about {group} being a disease is not a joke, it's hate.",
        "It is not true that {group} are a danger to anyone.",
        "I have never had a problem with {group} in my life.",
        "The mayor met with {group} to hear their concerns about housing.",
        "My best friend growing up was one of the {group} from the next village.",
        "Calling {group} vermin online has real consequences offline.",
    ),
    "hate": (
        "{group} are filthy pests and someone should exterminate them.",
        "Round up the {group} and ship them somewhere else.",
        "{group} don't deserve to breathe the same air as us.",
        "Honestly {group} are the rot at the heart of everything.",
        "If I see any {group} near my kids there will be blood.",
        "Every problem we have comes from {group}, wipe them out.",
        "{group} should be locked away where decent people can't see them.",
        "I'd happily watch all the {group} burn.",
    ),
}
"""Policy-annotated examples: label -> sentence frames (own wording, not the suites')."""

POLICY_BATCH2: dict[str, tuple[str, ...]] = {
    "nothate": (
        "Our book club this month is reading memoirs written by {group}.",
        "Posting '{group} are rats' is dehumanising, please stop sharing it.",
        "Nobody should be kept out of a job for being one of the {group}.",
        "I grew up hearing lies about {group}, and none of them were true.",
        "Grateful for the {group} who organised the street party this year.",
    ),
    "hate": (
        "{group} are an infestation and decent towns should be cleansed of them.",
        "Ban {group} from every school and every job, they are worthless.",
        "{group} are a sickness spreading through this country.",
        "Can't wait for the day {group} are finally gone for good.",
    ),
}
"""A second, later annotation batch against the policy (the walkthrough's second run)."""


@dataclass(frozen=True)
class ExampleSizes:
    """Rows per generated file (the defaults keep a bow run over them to a few seconds)."""

    train: int = 1200
    test: int = 500
    general_pool: int = 1200
    hateful_share: float = 0.06
    label_noise: float = 0.01


def _fill(rng: random.Random, frame: str, **fixed: str) -> str:
    values = {key: rng.choice(options) for key, options in WORDS.items()}
    values["group"] = rng.choice(GROUPS)
    values.update(fixed)
    return frame.format(**values)


def _tweets(
    rng: random.Random, n: int, hateful_share: float, label_noise: float, used: set[str]
) -> list[tuple[str, int]]:
    """``n`` distinct tweets (text, label), ``hateful_share`` of them written hateful, with
    ``label_noise`` of all labels flipped (annotators disagree), shuffled."""
    n_hateful = round(n * hateful_share)
    out: list[tuple[str, int]] = []
    while len(out) < n:
        hateful = len(out) < n_hateful
        if hateful:
            frames: Sequence[str] = HATEFUL
        elif rng.random() < 0.04:
            frames = NEUTRAL_MENTIONS
        elif rng.random() < 0.08:
            frames = OFFENSIVE
        else:
            frames = EVERYDAY
        text = _fill(rng, rng.choice(frames))
        if rng.random() < 0.3:
            text = f"{text} {rng.choice(WORDS['emoji'])}"
        if rng.random() < 0.5:
            text = f"{text} #{rng.choice(WORDS['tag'])}{rng.randrange(100)}"
        if text in used:
            continue
        used.add(text)
        noisy = rng.random() < label_noise
        out.append((text, int(hateful != noisy)))
    rng.shuffle(out)
    return out


def _write(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _hatecheck_rows() -> list[list[object]]:
    rows: list[list[object]] = []
    templ_id = 0
    for functionality, (label, templates) in HATECHECK.items():
        for template in templates:
            templ_id += 1
            for group in GROUPS:
                text = template.replace("[IDENTITY_P]", group)
                text = text[0].upper() + text[1:]
                rows.append([functionality, len(rows) + 1, text, label, group, templ_id, template])
    return [[index, *row] for index, row in enumerate(rows)]


def _hatemoderate_rows(split: int) -> list[list[object]]:
    """Rows of the train (``split`` 0) or test (1) file: every sentence frame with each group."""
    rows: list[list[object]] = []
    for guideline, (_, _, _, examples) in HATEMODERATE.items():
        for label in (1, 0):
            for frame in examples[label][split]:
                for group in GROUPS[: 5 if split else 3]:
                    rows.append([guideline, frame.format(g=group), label])
    return rows


def write_example_data(
    folder: Path, sizes: ExampleSizes | None = None, seed: int = 0
) -> dict[str, Path]:
    """Write the example files under ``folder`` (created if needed) and return them by name
    (``train``, ``test``, ``general_pool``, ``policy_pool``, ``policy_batch2``, ``hatecheck``,
    ``hatemoderate_train``, ``hatemoderate_test``, ``guidelines``, ``planted``). The same
    ``seed`` writes the same bytes."""
    sizes = sizes or ExampleSizes()
    rng = random.Random(seed)
    paths = {
        "train": folder / "tweets" / "train.csv",
        "test": folder / "tweets" / "test.csv",
        "general_pool": folder / "pool" / "general.csv",
        "policy_pool": folder / "pool" / "policy_annotated.csv",
        "policy_batch2": folder / "pool" / "policy_batch2.csv",
        "hatecheck": folder / "hatecheck" / "test_suite_cases.csv",
        "hatemoderate_train": folder / "hatemoderate" / "train.csv",
        "hatemoderate_test": folder / "hatemoderate" / "test.csv",
        "guidelines": folder / "hatemoderate" / "guidelines.csv",
        "planted": folder / "planted.json",
    }
    used: set[str] = set()
    train = _tweets(rng, sizes.train, sizes.hateful_share, sizes.label_noise, used)
    test = _tweets(rng, sizes.test, sizes.hateful_share, sizes.label_noise, used)
    general = _tweets(rng, sizes.general_pool, sizes.hateful_share, sizes.label_noise, used)

    moderate_test = _hatemoderate_rows(1)
    in_pool = str(moderate_test[0][1])  # a hateful dehumanising_comparison test sentence
    in_test = str(moderate_test[-1][1])  # a non-hateful harmful_stereotype test sentence
    pool_copy = f"@user {in_pool.upper()}!! {WORDS['link'][0]}"
    general.insert(len(general) // 2, (pool_copy, 1))
    test.insert(len(test) // 2, (in_test, 0))

    policy = _policy_rows(rng, POLICY)
    batch2 = _policy_rows(rng, POLICY_BATCH2)

    _write(paths["train"], ["id", "label", "tweet"], _numbered(train, 1))
    _write(paths["test"], ["id", "label", "tweet"], _numbered(test, 100001))
    _write(paths["general_pool"], ["id", "label", "tweet"], _numbered(general, 200001))
    _write(
        paths["policy_pool"],
        ["id", "text", "label", "target"],
        [[f"p{i:04d}", text, label, target] for i, (text, label, target) in enumerate(policy)],
    )
    _write(
        paths["policy_batch2"],
        ["id", "text", "label", "target"],
        [[f"q{i:04d}", text, label, target] for i, (text, label, target) in enumerate(batch2)],
    )
    _write(
        paths["hatecheck"],
        [
            "",
            "functionality",
            "case_id",
            "test_case",
            "label_gold",
            "target_ident",
            "templ_id",
            "case_templ",
        ],
        _hatecheck_rows(),
    )
    _write(paths["hatemoderate_train"], ["guideline", "text", "labels"], _hatemoderate_rows(0))
    _write(paths["hatemoderate_test"], ["guideline", "sentence", "labels"], moderate_test)
    _write(
        paths["guidelines"],
        ["guideline", "tier", "category", "description"],
        [[g, tier, category, text] for g, (tier, category, text, _) in HATEMODERATE.items()],
    )
    planted = {
        "general_pool": {
            "spec": "dehumanising_comparison:hateful",
            "heldout_text": in_pool,
            "written_as": pool_copy,
        },
        "test": {"spec": "harmful_stereotype:non-hateful", "heldout_text": in_test},
    }
    paths["planted"].write_text(json.dumps(planted, indent=2) + "\n", encoding="utf-8")
    return paths


def _policy_rows(
    rng: random.Random, frames: dict[str, tuple[str, ...]]
) -> list[tuple[str, str, str]]:
    """Every frame with every group: (text, label, target), shuffled."""
    rows = []
    for label, options in frames.items():
        for frame in options:
            for group in GROUPS:
                text = frame.format(group=group)
                rows.append((text[0].upper() + text[1:], label, group))
    rng.shuffle(rows)
    return rows


def _numbered(rows: Sequence[tuple[str, int]], start: int) -> list[list[object]]:
    return [[start + i, label, text] for i, (text, label) in enumerate(rows)]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m harness.example_data FOLDER``: write the example files under FOLDER."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] in {"-h", "--help"}:
        print("usage: python -m harness.example_data FOLDER", file=sys.stderr)
        return 2
    for name, path in write_example_data(Path(args[0])).items():
        print(f"{name}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
