"""A corpus of fictional towns with distinctive facts no pretrained model can know, and template
questions whose chain-of-thought answers quote the oracle sentence in RAFT format (no teacher call).

Every town document names a *sister town*, so a lexical retriever asked about one town also returns
the document of its sister: a realistic, confusable distractor (same template, the asked name inside).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

SYLLABLES = ["vel", "mor", "quis", "tan", "bra", "lok", "sen", "dri", "ost", "wen", "kal", "rim", "thu", "zar", "pel"]
FIRST = ["Ilse", "Oren", "Maud", "Tobin", "Sabra", "Edric", "Linnea", "Corwin", "Yara", "Bastien", "Greta", "Anselm"]
LAST = ["Brannock", "Velde", "Ashgrove", "Murrow", "Tallis", "Quenby", "Harrowgate", "Fenwick", "Orlov", "Duskmere"]
EXPORTS = [
    "smoked eel",
    "blue glass beads",
    "juniper soap",
    "copper kettles",
    "salted plums",
    "wool blankets",
    "slate roof tiles",
    "pickled herring",
    "cedar barrels",
    "beeswax candles",
    "linen sails",
    "iron nails",
    "rose honey",
    "tin lanterns",
    "walnut oil",
    "felt hats",
    "dried cod",
    "clay pipes",
    "rye whisky",
    "goat cheese",
    "amber combs",
    "rope ladders",
    "silver thimbles",
    "apple cider",
    "oak furniture",
    "sea salt",
    "hemp twine",
    "paper kites",
    "brass bells",
    "lavender oil",
    "pine tar",
    "horn buttons",
    "barley malt",
    "glazed tiles",
    "fishing nets",
    "leather saddles",
    "quince jam",
    "marble dice",
    "willow baskets",
    "chalk paint",
]
MONTHS = [
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
]
FESTIVALS = [
    "Lantern Tide",
    "Salt Moon",
    "Ember Walk",
    "Gull Feast",
    "Mist Parade",
    "Copper Dance",
    "Reed Fair",
    "Frost Bell",
    "Kite Day",
    "Harbour Song",
]


@dataclass
class Town:
    name: str
    founder: str
    year: int
    export: str
    month: str
    festival: str
    sister: str = ""

    def sentences(self) -> dict[str, str]:
        """The fact sentences (each names the town, so a quote identifies its document)."""
        return {
            "founder": f"{self.name} was founded in {self.year} by {self.founder}.",
            "export": f"The main export of {self.name} is {self.export}, shipped every spring.",
            "festival": f"Each {self.month} the people of {self.name} celebrate the {self.festival} festival.",
            "sister": f"{self.name} is the sister town of {self.sister}, and ferries run between them twice a week.",
        }

    def document(self) -> str:
        s = self.sentences()
        return (
            f"# {self.name}\n\n{self.name} is a small harbour town on the fictional Sarn coast. {s['founder']} "
            f"{s['export']} {s['festival']} {s['sister']}\n"
        )

    def questions(self) -> list[tuple[str, str, str]]:
        """(question, short answer, supporting sentence) for each fact."""
        s = self.sentences()
        return [
            (f"Who founded {self.name}?", self.founder, s["founder"]),
            (f"In what year was {self.name} founded?", str(self.year), s["founder"]),
            (f"What is the main export of {self.name}?", self.export, s["export"]),
            (f"In which month do the people of {self.name} celebrate their festival?", self.month, s["festival"]),
        ]


def make_towns(n: int, seed: int) -> list[Town]:
    """``n`` towns with unique names and exports; each names another as its sister town."""
    rng = random.Random(seed)
    names: list[str] = []
    while len(names) < n:
        name = "".join(rng.sample(SYLLABLES, 3)).capitalize()
        if name not in names:
            names.append(name)
    exports = rng.sample(EXPORTS, n) if n <= len(EXPORTS) else [rng.choice(EXPORTS) for _ in range(n)]
    towns = [
        Town(
            name=name,
            founder=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            year=rng.randint(1300, 1899),
            export=export,
            month=rng.choice(MONTHS),
            festival=rng.choice(FESTIVALS),
        )
        for name, export in zip(names, exports, strict=True)
    ]
    order = list(range(n))
    rng.shuffle(order)
    for i, j in enumerate(order):
        towns[j].sister = towns[order[(i + 1) % n]].name
    return towns


def cot_answer(question: str, answer: str, sentence: str) -> str:
    """A RAFT chain-of-thought answer quoting the oracle sentence, ending with ``<ANSWER>:``."""
    return f"The document says: ##begin_quote##{sentence}##end_quote## So the answer is {answer}.\n<ANSWER>: {answer}"


def short_answer(answer: str) -> str:
    """The answer alone, tagged (the short-answer recipe: no reasoning, no quote)."""
    return f"<ANSWER>: {answer}"


def write_corpus(towns: list[Town], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for town in towns:
        (folder / f"{town.name.lower()}.md").write_text(town.document(), encoding="utf-8")
