"""The police's certificate forms and the purposes/legal bases they offer.

Seeded by a data migration so every installation starts with the forms of
docs/architecture.md, D1; administrators change them in the admin when the police do.
"""

STANDARD_KINDS = [
    # code, name, sort order, legal bases / purposes offered on the police form
    (
        "child",
        "Børneattest",
        10,
        [
            "Ansættelse i børnefagligt område",
            "Pårørende til ansat i børnefagligt område",
        ],
    ),
    (
        "criminal_public",
        "Offentlig straffeattest",
        20,
        [
            "Ansættelse i sociale servicefag (serviceloven §§ 83 og 85)",
            "Ansættelse i folkeskolen (direkte kontakt med elever)",
            "Ansættelse som personlig hjælper (serviceloven §§ 52, 54 og 74)",
            "Ansættelse ved dag-, døgn- og rådgivningstilbud for børn og unge",
        ],
    ),
    ("criminal_private", "Privat straffeattest", 30, ["Uden lovhjemmel (privat straffeattest)"]),
]


POLICE_FORM_URLS = {
    "child": "https://politi.dk/boerneattest",
    "criminal_public": "https://politi.dk/straffeattest",
    "criminal_private": "https://politi.dk/straffeattest",
}


def ensure_standard_catalogue(kind_model, basis_model) -> None:
    """Create the standard kinds and legal bases that are missing; never changes existing ones.

    Takes the model classes so a migration can pass its historical models.
    """
    for code, name, sort_order, bases in STANDARD_KINDS:
        defaults = {"name": name, "sort_order": sort_order}
        # Historical models of early migrations do not have every field yet.
        if any(field.name == "police_form_url" for field in kind_model._meta.fields):
            defaults["police_form_url"] = POLICE_FORM_URLS[code]
        kind, _ = kind_model.objects.get_or_create(code=code, defaults=defaults)
        for text in bases:
            basis_model.objects.get_or_create(kind=kind, text=text)
