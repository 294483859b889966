"""Synthetic people and the noise their names and dates of birth pick up in each record.

Every person is a random combination of common Spanish or English given names and surnames; any
likeness to a real person is a coincidence. Surnames strongly tied to well-known traffickers
are left out of the pools, and aliases are generic ones ("El Güero", "La Flaca").
"""

from __future__ import annotations

import random
from datetime import date
from typing import NamedTuple

SPANISH_MALE: tuple[str, ...] = (
    "José", "Juan", "Luis", "Carlos", "Jorge", "Miguel", "Jesús", "Francisco", "Antonio", "Alejandro",
    "Manuel", "Pedro", "Ricardo", "Roberto", "Fernando", "Eduardo", "Javier", "Raúl", "Sergio", "Arturo",
    "Alberto", "Enrique", "Ignacio", "Héctor", "Óscar", "Rubén", "Martín", "Gerardo", "Ramón", "Andrés",
    "Mario", "Víctor", "Daniel", "Alfredo", "Ernesto", "Rogelio", "Saúl", "Adrián", "Guillermo", "Gustavo",
    "Rafael", "Julio", "Hugo", "Joel", "Iván", "Omar", "Ángel", "Efraín", "Salvador", "Abel",
    "José Luis", "Juan Carlos", "José Antonio", "Miguel Ángel", "Luis Fernando", "Juan Manuel",
    "José Guadalupe", "Jesús Manuel", "Francisco Javier", "José Alfredo", "Juan Pablo", "Carlos Alberto",
)  # fmt: skip
SPANISH_FEMALE: tuple[str, ...] = (
    "María", "Ana", "Guadalupe", "Rosa", "Lucía", "Alejandra", "Patricia", "Verónica", "Gabriela",
    "Claudia", "Leticia", "Adriana", "Elena", "Sofía", "Fernanda", "Mónica", "Carmen", "Dolores",
    "Concepción", "Rosario", "Teresa", "Silvia", "Norma", "Yolanda", "Araceli", "Beatriz", "Brenda",
    "Karina", "Yesenia", "Itzel", "Xóchitl", "Marisol", "Daniela", "Paola", "Jimena",
    "María Guadalupe", "María José", "Ana María", "María del Carmen", "María de los Ángeles",
    "María Fernanda", "Rosa María", "María Elena",
)  # fmt: skip
ENGLISH_MALE: tuple[str, ...] = (
    "James", "Robert", "Michael", "William", "David", "Richard", "Joseph", "Thomas", "Christopher",
    "Daniel", "Matthew", "Anthony", "Mark", "Steven", "Kevin", "Brian", "Jason", "Justin", "Brandon",
    "Tyler", "Cody", "Travis", "Dustin", "Ryan", "Kyle", "Jeremy", "Aaron", "Eric",
)  # fmt: skip
ENGLISH_FEMALE: tuple[str, ...] = (
    "Mary", "Linda", "Sarah", "Jennifer", "Elizabeth", "Jessica", "Ashley", "Amanda", "Melissa",
    "Stephanie", "Nicole", "Heather", "Amber", "Brittany", "Crystal", "Kimberly", "Emily", "Megan",
    "Rachel", "Samantha",
)  # fmt: skip
ENGLISH_MIDDLE_MALE = ("Lee", "Wayne", "Allen", "Ray", "Dean", "Edward", "James", "Lynn")
ENGLISH_MIDDLE_FEMALE = ("Ann", "Marie", "Lynn", "Renee", "Nicole", "Jo")
SPANISH_SURNAMES: tuple[str, ...] = (
    "Ramírez", "Hernández", "García", "López", "Martínez", "Pérez", "González", "Rodríguez", "Sánchez",
    "Flores", "Gómez", "Díaz", "Reyes", "Morales", "Cruz", "Ortiz", "Gutiérrez", "Chávez", "Ramos",
    "Ruiz", "Mendoza", "Álvarez", "Castillo", "Jiménez", "Vásquez", "Moreno", "Romero", "Herrera",
    "Medina", "Aguilar", "Vargas", "Castro", "Guerrero", "Rojas", "Contreras", "Domínguez", "Salazar",
    "Luna", "Ortega", "Delgado", "Soto", "Estrada", "Núñez", "Ríos", "Valdez", "Mejía", "Sandoval",
    "Ibarra", "Rosales", "Acosta", "Navarro", "Campos", "Vega", "Carrasco", "Espinoza", "Juárez",
    "Salinas", "Figueroa", "Maldonado", "Velázquez", "Cabrera", "Zúñiga", "Muñoz", "Peña", "Solís",
    "Quiñones", "Villarreal", "Garza", "Tamez", "Saldaña", "Cantú", "Barraza", "Ochoa", "Bustamante",
    "Valenzuela", "Zamora", "Arriaga", "Olvera", "Orozco", "Esquivel", "Lozano", "Benavides",
    "Montemayor", "Leal", "Galván", "Sepúlveda", "Elizondo", "Robles", "Meléndez", "Arce", "Lara",
    "Zepeda", "Nava", "Pacheco", "Bañuelos", "Anaya", "Valencia", "Trujillo", "Téllez", "Córdova",
    "Rentería", "Chacón", "Ávila", "Márquez", "Sosa", "Tapia", "Cisneros", "Magaña", "Ybarra",
)  # fmt: skip
PARTICLE_SURNAMES: tuple[str, ...] = (
    "de la Cruz", "de la Rosa", "del Río", "de León", "de los Santos", "de la Garza", "de la Torre",
    "del Ángel", "de la Fuente", "de los Reyes", "del Valle", "de Anda",
)  # fmt: skip
ENGLISH_SURNAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor",
    "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker",
    "Hall", "Allen", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill",
    "Campbell", "Mitchell", "Carter", "Roberts", "Turner", "Parker", "Collins", "Edwards", "Stewart",
    "Morris", "Murphy", "Cook", "Rogers", "Bell", "Bailey", "Cooper", "Howard", "Ward", "Cox", "Gray",
    "Watson", "Brooks", "Kelly", "Sanders", "Price", "Bennett", "Wood", "Barnes", "Ross", "Henderson",
    "Coleman", "Jenkins", "Perry", "Powell", "Long", "Patterson", "Hughes", "Butler", "Simmons",
    "Foster", "Bryant", "Russell", "Griffin", "Hayes", "Myers", "Ford", "Graham", "Sullivan", "Wallace",
    "West", "Cole", "Hunt", "Black", "Stone", "Hoffman", "Meyer",
)  # fmt: skip
NICKNAMES: dict[str, tuple[str, ...]] = {
    "José": ("Pepe", "Chepe"),
    "José Luis": ("Pepe", "Joselo"),
    "José Antonio": ("Toño", "Pepe"),
    "José Guadalupe": ("Lupe", "Pepe"),
    "José Alfredo": ("Fredy",),
    "Francisco": ("Paco", "Pancho", "Kiko"),
    "Francisco Javier": ("Paco", "Pancho"),
    "Jesús": ("Chuy", "Chucho"),
    "Jesús Manuel": ("Chuy",),
    "Ignacio": ("Nacho",),
    "Guadalupe": ("Lupe", "Lupita"),
    "María Guadalupe": ("Lupita", "Lupe"),
    "Alejandro": ("Alex", "Jando"),
    "Roberto": ("Beto",),
    "Alberto": ("Beto",),
    "Carlos Alberto": ("Beto", "Charly"),
    "Eduardo": ("Lalo",),
    "Enrique": ("Kike",),
    "Manuel": ("Manolo", "Meme"),
    "Juan Manuel": ("Manolo",),
    "Antonio": ("Toño",),
    "Gerardo": ("Jerry",),
    "Ricardo": ("Richi",),
    "Fernando": ("Nando",),
    "Luis Fernando": ("Luisfer",),
    "Juan Carlos": ("Juanca",),
    "Salvador": ("Chava",),
    "Guillermo": ("Memo",),
    "Gustavo": ("Tavo",),
    "Alfredo": ("Fredy",),
    "Ernesto": ("Neto",),
    "Rafael": ("Rafa",),
    "Rosario": ("Chayo",),
    "Concepción": ("Conchita", "Concha"),
    "Dolores": ("Lola", "Lolita"),
    "Ana María": ("Anita",),
    "María del Carmen": ("Mari", "Carmen"),
    "María José": ("Majo",),
    "Adriana": ("Adri",),
    "Patricia": ("Paty",),
    "Gabriela": ("Gaby",),
    "Leticia": ("Lety",),
    "Verónica": ("Vero",),
    "Alejandra": ("Ale",),
    "Yolanda": ("Yoli",),
    "Teresa": ("Tere",),
    "Beatriz": ("Betty",),
    "Robert": ("Bob", "Bobby", "Rob"),
    "William": ("Bill", "Will"),
    "James": ("Jim", "Jimmy"),
    "Michael": ("Mike",),
    "Richard": ("Rick",),
    "Joseph": ("Joe",),
    "Thomas": ("Tom",),
    "Christopher": ("Chris",),
    "Daniel": ("Dan", "Danny"),
    "Matthew": ("Matt",),
    "Anthony": ("Tony",),
    "Steven": ("Steve",),
    "Elizabeth": ("Liz", "Beth"),
    "Jennifer": ("Jen", "Jenny"),
    "Jessica": ("Jess",),
    "Samantha": ("Sam",),
    "Kimberly": ("Kim",),
    "Stephanie": ("Steph",),
}
ALIASES_MALE: tuple[str, ...] = (
    "El Güero", "El Flaco", "El Gordo", "El Chino", "El Negro", "El Pelón", "El Chaparro", "El Prieto",
    "El Zurdo", "El Tuerto", "El Compa", "El Primo", "El Mudo", "El Cholo", "El Greñas", "El Pollo",
    "El Chivo", "El Tigre", "El Gallo", "El Cuervo", "El Charro", "El Ruso", "El Toro", "El Mono",
    "El Pato", "El Tocayo", "El Sobrino", "El Huesos", "El Cabo", "El Güicho", "El Pariente", "El Morro",
)  # fmt: skip
ALIASES_FEMALE: tuple[str, ...] = ("La Güera", "La Flaca", "La Chiquis", "La Negra", "La Prieta", "La Güerita")

