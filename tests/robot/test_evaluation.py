import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from robot.evaluation import evaluate_text, normalise
from robot.reading import evaluate_file

from .conftest import MANIFEST, blank_pdf, decompression_bomb, encrypted_pdf, sample

CLEAN = "er ikke registreret med afgørelser"
CERT = (
    "RIGSPOLITIET\nBørneattest\nNavn: Ida Berg\nCPR-nr.: 010190-4321\n"
    "Ida Berg {body}, der skal fremgå af en børneattest."
)


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_every_sample_evaluates_to_its_manifest_entry(rules, entry):
    result = evaluate_file(sample(entry["file"]), entry["file"], rules)
    assert (result.kind, result.outcome, result.cpr_masked) == (
        entry["kind"],
        entry["outcome"],
        entry["cpr"],
    )


@pytest.mark.parametrize(
    "text",
    [
        "Er  ikke\u00a0registreret med\nafgørelser",
        "ER IKKE REGISTRERET MED AFGØRELSER",
        "er ikke registre-\nret med afgørelser",
        "er ikke regi\u00adstreret med afgørelser",
        "er ikke registre\u200bret med afgørelser",
    ],
)
def test_the_clean_phrase_survives_layout_noise(text):
    assert CLEAN in normalise(text)


def test_nfkc_folds_compatibility_characters():
    assert normalise("ﬁre\u2003sider") == "fire sider"


@pytest.mark.parametrize(
    "body, outcome",
    [
        ("er ikke registreret med afgørelser", "clean"),
        ("er registreret med følgende afgørelser: fængsel", "not_clean"),
        ("er ikke registreret med afgørelser. Bøde på 500 kr.", "needs_review"),
        ("har intet at berette", "needs_review"),
    ],
)
def test_outcome_rules(rules, body, outcome):
    result = evaluate_text(CERT.format(body=body), rules)
    assert result.outcome == outcome
    assert result.kind == "child" and result.cpr == "0101904321"
    assert result.rules_version == rules.version


def test_a_clean_text_without_a_cpr_number_is_doubtful(rules):
    text = CERT.format(body=CLEAN).replace("010190-4321", "")
    assert evaluate_text(text, rules).outcome == "needs_review"


def test_an_impossible_date_is_not_a_cpr_number(rules):
    text = CERT.format(body=CLEAN).replace("010190-4321", "320190-4321")
    assert evaluate_text(text, rules).cpr is None


def test_two_cpr_numbers_are_doubtful(rules):
    text = CERT.format(body=CLEAN) + "\nSe også 020290-1234."
    result = evaluate_text(text, rules)
    assert result.outcome == "needs_review" and "CPR" in result.reason


def test_two_certificate_kinds_are_doubtful(rules):
    text = CERT.format(body=CLEAN) + " Offentlig straffeattest."
    assert evaluate_text(text, rules).outcome == "needs_review"


def test_evidence_names_the_phrases_and_never_the_cpr(rules):
    result = evaluate_text(CERT.format(body=CLEAN), rules)
    roles = {(e["role"], e["phrase"]) for e in result.evidence}
    assert ("kind", "børneattest") in roles and ("clean", CLEAN) in roles
    assert all("4321" not in e["snippet"] for e in result.evidence)


@pytest.mark.parametrize(
    "data, name, reason_part",
    [
        (encrypted_pdf(), "x.pdf", "krypteret"),
        (sample("boerneattest_ren.pdf")[:1500], "truncated.pdf", ""),
        (blank_pdf(), "scan.pdf", "tekst"),
        (
            b"<html><body>Boerneattest er ikke registreret med afgorelser</body></html>",
            "x.pdf",
            "PDF",
        ),
        (b"junk\n" + sample("boerneattest_ren.pdf"), "x.pdf", "PDF"),
        (b"", "empty.pdf", "PDF"),
    ],
)
def test_hostile_or_broken_files_are_unreadable_not_clean(rules, data, name, reason_part):
    result = evaluate_file(data, name, rules)
    assert result.outcome == "unreadable"
    assert reason_part.lower() in result.reason.lower()


def test_a_decompression_bomb_is_refused_without_eating_memory(rules):
    result = evaluate_file(decompression_bomb(), "bomb.pdf", rules)
    assert result.outcome == "unreadable"


def test_a_message_without_attachment_needs_a_person(rules):
    message = sample("boerneattest_ren.eml").split(b"--===============")[0] + b"\n"
    message = message.replace(b"multipart/mixed", b"text/plain")
    result = evaluate_file(message, "mail.eml", rules)
    assert result.outcome == "needs_review" and "PDF" in result.reason


def test_a_message_whose_notice_disagrees_with_the_pdf_needs_a_person(rules):
    message = sample("boerneattest_ren.eml").replace(b"010190-4321", b"020290-4321")
    result = evaluate_file(message, "mail.eml", rules)
    assert result.outcome == "needs_review" and "CPR" in result.reason


