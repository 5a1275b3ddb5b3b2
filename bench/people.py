"""People scenarios for bench/run.py: a generated family graph imported from GEDCOM, then
the relationship finder and the family tree through HTTP on it (SQLite).

1. Generator (pure Python, deterministic for `BENCH_PEOPLE_SEED`): a GEDCOM 5.5.1 file
   (UTF-8) of `BENCH_PEOPLE` (100000) people over `BENCH_PEOPLE_GENERATIONS` (16)
   generations born 1590-2005, and a smaller one of `BENCH_PEOPLE_IMPORT` (12000) people
   built the same way. Founders marry; each generation marries within itself, half the
   time someone of another paternal line, mostly from their own or a neighbouring town
   (so cousins exist and paths between distant people are long), the rest a spouse from
   outside the file; couples have 0-5 children, as many as a growth of 1.2 a generation
   needs (about 1.7 a family). Everyone has a name, a sex and a dated birth in a town;
   everyone born before 1925 and some born after have a death, the others are living.
   Children are generated one generation after their parents, so at most two birth
   parents each and no one their own ancestor; the file is read back and checked for that
   before it is used, and a sample of random pairs gets its shortest path (parent, child
   and partner steps) offline, the distance the server's finder walks.
2. Import: one member signs up and creates two legacies (as run.py's `seed` does);
   `POST /api/v1/legacies/{id}/gedcom` with the file as the body, the small file into one
   legacy, the large one into the other. The server answers 200 with the import report,
   or 202 with a job polled on `GET /api/v1/gedcom-imports/{job}` every 200 ms until it is
   `done` or `failed`; the time is from sending the file to the report. The server's
   `VmRSS` is sampled every 100 ms meanwhile (before, peak, after). Before each
   measurement the event consumers catch up with what the last import appended.
3. Latency on the large legacy: its people listed `limit=200` a page
   (`BENCH_PEOPLE_SAMPLE_PAGES` (50) pages; 0 for all: the sample is the first pages by
   surname), random pairs for `GET /api/v1/people/{a}/relationship/{b}` and random people
   for `GET /api/v1/people/{id}/tree?up=4&down=4`: `BENCH_PEOPLE_QUERIES` (300) of each
   one after another on one keep-alive connection (exact p50/p95/p99; found, capped and
   path length from the answers), then wrk with `wrk/search_paths.lua` rotating through
   `BENCH_PEOPLE_WRK_PATHS` (1000) of them at `BENCH_PEOPLE_CONNECTIONS` (1,16)
   connections for `BENCH_DURATION`.

Targets (the issue's): relationship p95 < 50 ms, tree p95 < 30 ms, import of 12000 people
< 30 s. A part that fails (an endpoint not there yet, an import refused) is recorded as
an error in the result; the other parts still run.

`python3 bench/people.py N FILE` writes and checks a graph of N people without a server.
"""

import http.client
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

PEOPLE = int(os.environ.get("BENCH_PEOPLE", "100000"))
IMPORT_PEOPLE = int(os.environ.get("BENCH_PEOPLE_IMPORT", "12000"))
GENERATIONS = int(os.environ.get("BENCH_PEOPLE_GENERATIONS", "16"))
SEED = int(os.environ.get("BENCH_PEOPLE_SEED", "1871"))
SAMPLE_PAGES = int(os.environ.get("BENCH_PEOPLE_SAMPLE_PAGES", "50"))
QUERIES = int(os.environ.get("BENCH_PEOPLE_QUERIES", "300"))
WRK_PATHS = int(os.environ.get("BENCH_PEOPLE_WRK_PATHS", "1000"))
CONNECTIONS = [int(c) for c in os.environ.get("BENCH_PEOPLE_CONNECTIONS", "1,16").split(",")]
OFFLINE_PAIRS = int(os.environ.get("BENCH_PEOPLE_OFFLINE_PAIRS", "200"))

RELATIONSHIP_P95_MS = 50
TREE_P95_MS = 30
IMPORT_TARGET_S = 30
TREE_QUERY = "up=4&down=4"
# The server's default `people_max_depth`: the offline sample counts paths within it.
MAX_DEPTH = int(os.environ.get("HEIRLOOM_PEOPLE_MAX_DEPTH", "24"))
POLL_S = 0.2
RSS_EVERY_S = 0.1
IMPORT_TIMEOUT_S = 3600
# How long the event consumers get to catch up with an import (an event per person and
# per relationship) before the queries run anyway; what they have left is then reported.
SETTLE_S = int(os.environ.get("BENCH_PEOPLE_SETTLE_S", "1800"))

# The shape of the graph.
LAST_BIRTH_YEAR = 2000  # the base year of the youngest generation (births ±5 around it)
GENERATION_YEARS = 27
BIRTH_SPREAD = 5  # children are 17+ years younger than their parents
GROWTH = 1.2  # people born per generation, over the generation before
MARRY = 0.85  # share of people born in the file who marry
WITHIN = 0.5  # of them, the share who marry someone born in the file
NEARBY = 0.8  # of those, the share whose partner is from their own or a neighbouring town
MOVE = 0.08  # couples who settle in another town
DIVORCED = 0.05
ALL_DEAD_BEFORE = 1925
THIS_YEAR = 2024

MALE = ("John William James George Thomas Henry Charles Edward Robert Joseph Arthur Albert Frederick Walter "
        "Samuel Richard Alfred Harry Francis Daniel Peter Michael David Paul Mark Andrew Stephen Christopher "
        "Matthew Anthony Simon Oliver Jack Noah Leo José Søren Émile Mateo Jürgen Hugh Isaac Ezra").split()