_ACCENTS = str.maketrans("áéíóúüñÁÉÍÓÚÜÑ", "aeiouunAEIOUUN")
_TYPO_LETTERS = "aeiourlnstcdm"


class Person(NamedTuple):
    """One synthetic person as they really are; records show them with noise."""

    pid: str
    given: str  # one or two given names, space-separated
    last1: str  # first (paternal) surname
    last2: str  # second (maternal) surname, "" when the person has one surname
    dob: int  # date of birth, proleptic Gregorian ordinal
    sex: str  # "M" or "F"
    alias: str  # "" when none


def new_person(
    rng: random.Random, pid: str, *, hispanic: float, male: float, born: tuple[int, int], alias: float
) -> Person:
    """A person: Spanish names with probability ``hispanic``; born between the two ordinals."""
    is_male = rng.random() < male
    if rng.random() < hispanic:
        given = rng.choice(SPANISH_MALE if is_male else SPANISH_FEMALE)
        last1 = rng.choice(PARTICLE_SURNAMES) if rng.random() < 0.05 else rng.choice(SPANISH_SURNAMES)
        last2 = rng.choice(PARTICLE_SURNAMES) if rng.random() < 0.04 else rng.choice(SPANISH_SURNAMES)
        if last2 == last1 and rng.random() < 0.8:
            last2 = rng.choice(SPANISH_SURNAMES)
    else:
        given = rng.choice(ENGLISH_MALE if is_male else ENGLISH_FEMALE)
        if rng.random() < 0.25:
            given += " " + rng.choice(ENGLISH_MIDDLE_MALE if is_male else ENGLISH_MIDDLE_FEMALE)
        last1, last2 = rng.choice(ENGLISH_SURNAMES), ""
    nick = rng.choice(ALIASES_MALE if is_male else ALIASES_FEMALE) if rng.random() < alias else ""
    return Person(pid, given, last1, last2, rng.randint(*born), "M" if is_male else "F", nick)


