"""Company names that look like a European customer master, and the ways payers garble them.

A name on a bank statement is rarely the name in the ERP: the payer's bank truncates it, the
payer's clerk abbreviates it, drops or changes the legal form, swaps the word order, or writes
'Mueller' for 'Müller' because the payment file only allowed ASCII.
"""

from __future__ import annotations

import random
import unicodedata

_SURNAMES: dict[str, tuple[str, ...]] = {
    "DE": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
           "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf",
           "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann",
           "Hartmann", "Lange", "Weiß", "Köhler", "Jäger", "Groß", "Brückner"),
    "AT": ("Gruber", "Huber", "Bauer", "Wagner", "Pichler", "Steiner", "Moser", "Mayer",
           "Hofer", "Leitner", "Berger", "Fuchs", "Eder", "Fischer", "Schmid", "Winkler",
           "Weber", "Schwarz", "Maier", "Schneider", "Reiter", "Mayr", "Schmidt", "Wimmer"),
    "CH": ("Müller", "Meier", "Schmid", "Keller", "Weber", "Huber", "Meyer", "Schneider",
           "Steiner", "Fischer", "Gerber", "Brunner", "Baumann", "Frei", "Zimmermann",
           "Moser", "Widmer", "Wyss", "Graf", "Roth", "Favre", "Bonvin", "Rochat"),
    "FR": ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
           "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David",
           "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Lefèbvre"),
    "NL": ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen",
           "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos",
           "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra"),
    "BE": ("Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
           "Wouters", "De Smet", "Dubois", "Lambert", "Dupont", "Martens", "Leclercq",
           "Vermeulen", "Van Damme", "Hermans", "Michiels", "Desmet"),
    "IT": ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
           "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa",
           "Giordano", "Rizzo", "Lombardi", "Moretti", "Barbieri", "Fontana"),
    "ES": ("García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez",
           "Pérez", "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno",
           "Muñoz", "Álvarez", "Romero", "Alonso", "Gutiérrez", "Navarro", "Torres"),
    "GB": ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
           "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green",
           "Hall", "Wood", "Jackson", "Clarke", "Harrison", "Whitfield", "Ashworth"),
}

# (industry word, the way a clerk abbreviates it)
_TRADES: dict[str, tuple[tuple[str, str], ...]] = {
    "de": (("Maschinenbau", "Maschb."), ("Logistik", "Log."), ("Elektrotechnik", "Elektrotech."),
           ("Metallbau", "Metallb."), ("Kunststofftechnik", "Kunststofftech."),
           ("Verpackungen", "Verp."), ("Haustechnik", "Haustech."), ("Handelsgesellschaft",
           "Handelsges."), ("Bauunternehmung", "Bauuntern."), ("Feinmechanik", "Feinmech."),
           ("Spedition", "Sped."), ("Lebensmittel", "Lebensm."), ("Automation", "Autom."),
           ("Präzisionsteile", "Präz.teile"), ("Industriebedarf", "Ind.bedarf")),
    "fr": (("Emballages", "Emb."), ("Transports", "Transp."), ("Industrie", "Ind."),
           ("Distribution", "Distrib."), ("Construction", "Constr."), ("Équipements", "Equip."),
           ("Mécanique", "Méca"), ("Services", "Serv."), ("Électricité", "Elec."),
           ("Agroalimentaire", "Agroalim.")),
    "nl": (("Installatietechniek", "Install.techn."), ("Logistiek", "Log."), ("Bouw", "Bouw"),
           ("Techniek", "Techn."), ("Groothandel", "Grooth."), ("Verpakkingen", "Verp."),
           ("Transport", "Transp."), ("Machinebouw", "Machineb."), ("Metaalwerken", "Metaalw.")),
    "it": (("Meccanica", "Mecc."), ("Costruzioni", "Costr."), ("Trasporti", "Trasp."),
           ("Imballaggi", "Imball."), ("Elettronica", "Elettr."), ("Alimentari", "Alim."),
           ("Forniture Industriali", "Forn. Ind."), ("Impianti", "Impianti")),
    "es": (("Construcciones", "Constr."), ("Transportes", "Transp."), ("Suministros", "Sumin."),
           ("Distribuciones", "Distrib."), ("Ingeniería", "Ing."), ("Embalajes", "Embal."),
           ("Maquinaria", "Maq."), ("Alimentación", "Alim.")),
    "en": (("Engineering", "Eng."), ("Logistics", "Log."), ("Packaging", "Pkg"),
           ("Distribution", "Dist."), ("Manufacturing", "Mfg"), ("Supplies", "Supp."),
           ("Construction", "Constr."), ("Components", "Comp."), ("Foods", "Foods"),
           ("Industrial Services", "Ind. Svcs")),
}