FEMALE = ("Mary Elizabeth Sarah Anne Margaret Jane Alice Emma Ellen Catherine Ann Eliza Martha Hannah Emily Susan "
          "Rose Florence Edith Dorothy Grace Lily Ruth Joan Patricia Barbara Helen Linda Karen Julie Claire Laura "
          "Sophie Chloe Olivia Amelia Zoë Anaïs Maëlle Ingrid Åsa Lucía Marta Nora Ivy").split()
SECOND_NAMES = "Ann May Louise Rose Jane James John Edward Marie Grace".split()
_PREFIXES = ("Ash Black Brook Bur Cal Clay Cold Crom Dal Dun East Fair Fen Fox Glen Hal Hart Hay Hol Kings "
             "Lang Lin Marsh Mill Moor New Nor Oak Pen Red Ros Sal Shel Stan Stock Thorn Wal West Whit Wood").split()
_SUFFIXES = "ford ley ton wood field well by worth ham stead more brook dale wick son er man ridge gate combe".split()
SURNAMES = ([p + s for p in _PREFIXES for s in _SUFFIXES]
            + "Müller Ødegård Nuñez Łukasik Dvořák Çelik Ó'Brien Sørensen Jäger Moreau".split())
# A ring: a town's neighbours are the ones beside it.
TOWNS = ("Ashby Barnstow Carrow Dunmere Elsford Fenwick Galloway Harrowgate Ivybridge Kelso Lindum Marlow "
         "Northam Ottery Penrith Quenby Rothbury Selsey Thirsk Uffington Wensley Yarrow Zennor Ambleside").split()
MONTHS = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()


# ---------------------------------------------------------------------------------------
# The graph and its GEDCOM file


@dataclass(slots=True)
class Person:
    n: int  # written as @I{n}@
    given: str
    surname: str
    sex: str
    birth: tuple  # (year, month, day)
    generation: int
    town: int
    line: int  # the paternal line, the founder's number
    famc: int | None = None
    fams: list = field(default_factory=list)
    death: tuple | None = None


@dataclass(slots=True)
class Family:
    n: int  # written as @F{n}@
    husband: Person
    wife: Person
    town: int
    children: list = field(default_factory=list)
    married: int = 0
    divorced: bool = False


class _Builder:
    """Grows the graph generation by generation until it holds `size` people."""

    def __init__(self, size, generations, seed, surplus):
        self.size, self.generations, self.surplus = size, generations, surplus
        self.rng = random.Random(seed)
        self.people: list[Person] = []
        self.families: list[Family] = []

    def full(self):
        return len(self.people) >= self.size

    def base_year(self, generation):
        return LAST_BIRTH_YEAR - (self.generations - 1 - generation) * GENERATION_YEARS

    def date(self, year):
        return year, self.rng.randint(1, 12), self.rng.randint(1, 28)

    def given(self, sex):
        names = MALE if sex == "M" else FEMALE
        name = self.rng.choice(names)
        return f"{name} {self.rng.choice(SECOND_NAMES)}" if self.rng.random() < 0.15 else name

    def person(self, sex, surname, generation, town, line=None):
        """A new person (of a line of their own unless given), or None once the graph is full."""
        if self.full():
            return None
        n = len(self.people) + 1
        year = self.base_year(generation) + self.rng.randint(-BIRTH_SPREAD, BIRTH_SPREAD)
        person = Person(n, self.given(sex), surname, sex, self.date(year), generation, town,
                        n if line is None else line)
        person.death = self.death(year)
        self.people.append(person)
        return person

    def death(self, year):
        """Everyone born before ALL_DEAD_BEFORE has died; after that, more of the older."""
        age = THIS_YEAR - year
        if year >= ALL_DEAD_BEFORE and self.rng.random() >= (age - 55) / 45:
            return None
        died = min(year + self.rng.randint(45, 95), THIS_YEAR - 1)
        return self.date(max(died, year + 1))

    def founders(self):
        """The first generation, enough that the growth reaches `size` by the last one
        (`surplus` more: the last generation is cut where the graph is full)."""
        born_share = 1 / (1 + MARRY * (1 - WITHIN))  # the rest marry in from outside
        total = sum(GROWTH ** g for g in range(self.generations))
        count = max(4, math.ceil(self.size * born_share / total * self.surplus))
        return [self.person("M" if i % 2 == 0 else "F", self.rng.choice(SURNAMES), 0, i % len(TOWNS))
                for i in range(count)]

    def spouse_from_outside(self, partner):
        sex = "F" if partner.sex == "M" else "M"
        return self.person(sex, self.rng.choice(SURNAMES), partner.generation, partner.town)

    def family(self, husband, wife):
        town = husband.town if self.rng.random() >= MOVE else self.rng.randrange(len(TOWNS))
        family = Family(len(self.families) + 1, husband, wife, town, divorced=self.rng.random() < DIVORCED)
        family.married = max(husband.birth[0], wife.birth[0]) + self.rng.randint(19, 28)
        husband.fams.append(family.n)
        wife.fams.append(family.n)
        self.families.append(family)
        return family

    def partner_town(self, town):
        if self.rng.random() < NEARBY:
            return (town + self.rng.choice((-1, 0, 0, 1))) % len(TOWNS)
        return self.rng.randrange(len(TOWNS))

    def marry(self, cohort):
        """Couples of one generation: some marry each other (another paternal line, mostly
        nearby), others someone from outside the file; some stay single."""
        rng = self.rng
        marrying = [p for p in cohort if rng.random() < MARRY]
        rng.shuffle(marrying)
        within = [p for p in marrying if rng.random() < WITHIN]
        inside = {id(p) for p in within}
        brides: dict[int, list[Person]] = {}
        for p in within:
            if p.sex == "F":
                brides.setdefault(p.town, []).append(p)
        couples, single = [], [p for p in marrying if id(p) not in inside]
        for man in (p for p in within if p.sex == "M"):
            wife = self.bride_for(man, brides)
            if wife:
                couples.append((man, wife))
            else:
                single.append(man)
        single += [p for town in brides.values() for p in town]
        for p in single:
            spouse = self.spouse_from_outside(p)
            if spouse is None:
                break
            couples.append((p, spouse) if p.sex == "M" else (spouse, p))
        return [self.family(husband, wife) for husband, wife in couples]

    def bride_for(self, man, brides):
        """A woman of another line from a town near `man`'s (a few tries), taken off the list."""
        for _ in range(4):
            candidates = brides.get(self.partner_town(man.town))
            if not candidates:
                continue
            for _ in range(min(len(candidates), 3)):
                j = self.rng.randrange(len(candidates))
                if candidates[j].line != man.line:
                    candidates[j], candidates[-1] = candidates[-1], candidates[j]
                    return candidates.pop()
        return None

    def children(self, families, generation, target):
        """`target` children spread over `families` (0-5 each, drawn a little generously,
        and no more once there are `target`: the growth is the same at any size)."""
        rng = self.rng
        share = min(1.0, 1.1 * target / max(1, 5 * len(families)))
        born = []
        order = list(families)
        rng.shuffle(order)
        for family in order:
            count = min(sum(rng.random() < share for _ in range(5)), target - len(born))
            for _ in range(count):
                sex = rng.choice("MF")
                child = self.person(sex, family.husband.surname, generation, family.town, line=family.husband.line)
                if child is None:
                    return born
                child.famc = family.n
                family.children.append(child)
                born.append(child)
            if family.children:
                family.married = min(family.married, min(c.birth[0] for c in family.children) - rng.randint(0, 2))
        return born

    def build(self):
        cohort = self.founders()
        generation = 0
        while cohort and not self.full() and generation < self.generations - 1:
            families = self.marry(cohort)
            generation += 1
            cohort = self.children(families, generation, round(len(cohort) * GROWTH))
        return self.people, self.families