@pytest.mark.parametrize(
    "body",
    [
        # A registration in words the phrase list did not have in its first version.
        "er registreret med afgørelser: vold, 60 dages hæfte",
        "er ikke registreret med afgørelser, bortset fra en dom efter straffeloven § 235",
        "er ikke registreret med afgørelser. Verserende sigtelse for blufærdighedskrænkelse",
        # The clean phrase twice: not the single sentence of a clean certificate.
        "er ikke registreret med afgørelser. Se: er ikke registreret med afgørelser",
        # Invisible characters inside a sign of a registration.
        "er ikke registreret med afgørelser. F\u200bængsel i 3 måneder",
    ],
)
def test_wordings_of_a_registration_are_never_clean(rules, body):
    assert evaluate_text(CERT.format(body=body), rules).outcome != "clean"


def test_a_refusal_word_inside_a_certificate_is_not_a_refusal(rules):
    text = CERT.format(body="er registreret: Afslag på prøveløsladelse, 2019")
    assert evaluate_text(text, rules).outcome != "refused"


@pytest.mark.parametrize("other", ["01.02.90-1234", "010290 - 1234", "01 02 90 1234"])
def test_a_second_cpr_in_a_looser_form_is_doubtful(rules, other):
    text = CERT.format(body=CLEAN) + f" Vedrører også {other}."
    assert evaluate_text(text, rules).outcome == "needs_review"


def test_evidence_never_keeps_part_of_a_cpr_number(rules):
    text = (
        CERT.format(body=CLEAN).replace("CPR-nr.: 010190-4321\n", "")
        + " 01.01.90-4321 er ikke registreret"
    )
    for hit in evaluate_text(text, rules).evidence:
        assert "4321" not in hit["snippet"]


def test_a_page_that_is_only_an_image_makes_the_certificate_doubtful(rules):
    import io

    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, StreamObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(sample("boerneattest_ren.pdf"))))
    page = writer.add_blank_page(width=595, height=842)
    image = StreamObject()
    image._data = b"\xff" * 3
    image.update(
        {NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Image")}
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/XObject"): DictionaryObject({NameObject("/Im0"): writer._add_object(image)})}
    )
    out = io.BytesIO()
    writer.write(out)
    result = evaluate_file(out.getvalue(), "two-pages.pdf", rules)
    assert result.outcome == "needs_review" and "2" in result.reason


def test_a_message_not_from_the_police_is_doubtful(rules):
    message = sample("boerneattest_ren.eml").replace(b"Afsender: Rigspolitiet", b"Afsender: Ukendt")
    assert evaluate_file(message, "mail.eml", rules).outcome == "needs_review"


def test_a_message_with_a_broken_header_never_stops_the_robot(rules):
    message = sample("boerneattest_ren.eml").replace(b'filename="Boerneattest.pdf"', b"name*='''")
    result = evaluate_file(message, "mail.eml", rules)
    assert result.outcome in ("unreadable", "needs_review", "clean")


# --- Property: nothing is called clean without the clean phrase and without a sign ---

_ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs",))
_WORDS = st.sampled_from(
    [
        "børneattest",
        "offentlig straffeattest",
        CLEAN,
        "fængsel",
        "bøde",
        "010190-4321",
        "afslag",
        "registreret",
        "afgørelser",
        "\n",
        "-\n",
        "\u00ad",
        "\u00a0",
        "Børneattest",
        "ikke",
        "følgende",
    ]
)


def _assert_clean_only_when_earned(text, rules):
    result = evaluate_text(text, rules)
    if result.outcome == "clean":
        normalised = normalise(text)
        assert any(phrase in normalised for _, phrase in rules.clean)
        assert not any(phrase in normalised for _, phrase in rules.registration)
        assert result.cpr is not None and result.kind in (
            "child",
            "criminal_public",
            "criminal_private",
        )


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.one_of(_WORDS, st.text(_ALPHABET, max_size=20)), max_size=30).map(" ".join))
def test_random_text_is_never_clean_unless_earned(rules, text):
    _assert_clean_only_when_earned(text, rules)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_mutated_certificates_are_never_clean_unless_earned(rules, data):
    from robot.extraction import pdf_text

    base = pdf_text(
        sample(
            data.draw(
                st.sampled_from(
                    [
                        "boerneattest_ren.pdf",
                        "boerneattest_plettet.pdf",
                        "offentlig_straffeattest_plettet.pdf",
                        "offentlig_straffeattest_ren.pdf",
                    ]
                )
            )
        )
    ).text
    for _ in range(data.draw(st.integers(1, 6))):
        position = data.draw(st.integers(0, len(base)))
        action = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = data.draw(st.one_of(_WORDS, st.text(_ALPHABET, max_size=8)))
        if action == "insert":
            base = base[:position] + piece + base[position:]
        elif action == "delete":
            base = base[:position] + base[position + data.draw(st.integers(1, 30)) :]
        else:
            base = base[:position] + piece + base[position + len(piece) :]
    _assert_clean_only_when_earned(base, rules)