_REGIONS: dict[str, tuple[str, ...]] = {
    "de": ("Nord", "Süd", "West", "Ost", "Rhein-Main", "Franken", "Sachsen", "Bayern"),
    "fr": ("Ouest", "Sud", "Nord", "Île-de-France", "Rhône-Alpes", "Atlantique"),
    "nl": ("Noord", "Zuid", "Oost", "West", "Holland", "Brabant"),
    "it": ("Nord", "Sud", "Lombarda", "Veneta", "Emiliana", "Toscana"),
    "es": ("Norte", "Sur", "Levante", "Ibérica", "Mediterráneo", "Castilla"),
    "en": ("North", "South", "Midlands", "Northern", "Western", "Anglia"),
}

# Legal form written out, and the forms a payer may use instead.
_LEGAL_FORMS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "DE": (("GmbH", ("Gmbh", "G.m.b.H.", "")), ("AG", ("", "Aktiengesellschaft")),
           ("GmbH & Co. KG", ("GmbH u. Co. KG", "GmbH&Co KG", "KG")), ("KG", ("", "K.G.")),
           ("e.K.", ("", "e.Kfm."))),
    "AT": (("GmbH", ("Ges.m.b.H.", "Gesmbh", "")), ("AG", ("",)), ("KG", ("",))),
    "CH": (("AG", ("SA", "")), ("GmbH", ("Sàrl", "")), ("SA", ("AG", ""))),
    "FR": (("SARL", ("S.A.R.L.", "")), ("SAS", ("S.A.S.", "")), ("SA", ("S.A.", "")),
           ("EURL", ("",))),
    "NL": (("B.V.", ("BV", "")), ("N.V.", ("NV", "")), ("V.O.F.", ("VOF", ""))),
    "BE": (("NV", ("N.V.", "SA", "")), ("BV", ("B.V.", "SRL", "")), ("SRL", ("BV", "S.R.L.", ""))),
    "IT": (("S.r.l.", ("SRL", "Srl", "")), ("S.p.A.", ("SPA", "Spa", "")), ("S.n.c.", ("SNC",))),
    "ES": (("S.L.", ("SL", "S.L.U.", "")), ("S.A.", ("SA", ""))),
    "GB": (("Ltd", ("Limited", "LTD.", "")), ("plc", ("PLC", "")), ("LLP", ("",))),
}

LANGUAGES: dict[str, tuple[str, ...]] = {
    "DE": ("de",), "AT": ("de",), "CH": ("de", "de", "fr", "it"), "FR": ("fr",),
    "NL": ("nl",), "BE": ("nl", "fr"), "IT": ("it",), "ES": ("es",), "GB": ("en",),
}

_TLD = {"DE": "de", "AT": "at", "CH": "ch", "FR": "fr", "NL": "nl", "BE": "be", "IT": "it",
        "ES": "es", "GB": "co.uk"}
_MAILBOX = {"de": ("buchhaltung", "rechnungswesen", "kreditoren"), "fr": ("comptabilite",
            "fournisseurs"), "nl": ("crediteuren", "administratie"), "it": ("amministrazione",
            "contabilita"), "es": ("contabilidad", "proveedores"), "en": ("accounts.payable",
            "ap", "finance")}