def generate(size, generations=GENERATIONS, seed=SEED):
    """(people, families) of a family graph of `size` people in `generations`: with more
    founders when the growth fell short."""
    surplus = 1.03
    while True:
        people, families = _Builder(size, generations, seed, surplus).build()
        if len(people) >= size:
            return people, families
        surplus *= 1.1


def _gedcom_date(date):
    year, month, day = date
    return f"{day} {MONTHS[month - 1]} {year}"


def _individual_lines(p):
    yield f"0 @I{p.n}@ INDI"
    yield f"1 NAME {p.given} /{p.surname}/"
    yield f"1 SEX {p.sex}"
    yield "1 BIRT"
    yield f"2 DATE {_gedcom_date(p.birth)}"
    yield f"2 PLAC {TOWNS[p.town]}"
    if p.death:
        yield "1 DEAT"
        yield f"2 DATE {_gedcom_date(p.death)}"
    if p.famc:
        yield f"1 FAMC @F{p.famc}@"
    for family in p.fams:
        yield f"1 FAMS @F{family}@"


def _family_lines(f):
    yield f"0 @F{f.n}@ FAM"
    yield f"1 HUSB @I{f.husband.n}@"
    yield f"1 WIFE @I{f.wife.n}@"
    yield "1 MARR"
    yield f"2 DATE {f.married}"
    yield f"2 PLAC {TOWNS[f.town]}"
    if f.divorced:
        yield "1 DIV Y"
    for child in f.children:
        yield f"1 CHIL @I{child.n}@"


def write_gedcom(people, families, path):
    """The graph as a GEDCOM 5.5.1 file in UTF-8; its size in bytes."""
    head = ["0 HEAD", "1 SOUR HEIRLOOM_BENCH", "2 NAME Heirloom bench generator", "1 GEDC", "2 VERS 5.5.1",
            "2 FORM LINEAGE-LINKED", "1 CHAR UTF-8", "0 @SUBM1@ SUBM", "1 NAME Heirloom bench"]
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write("\n".join(head) + "\n")
        for p in people:
            out.write("\n".join(_individual_lines(p)) + "\n")
        for f in families:
            out.write("\n".join(_family_lines(f)) + "\n")
        out.write("0 TRLR\n")
    return Path(path).stat().st_size


# ---------------------------------------------------------------------------------------
# Reading the file back: the checks, and the graph the offline paths walk


