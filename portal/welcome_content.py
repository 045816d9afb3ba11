"""The standard welcome pack, seeded by a data migration; administrators edit it in the admin.

This is content, not interface text: it is written in Danish for the municipality's
staff and changed without a deploy.
"""

GENERAL_SECTIONS = [
    (
        "task",
        "Hvad er opgaven?",
        10,
        """\
Når du ansætter en ny medarbejder, skal kommunen i mange stillinger indhente en straffeattest og/eller en børneattest, før vedkommende begynder. Det er lederens opgave at bestille attesterne. Du kan lade en sekretær i din enhed gøre det for dig.

- Børneattest: kræves ved lov, når den nyansatte får direkte kontakt med børn under 15 år.
- Offentlig straffeattest: kræves i bl.a. skoler, dag- og døgntilbud og i ældre- og handicapområdet.
- Du bestiller for hver ny medarbejder, også vikarer, elever, fleksjobbere og frivillige med fast tilknytning.

Portalen viser kun de attester, der passer til din forvaltning og den valgte stilling.""",
    ),
    (
        "how_to_order",
        "Sådan bestiller du",
        20,
        """\
- Vælg "Ny bestilling" i menuen.
- Udfyld den nyansattes navn, CPR-nummer og første arbejdsdag.
- Vælg stillingen. De påkrævede attester bliver valgt automatisk; valgfrie attester kan du sætte kryds ved.
- Svar på spørgsmålet om kontakt med børn under 15 år, hvis det stilles.
- Sæt kryds, hvis den nyansatte er fritaget for Digital Post. Så skal der bruges en samtykkeerklæring på papir.
- Send bestillingen, og giv den nyansatte brevet om attesterne (PDF på bestillingen).

Lønkontoret bestiller derefter attesterne hos politiet, normalt inden for en arbejdsdag.""",
    ),
    (
        "statuses",
        "Hvad betyder statusserne?",
        30,
        """\
Hver attest på en bestilling har sin egen status. Du kan altid se, hvor langt den er, på bestillingens side, hvor tidslinjen også viser, hvem der har gjort hvad og hvornår.""",
    ),
    (
        "new_hire",
        "Det skal du fortælle den nyansatte",
        40,
        """\
- Politiet sender en anmodning om samtykke til den nyansattes Digital Post (mit.dk eller e-Boks) få dage efter, at lønkontoret har bestilt.
- Den nyansatte skal give samtykke med MitID inden for 14 dage. Ellers giver politiet afslag, og vi skal bestille igen.
- Attesten sendes direkte til kommunen. Den nyansatte får en kopi i Digital Post.
- Personer, der er fritaget for Digital Post, skal underskrive samtykkeerklæringen på papir.

Brevet til den nyansatte (PDF på bestillingen) forklarer det hele.""",
    ),
    (
        "data_protection",
        "Databeskyttelse: gør og gør ikke",
        50,
        """\
Oplysninger om strafbare forhold er særligt beskyttede. Kun de, der har brug for dem i deres arbejde, må se dem.

- Send aldrig et CPR-nummer i en e-mail, heller ikke internt.
- Gem aldrig en kopi af en attest, hverken på papir, på dit drev eller i din mail.
- Bed ikke den nyansatte om selv at vise eller sende dig attesten.
- Skriv kun CPR-nummeret i bestillingsformularen.
- Lønkontoret vurderer attester, der ikke er rene. Du får kun at vide, om personen kan ansættes.

Portalen logger, hvem der har set hvilke personoplysninger, så vi kan svare, hvis en borger spørger.""",
    ),
    (
        "faq",
        "Ofte stillede spørgsmål",
        60,
        """\
Hvor lang tid tager det?
Efter samtykke svarer politiet normalt inden for 5 arbejdsdage for straffeattester og 10 for børneattester.

Hvad hvis den nyansatte ikke får givet samtykke?
Du får en påmindelse på dag 7 og 12. Efter 19 dage uden svar udløber bestillingen, og du kan bestille igen med et klik.

Må den nyansatte begynde, før attesten er kommet?
Nej, ikke i arbejde med børn, før børneattesten er modtaget. Portalen giver dig besked, hvis første arbejdsdag nærmer sig uden attest.

Kan jeg annullere en bestilling?
Ja, så længe lønkontoret ikke har sendt den til politiet.""",
    ),
]


def ensure_general_sections(section_model) -> None:
    """Create the general sections that are missing; never overwrites an edited one."""
    for topic, title, sort_order, body in GENERAL_SECTIONS:
        section_model.objects.get_or_create(
            area=None,
            topic=topic,
            defaults={"title": title, "body": body, "sort_order": sort_order},
        )