def _trade_language(country: str, language: str) -> str:
    if country in ("DE", "AT") or (country == "CH" and language == "de"):
        return "de"
    if country == "GB":
        return "en"
    if country == "ES":
        return "es"
    if country == "IT" or language == "it":
        return "it"
    if language == "nl":
        return "nl"
    return "fr"


def company_name(country: str, language: str, rng: random.Random, *, regional: bool) -> str:
    """A plausible company name: surname, trade, optional region, legal form."""
    trade_language = _trade_language(country, language)
    surname = rng.choice(_SURNAMES[country])
    trade = rng.choice(_TRADES[trade_language])[0]
    form = rng.choice(_LEGAL_FORMS[country])[0]
    if trade_language in ("fr", "it", "es") and rng.random() < 0.6:
        words = [trade, surname]  # 'Transports Moreau SAS', 'Costruzioni Rossi S.r.l.'
    elif trade_language == "de" and rng.random() < 0.15:
        words = [surname, "&", rng.choice(_SURNAMES[country]), trade]
    else:
        words = [surname, trade]
    if regional:
        words.append(rng.choice(_REGIONS[trade_language]))
    return " ".join([*words, form])


def email_for(name: str, country: str, language: str, rng: random.Random) -> str:
    words = ["".join(c for c in strip_accents(transliterate(w)).lower() if c.isalnum())
             for w in name.split(" ")]
    domain = "-".join([w for w in words if w][:2])
    mailbox = rng.choice(_MAILBOX.get(language, _MAILBOX["en"]))
    return f"{mailbox}@{domain}.{_TLD[country]}"


_TRANSLITERATION = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}


_TRANSLITERATION_TABLE = str.maketrans(_TRANSLITERATION)


def transliterate(text: str) -> str:
    """German umlauts spelled out as SEPA-restricted payment files force them ('Mueller')."""
    return text.translate(_TRANSLITERATION_TABLE)


def strip_accents(text: str) -> str:
    """Accents dropped, as many banks' ASCII-only statement lines do ('Lefevre', 'Muller')."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ß", "ss")


def _legal_form_of(name: str, country: str) -> tuple[str, tuple[str, ...]] | None:
    for form, alternatives in sorted(_LEGAL_FORMS[country], key=lambda f: -len(f[0])):
        if name.endswith(" " + form):
            return form, alternatives
    return None


NAME_VARIANTS = ("abbreviated", "truncated", "legal_form", "word_order", "transliterated",
                 "upper_case")


def name_variant(name: str, country: str, rng: random.Random) -> tuple[str, str]:
    """How a payer's bank may show `name`; returns (variant text, kind of variant)."""
    kind = rng.choice(NAME_VARIANTS)
    if kind == "abbreviated":
        text = name
        for trades in _TRADES.values():
            for word, short in trades:
                text = text.replace(word, short)
        if text != name:
            return text, kind
        kind = "legal_form"
    if kind == "truncated" and len(name) > 20:
        # Many banks keep 35 characters of the name (one SWIFT line); longer names lose the tail.
        limit = 35 if len(name) > 35 else max(12, len(name) - rng.randint(3, 8))
        return name[:limit].rstrip(), kind
    if kind in ("truncated", "legal_form"):
        found = _legal_form_of(name, country)
        if found is not None:
            form, alternatives = found
            replacement = rng.choice(alternatives)
            base = name[: -len(form)].rstrip()
            return (f"{base} {replacement}" if replacement else base), "legal_form"
        kind = "word_order"
    if kind == "word_order":
        found = _legal_form_of(name, country)
        form = found[0] if found else ""
        words = (name[: -len(form)] if form else name).split()
        if len(words) >= 2 and "&" not in words:
            words = [*words[1:], words[0]]
            return " ".join([*words, form]).strip(), kind
        kind = "transliterated"
    if kind == "transliterated":
        text = transliterate(name)
        if text == name:
            text = strip_accents(name)
        if text != name:
            return text, kind
    return strip_accents(name).upper(), "upper_case"