def read_gedcom(path):
    """(header, individuals, families): the header's tags and the first and last line;
    xref → name, sex, birth and death, and the pointers of each record."""
    header, individuals, families = {}, {}, {}
    record = event = None
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    for line in lines:
        level, rest = line.split(" ", 1)
        if level == "0":
            event = None
            if rest.startswith("@"):
                xref, tag = rest[1:].split("@ ", 1)
                if tag == "INDI":
                    record = individuals[xref] = {"famc": [], "fams": []}
                elif tag == "FAM":
                    record = families[xref] = {"husb": [], "wife": [], "chil": []}
                else:
                    record = {"famc": [], "fams": []}  # read, not kept
            else:
                record = header if rest == "HEAD" else {}
            continue
        tag, _, value = rest.partition(" ")
        if record is header:
            header[tag] = value or header.get(tag, "")
        elif level == "1":
            event = tag
            key = tag.lower()
            if key in ("famc", "fams", "husb", "wife", "chil"):
                record[key].append(value.strip("@"))
            elif key in ("name", "sex"):
                record[key] = value
            elif key in ("birt", "deat"):
                record[key] = {}
        elif level == "2" and event in ("BIRT", "DEAT") and tag in ("DATE", "PLAC"):
            record[event.lower()][tag.lower()] = value
    return {"first": lines[0], "last": lines[-1], **header}, individuals, families


def _year(event):
    return int(event["date"].rsplit(" ", 1)[-1]) if event and "date" in event else None


def check_structure(header, individuals):
    """Problems with the file as GEDCOM 5.5.1 and with each record's own fields."""
    problems = []
    expect = {"first": "0 HEAD", "last": "0 TRLR", "VERS": "5.5.1", "CHAR": "UTF-8"}
    problems += [f"header {key} is {header.get(key)!r}, not {value!r}" for key, value in expect.items()
                 if header.get(key) != value]
    for xref, p in individuals.items():
        name = p.get("name", "")
        if name.count("/") != 2 or not name.split("/")[0].strip() or p.get("sex") not in ("M", "F"):
            problems.append(f"{xref}: name {name!r} or sex {p.get('sex')!r}")
        birth = _year(p.get("birt"))
        if birth is None or not p["birt"].get("plac"):
            problems.append(f"{xref}: no dated birth in a place")
        elif birth < ALL_DEAD_BEFORE and not p.get("deat"):
            problems.append(f"{xref}: born {birth} and living")
    return problems


def check_links(individuals, families):
    """Problems with the pointers: each resolves, both sides agree, two birth parents at
    most, partners of the right sex."""
    problems = []
    for xref, f in families.items():
        for role, sex in (("husb", "M"), ("wife", "F")):
            if len(f[role]) > 1:
                problems.append(f"{xref}: {len(f[role])} {role}")
            for partner in f[role]:
                p = individuals.get(partner)
                if p is None:
                    problems.append(f"{xref}: {role} {partner} does not exist")
                elif xref not in p["fams"] or p.get("sex") != sex:
                    problems.append(f"{xref}: {role} {partner} has no FAMS back or is not {sex}")
        for child in f["chil"]:
            if child not in individuals or individuals[child]["famc"] != [xref]:
                problems.append(f"{xref}: child {child} missing or its FAMC is not this family")
    for xref, p in individuals.items():
        if len(p["famc"]) > 1:
            problems.append(f"{xref}: {len(p['famc'])} birth families (more than two parents)")
        for family in p["famc"]:
            if family not in families or xref not in families[family]["chil"]:
                problems.append(f"{xref}: FAMC {family} missing or without this CHIL")
        for family in p["fams"]:
            if family not in families or xref not in families[family]["husb"] + families[family]["wife"]:
                problems.append(f"{xref}: FAMS {family} missing or without this partner")
    return problems


def parents_of(individuals, families):
    """xref → the xrefs of its parents."""
    return {xref: [parent for f in p["famc"] for parent in families[f]["husb"] + families[f]["wife"]]
            for xref, p in individuals.items()}


def generations_or_cycle(individuals, families):
    """(generations, problems): the longest line of descent, counted in people, walking
    parents before children (Kahn); anyone never reached is on a cycle of ancestors or
    descends from one."""
    parents = parents_of(individuals, families)
    children = {xref: [] for xref in individuals}
    waiting = {}
    for child, ps in parents.items():
        waiting[child] = len(ps)
        for parent in ps:
            children[parent].append(child)
    depth = {xref: 1 for xref, n in waiting.items() if n == 0}
    ready = deque(depth)
    problems = []
    while ready:
        person = ready.popleft()
        for child in children[person]:
            depth[child] = max(depth.get(child, 1), depth[person] + 1)
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    for xref in individuals:
        if xref not in depth or waiting[xref] > 0:
            problems.append(f"{xref} is on or below a cycle of ancestors")
        elif any(_year(individuals[xref]["birt"]) - _year(individuals[p]["birt"]) < 15 for p in parents[xref]):
            problems.append(f"{xref} is born less than 15 years after a parent")
    return max(depth.values(), default=0), problems


def adjacency(individuals, families):
    """Person index → neighbours over parent, child and partner edges (the finder's graph)."""
    index = {xref: i for i, xref in enumerate(individuals)}
    edges = [set() for _ in index]
    for f in families.values():
        partners = [index[x] for x in f["husb"] + f["wife"]]
        kids = [index[x] for x in f["chil"]]
        for a in partners:
            edges[a].update(p for p in partners if p != a)
            edges[a].update(kids)
            for k in kids:
                edges[k].add(a)
    return [list(e) for e in edges]