def strip_accents(text: str) -> str:
    return text.translate(_ACCENTS)


def _typo(rng: random.Random, word: str) -> str:
    """One edit: a letter substituted, dropped, doubled, or two neighbours swapped."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.randrange(4)
    if op == 0:
        letter = rng.choice(_TYPO_LETTERS)
        if word[i].isupper():
            letter = letter.upper()
        return word[:i] + letter + word[i + 1 :]
    if op == 1:
        return word[:i] + word[i + 1 :]
    if op == 2:
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def _particle(rng: random.Random, surname: str) -> str:
    """'de la Cruz' as records write it: 'De La Cruz', 'Delacruz', 'Cruz' or unchanged."""
    if not surname.startswith("de") or " " not in surname:
        return surname
    roll = rng.random()
    if roll < 0.5:
        return surname
    if roll < 0.7:
        return " ".join(w.capitalize() for w in surname.split(" "))
    if roll < 0.85:
        return surname.replace(" ", "").capitalize()
    return surname.rsplit(" ", 1)[1]


def noisy_parts(rng: random.Random, p: Person, *, typo: float = 0.05) -> tuple[str, str, str]:
    """The given names and two surnames as one record writes them."""
    rand = rng.random
    given, last1, last2 = p.given, p.last1, p.last2
    roll = rand()
    if roll < 0.08:
        nicks = NICKNAMES.get(given) or NICKNAMES.get(given.split(" ", 1)[0])
        if nicks:
            given = rng.choice(nicks)
    elif roll < 0.2 and " " in given:
        given = given.split(" ", 1)[0]
    elif roll < 0.24 and given.startswith("María "):
        given = "Ma. " + given[6:]
    if last2:
        roll = rand()
        if roll < 0.04:
            last1, last2 = last2, last1
        elif roll < 0.10:
            last2 = ""
    if last1[0] == "d" or last2[:1] == "d":
        last1, last2 = _particle(rng, last1), _particle(rng, last2)
    if rand() < typo:
        part = rng.randrange(3)
        if part == 0:
            given = _typo(rng, given)
        elif part == 1 or not last2:
            last1 = _typo(rng, last1)
        else:
            last2 = _typo(rng, last2)
    roll = rand()
    if roll < 0.3:
        given, last1, last2 = strip_accents(given), strip_accents(last1), strip_accents(last2)
        if roll < 0.15:
            given, last1, last2 = given.upper(), last1.upper(), last2.upper()
    elif roll < 0.35:
        given, last1, last2 = given.upper(), last1.upper(), last2.upper()
    return given, last1, last2


def full_name(rng: random.Random, p: Person, *, mexican_style: float, alias: float) -> str:
    """One name string as a trace record gives it; Mexican records put surnames first, add aliases."""
    given, last1, last2 = noisy_parts(rng, p)
    surnames = f"{last1} {last2}" if last2 else last1
    roll = rng.random()
    if roll < mexican_style:
        name = f"{surnames} {given}"
    elif roll < mexican_style + 0.05:
        name = f"{surnames}, {given}"
    else:
        name = f"{given} {surnames}"
    if p.alias and rng.random() < alias:
        nick = p.alias if rng.random() < 0.7 else strip_accents(p.alias)
        style = rng.randrange(4)
        if style == 0:
            name = f"{name} alias {nick}"
        elif style == 1:
            name = f"{name} (a) {nick}"
        elif style == 2:
            name = f'{name} "{nick}"'
        else:
            name = f"{name} a. {nick.upper()}"
    return name


def noisy_dob(rng: random.Random, p: Person, *, missing: float, transposed: float = 0.04) -> int:
    """The date of birth as a record gives it: 0 when missing, sometimes day and month swapped."""
    roll = rng.random()
    if roll < missing:
        return 0
    if roll < missing + transposed:
        d = date.fromordinal(p.dob)
        if d.day <= 12 and d.day != d.month:
            return date(d.year, d.day, d.month).toordinal()
    return p.dob