def path_length(edges, start, goal, max_depth=MAX_DEPTH):
    """(steps, people reached), walking from both ends a level at a time, always the side
    with the smaller frontier, as the server's finder does; steps is None beyond
    `max_depth` levels or when unconnected."""
    if start == goal:
        return 0, 1
    sides = [{start: 0}, {goal: 0}]
    frontiers = [[start], [goal]]
    levels = [0, 0]
    while frontiers[0] and frontiers[1] and levels[0] + levels[1] < max_depth:
        s = 0 if len(frontiers[0]) <= len(frontiers[1]) else 1
        seen, other = sides[s], sides[1 - s]
        levels[s] += 1
        following, met = [], None
        for person in frontiers[s]:
            for n in edges[person]:
                if n not in seen:
                    seen[n] = levels[s]
                    following.append(n)
                    if n in other and (met is None or other[n] < other[met]):
                        met = n
        if met is not None:
            return levels[s] + other[met], len(sides[0]) + len(sides[1])
        frontiers[s] = following
    return None, len(sides[0]) + len(sides[1])


def _median_max(values):
    """(median, max) of `values`, (None, None) when empty."""
    values = sorted(values)
    return (values[len(values) // 2], values[-1]) if values else (None, None)


def offline_paths(individuals, families, pairs, seed):
    """Shortest paths between `pairs` random people of the file (what the finder should
    answer, within MAX_DEPTH)."""
    edges = adjacency(individuals, families)
    rng = random.Random(seed)
    lengths, reached = [], []
    for _ in range(pairs):
        steps, people = path_length(edges, rng.randrange(len(edges)), rng.randrange(len(edges)))
        lengths.append(steps)
        reached.append(people)
    found = [n for n in lengths if n is not None]
    steps_p50, steps_max = _median_max(found)
    return {"pairs": pairs, "max_depth": MAX_DEPTH, "found_share": round(len(found) / max(pairs, 1), 3),
            "steps_p50": steps_p50, "steps_max": steps_max, "people_reached_mean": round(sum(reached) / max(pairs, 1))}


def check_file(path, seed=SEED):
    """Reads a generated file back; its figures (people, families, generations, living,
    offline paths), or ValueError listing the first problems."""
    header, individuals, families = read_gedcom(path)
    problems = check_structure(header, individuals) + check_links(individuals, families)
    generations, cycle_problems = generations_or_cycle(individuals, families) if not problems else (0, [])
    problems += cycle_problems
    if problems:
        raise ValueError(f"{path}: {len(problems)} problems, first: " + "; ".join(problems[:5]))
    births = [_year(p["birt"]) for p in individuals.values()]
    parent_edges = sum(len(f["husb"] + f["wife"]) * len(f["chil"]) for f in families.values())
    return {"people": len(individuals), "families": len(families), "generations": generations,
            "born_from": min(births), "born_to": max(births),
            "living": sum(1 for p in individuals.values() if "deat" not in p),
            "without_parents": sum(1 for p in individuals.values() if not p["famc"]),
            "parent_edges": parent_edges,
            "partner_edges": sum(1 for f in families.values() if f["husb"] and f["wife"]),
            "children_per_family": round(sum(len(f["chil"]) for f in families.values()) / max(len(families), 1), 2),
            "offline_paths": offline_paths(individuals, families, OFFLINE_PAIRS, seed)}


def _generate_file(size, path, seed):
    """(bytes, seconds) of generating and writing the file (the graph is let go after)."""
    started = time.monotonic()
    size_bytes = write_gedcom(*generate(size, seed=seed), path)
    return size_bytes, round(time.monotonic() - started, 1)


def make_file(size, path, seed=SEED):
    """Generates, writes and checks a file of `size` people; its figures."""
    size_bytes, seconds = _generate_file(size, path, seed)
    return {"bytes": size_bytes, "generate_s": seconds, **check_file(path, seed)}


# ---------------------------------------------------------------------------------------
# Through HTTP


class _Http:
    """One keep-alive connection as a signed-in member, timing each request."""

    def __init__(self, base, cookie, timeout=60):
        parsed = urllib.parse.urlsplit(base)
        self.base, self.cookie = base, cookie
        self.connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)

    def request(self, method, path, body=None, content_type=None):
        """(status, body bytes, ms); status 0 when the connection failed (reopened next time)."""
        headers = {"Accept": "application/json", "Cookie": self.cookie, "Origin": self.base}
        if body is not None:
            headers.update({"Content-Type": content_type, "Content-Length": str(len(body))})
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()
            return 0, str(error).encode(), (time.perf_counter() - started) * 1000
        return response.status, raw, (time.perf_counter() - started) * 1000

    def get_json(self, path):
        """(status, parsed body or None, ms)."""
        status, raw, ms = self.request("GET", path)
        try:
            return status, json.loads(raw), ms
        except ValueError:
            return status, None, ms

    def close(self):
        self.connection.close()


def _failure(what, status, raw):
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else json.dumps(raw)
    return f"{what} answered {status or 'no response'}: {text[:300]}"


def _stats(run, values):
    """run.py's p50/p95/max, with the p99, of a list of ms."""
    values = sorted(values)
    p99 = round(values[round((len(values) - 1) * 0.99)], 1) if values else None
    return {**run.percentiles(values), "p99_ms": p99}


def member_with_legacies(run, server, names):
    """A member signed up as run.py's `seed` does, with a legacy per name: (cookie, ids)."""
    client = run.Client(server.base)
    client.post("/api/v1/auth/signup", {"email": "bench@example.org", "display_name": "Bench",
                                        "password": "a benchmark password"})
    ids = [client.post("/api/v1/legacies", {"name": name, "born": "1590"})["id"] for name in names]
    return client.cookie(), ids


class RssSampler:
    """The server's VmRSS every RSS_EVERY_S while the block runs: before, peak and after, MiB."""

    def __init__(self, server):
        self.server = server
        self.peak_kib = 0
        self.stopped = threading.Event()

    def sample(self):
        while not self.stopped.is_set():
            self.peak_kib = max(self.peak_kib, self.server.rss_kib("VmRSS"))
            self.stopped.wait(RSS_EVERY_S)

    def __enter__(self):
        self.before_kib = self.server.rss_kib("VmRSS")
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stopped.set()
        self.thread.join()
        self.after_kib = self.server.rss_kib("VmRSS")
        self.peak_kib = max(self.peak_kib, self.after_kib)

    def figures(self):
        return {"before_mib": round(self.before_kib / 1024, 1), "peak_mib": round(self.peak_kib / 1024, 1),
                "after_mib": round(self.after_kib / 1024, 1)}


def _report_summary(report):
    skipped = report.get("skipped") or []
    return {key: report.get(key) for key in ("created", "updated", "unchanged", "relationships_added")} | {
        "skipped": len(skipped), "skipped_examples": skipped[:3]}


def wait_for_job(http, job):
    """Polls an import job until it is done or failed: (final job, polls, error or None)."""
    polls, deadline = 0, time.monotonic() + IMPORT_TIMEOUT_S
    while job.get("status") not in ("done", "failed"):
        if time.monotonic() > deadline:
            return job, polls, f"job not finished within {IMPORT_TIMEOUT_S} s"
        time.sleep(POLL_S)
        status, body, _ = http.get_json(f"/api/v1/gedcom-imports/{job['id']}")
        polls += 1
        if status != 200 or not isinstance(body, dict):
            return job, polls, _failure("GET /api/v1/gedcom-imports/{job}", status, body)
        job = body
    return job, polls, None


def _send(http, legacy_id, file_name, data):
    """POSTs the file and follows its job when it gets one: {status, report | error, and
    for a job accepted_ms and where it ended}."""
    path = f"/api/v1/legacies/{legacy_id}/gedcom?file_name={urllib.parse.quote(file_name)}"
    status, raw, ms = http.request("POST", path, data, "text/vnd.familysearch.gedcom")
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    out = {"status": status}
    if status == 200 and isinstance(body, dict):
        return out | {"report": _report_summary(body)}
    if status != 202 or not isinstance(body, dict):
        return out | {"error": _failure("POST /api/v1/legacies/{id}/gedcom", status, raw)}
    job, polls, error = wait_for_job(http, body)
    out |= {"accepted_ms": round(ms, 1), "job": {key: job.get(key) for key in ("status", "processed", "total")}
            | {"polls": polls}}
    if error:
        return out | {"error": error}
    if job.get("status") == "failed":
        return out | {"error": f"import job failed: {json.dumps(job.get('error') or job.get('errors'))[:300]}"}
    return out | {"report": _report_summary(job.get("report") or {})}


def import_file(server, cookie, legacy_id, path):
    """Sends the file to the legacy's GEDCOM endpoint and waits for its report: the wall
    time, what the report says, and the server's RSS meanwhile."""
    http = _Http(server.base, cookie, timeout=IMPORT_TIMEOUT_S)
    data = Path(path).read_bytes()
    with RssSampler(server) as rss:
        started = time.monotonic()
        out = _send(http, legacy_id, f"bench-{Path(path).name}", data)
        wall_s = round(time.monotonic() - started, 2)
    http.close()
    return {"bytes": len(data), **out, "wall_s": wall_s, "rss": rss.figures()}


def people_ids(run, http, legacy_id):
    """Ids of the legacy's people, SAMPLE_PAGES pages of 200 (0: all): (ids, figures)."""
    ids, times, cursor, pages = [], [], None, 0
    while True:
        query = "limit=200" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        status, body, ms = http.get_json(f"/api/v1/legacies/{legacy_id}/people?{query}")
        if status != 200 or not isinstance(body, dict):
            raise RuntimeError(_failure("GET /api/v1/legacies/{id}/people", status, body))
        ids += [item["id"] for item in body["items"]]
        times.append(ms)
        pages += 1
        cursor = body.get("next_cursor")
        if not cursor or pages == SAMPLE_PAGES:
            if len(ids) < 2:
                raise RuntimeError(f"the legacy lists {len(ids)} people")
            return ids, {"pages": pages, "people": len(ids), "all": not cursor, "page_ms": _stats(run, times)}


def relationship_paths(ids, count, rng):
    return [f"/api/v1/people/{a}/relationship/{b}" for a, b in (rng.sample(ids, 2) for _ in range(count))]


def tree_paths(ids, count, rng):
    return [f"/api/v1/people/{rng.choice(ids)}/tree?{TREE_QUERY}" for _ in range(count)]


def _share(answers, key):
    return round(sum(1 for a in answers if a.get(key)) / max(len(answers), 1), 3)


def relationship_facts(answers, _sizes):
    """Found, capped and path length from the relationship answers."""
    found = [a for a in answers if a.get("found")]
    steps_p50, steps_max = _median_max(len(a.get("path") or []) for a in found)
    return {"found_share": _share(answers, "found"), "capped_share": _share(answers, "capped"),
            "steps_p50": steps_p50, "steps_max": steps_max, "examples": [a.get("sentence") for a in found[:3]]}


def tree_facts(answers, sizes):
    """People per tree, truncated share and bytes from the tree answers."""
    people_p50, people_max = _median_max(len(a.get("people") or []) for a in answers)
    return {"people_p50": people_p50, "people_max": people_max, "truncated_share": _share(answers, "truncated"),
            "bytes_p50": _median_max(sizes)[0]}


def sequential(run, http, paths, facts):
    """Each path once, one after another on one connection: latency, errors and what the
    answers say (`facts` of the parsed 200s and their sizes)."""
    times, answers, sizes, errors = [], [], [], {}
    for path in paths:
        status, raw, ms = http.request("GET", path)
        if status != 200:
            errors.setdefault(status, _failure(f"GET {path}", status, raw))
            continue
        try:
            answers.append(json.loads(raw))
        except ValueError:
            errors.setdefault("200", _failure(f"GET {path} (not JSON)", status, raw))
            continue
        times.append(ms)
        sizes.append(len(raw))
    out = {"requests": len(paths), "ok": len(times), **_stats(run, times), **facts(answers, sizes)}
    if errors:
        out["errors"] = {str(status): text for status, text in errors.items()}
    return out


def wrk_rows(run, server, cookie, paths, directory, name):
    """wrk rotating through `paths` at each of CONNECTIONS; a row with `error` for a failure."""
    paths_file = Path(directory) / f"{name}.paths"
    paths_file.write_text("\n".join(paths) + "\n")
    rows = []
    for c in CONNECTIONS:
        try:
            rows.append(run.wrk(server, c, "search_paths.lua", "/",
                                {"BENCH_COOKIE": cookie, "BENCH_PATHS_FILE": str(paths_file)}))
        except (OSError, subprocess.CalledProcessError, StopIteration) as error:
            rows.append({"connections": c, "error": f"wrk: {error}"})
    return rows


def latency(run, server, cookie, paths, directory, name, facts):
    """The sequential pass and the wrk rows for one kind of request; only the sequential
    pass (with its error) when the endpoint does not answer 200."""
    http = _Http(server.base, cookie)
    try:
        result = {"sequential": sequential(run, http, paths[:QUERIES], facts)}
    finally:
        http.close()
    if result["sequential"]["ok"] == 0:
        result["error"] = next(iter(result["sequential"].get("errors", {}).values()), "no answers")
        return result
    result["wrk"] = wrk_rows(run, server, cookie, paths, directory, name)
    return result


def queries(run, server, cookie, legacy_id, directory):
    """Relationship and tree latency on the legacy's people."""
    http = _Http(server.base, cookie)
    try:
        ids, listing = people_ids(run, http, legacy_id)
    finally:
        http.close()
    rng = random.Random(SEED + 1)
    count = max(WRK_PATHS, QUERIES)
    return {"listing": listing,
            "relationship": latency(run, server, cookie, relationship_paths(ids, count, rng), directory,
                                    "relationship", relationship_facts),
            "tree": latency(run, server, cookie, tree_paths(ids, count, rng), directory, "tree", tree_facts)}


def _guarded(part, *args):
    """A part's figures, or its error: one part failing must not cost the others."""
    try:
        return part(*args)
    except Exception as error:  # noqa: BLE001 - recorded in the result, the run goes on
        return {"error": f"{type(error).__name__}: {error}"}


def people_bench(run, binary, site, database_url=None, engine="SQLite"):
    """The generated files, the two imports and the latency rows (see the module docstring)."""
    directory = tempfile.mkdtemp(prefix="heirloom-bench-people-")
    try:
        paths = {"import": Path(directory) / "import.ged", "graph": Path(directory) / "graph.ged"}
        files = {"import": make_file(IMPORT_PEOPLE, paths["import"]), "graph": make_file(PEOPLE, paths["graph"])}
        server = run.Server(binary, site, database_url)
        try:
            result = {"engine": engine, "files": files, "idle_rss_mib": round(server.rss_kib("VmRSS") / 1024, 1)}
            cookie, (small, large) = member_with_legacies(
                run, server, [f"Generated family ({IMPORT_PEOPLE} people)", f"Generated family ({PEOPLE} people)"])
            result["imports"] = {}
            for key, legacy in (("import", small), ("graph", large)):
                result["imports"][key] = _guarded(import_file, server, cookie, legacy, paths[key])
                # The events of the import (one per person and relationship) handled first.
                result["imports"][key]["events_settled_s"] = run.settled(server, SETTLE_S)
                # What the consumers still had to handle when the run went on without them.
                lag = run.metric_values(server.base, "heirloom_event_consumer_lag")
                result["imports"][key]["events_left"] = max(lag, default=0)
            result["queries"] = _guarded(queries, run, server, cookie, large, directory)
            result["peak_rss_mib"] = round(server.rss_kib("VmHWM") / 1024, 1)
        finally:
            server.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    result["targets"] = targets(result)
    return result


# ---------------------------------------------------------------------------------------
# Targets and the report


def targets(result):
    """The issue's targets this run has figures for: [{target, measured, met}]."""
    rows = []
    engine = result["engine"]

    def check(target, value, unit, limit):
        rows.append({"target": target, "measured": f"{value} {unit}", "met": value < limit})

    small = result.get("imports", {}).get("import", {})
    if small.get("report") and "error" not in small:
        check(f"GEDCOM import of {result['files']['import']['people']} people < {IMPORT_TARGET_S} s ({engine})",
              small["wall_s"], "s", IMPORT_TARGET_S)
    people = result["files"]["graph"]["people"]
    for kind, limit in (("relationship", RELATIONSHIP_P95_MS), ("tree", TREE_P95_MS)):
        figures = result.get("queries", {}).get(kind, {})
        label = f"{kind} query p95 < {limit} ms ({engine}, {people} people"
        if figures.get("sequential", {}).get("ok"):
            check(f"{label}, sequential)", figures["sequential"]["p95_ms"], "ms", limit)
        for row in figures.get("wrk", []):
            if "error" not in row:
                check(f"{label}, wrk {row['connections']} conn)", row["p95_ms"], "ms", limit)
    return rows


def _file_line(name, f):
    o = f["offline_paths"]
    return (f"| {name} | {f['people']} | {f['families']} | {f['generations']} | {f['born_from']}-{f['born_to']} | "
            f"{f['living']} | {f['parent_edges'] + f['partner_edges']} | {f['bytes'] / 1e6:.1f} | {f['generate_s']} | "
            f"{o['found_share'] * 100:.0f}% | {o['steps_p50']} / {o['steps_max']} | {o['people_reached_mean']} |")


def _import_line(name, i):
    cell = lambda text: text.replace("|", "\\|").replace("\n", " ")
    if "rss" not in i:  # the request itself raised
        return f"| {name} | failed: {cell(i['error'])} |" + " |" * 6
    r, rss = i.get("report", {}), i["rss"]
    how = f"202 + job ({i['job']['polls']} polls)" if "job" in i else str(i["status"])
    settled = i.get("events_settled_s") or f"not within {SETTLE_S} s ({i.get('events_left', '?')} events left)"
    if "error" in i:
        how += f", failed: {cell(i['error'])}"
    return (f"| {name} | {how} | {i['wall_s']} | {r.get('created', '—')} | {r.get('relationships_added', '—')} | "
            f"{r.get('skipped', '—')} | {rss['before_mib']} / {rss['peak_mib']} / {rss['after_mib']} | "
            f"{settled} |")


def _latency_lines(run, kind, figures):
    """A kind's sequential pass in words, then its wrk rows."""
    if "sequential" not in figures:
        return [f"{kind}: failed: {figures['error']}", ""]
    s = figures["sequential"]
    if not s["ok"]:
        return [f"{kind}: none of {s['requests']} requests answered 200: {figures.get('error')}", ""]
    said = (f"{kind}, {s['requests']} requests one after another on one connection: {s['ok']} answered 200, p50 "
            f"{s['p50_ms']} ms, p95 {s['p95_ms']} ms, p99 {s['p99_ms']} ms, max {s['max_ms']} ms.")
    if kind == "relationship":
        said += (f" Found {s['found_share'] * 100:.0f}%, capped {s['capped_share'] * 100:.0f}%, steps p50 "
                 f"{s['steps_p50']}, max {s['steps_max']}; e.g. " + "; ".join(f"“{e}”" for e in s["examples"]) + ".")
    if kind == "tree":
        said += (f" People per tree p50 {s['people_p50']}, max {s['people_max']}; truncated "
                 f"{s['truncated_share'] * 100:.0f}%; answer p50 {s['bytes_p50']} bytes.")
    lines = [said, ""]
    if "error" in figures:
        lines += [f"Not measured further: {figures['error']}", ""]
    rows = figures.get("wrk", [])
    if any("error" not in r for r in rows):
        lines += run.wrk_table({f"{kind} (wrk, rotating paths)": [r for r in rows if "error" not in r]}) + [""]
    failed = [f"wrk at {r['connections']} connections failed: {r['error']}" for r in rows if "error" in r]
    return lines + (failed + [""] if failed else [])


def people_markdown(result, run):
    """The `## People` section: the files, the imports and the latency rows (`run` gives
    run.py's wrk table)."""
    lines = ["", f"## People ({result['engine']}, generated family graph)", "",
             "Generated GEDCOM 5.5.1 files (checked after writing: pointers resolve both ways, one birth family per "
             f"person, no one their own ancestor). Offline paths: {OFFLINE_PAIRS} random pairs walked from both ends "
             f"over parent, child and partner steps within {MAX_DEPTH} levels, as the finder does:", "",
             "| file | people | families | generations | born | living | relationships | MB | generated s "
             "| offline found | offline steps p50 / max | offline people reached |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    lines += [_file_line(name, f) for name, f in result["files"].items()]
    lines += ["", f"Imports (`POST /api/v1/legacies/{{id}}/gedcom`, each into a new legacy; idle RSS before "
              f"{result.get('idle_rss_mib')} MiB, peak over the run {result.get('peak_rss_mib')} MiB):", "",
              "| file | answer | wall s | created | relationships | skipped | RSS MiB before / peak / after "
              "| events settled s |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    lines += [_import_line(name, i) for name, i in result.get("imports", {}).items()]
    q = result.get("queries", {})
    lines += [""]
    if "error" in q and "listing" not in q:
        lines += [f"Queries: failed: {q['error']}", ""]
    elif q:
        listing = q["listing"]
        lines += [f"On the {result['files']['graph']['people']}-people legacy, {listing['people']} people from "
                  f"{listing['pages']} pages of 200 by surname ({'all' if listing['all'] else 'the first pages'}; "
                  f"page p50 {listing['page_ms'].get('p50_ms')} ms), random pairs and people "
                  f"(`/tree?{TREE_QUERY}`). The targets are in the table at the end.", ""]
        for kind in ("relationship", "tree"):
            lines += _latency_lines(run, kind, q[kind])
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python3 bench/people.py PEOPLE FILE (writes and checks a generated GEDCOM file)")
    print(json.dumps(make_file(int(sys.argv[1]), Path(sys.argv[2])), indent=2))
