import io

from django.urls import reverse
from pypdf import PdfReader

from portal.models import WelcomeSection
from portal.welcome import welcome_sections


def test_the_welcome_pack_covers_the_task_for_a_new_manager(client, school_manager):
    client.force_login(school_manager)
    html = client.get(reverse("welcome")).content.decode()
    for heading in (
        "Hvad er opgaven?",
        "Sådan bestiller du",
        "Hvad betyder statusserne?",
        "Det skal du fortælle den nyansatte",
        "Databeskyttelse",
        "Ofte stillede spørgsmål",
    ):
        assert heading in html
    assert "Send aldrig et CPR-nummer i en e-mail" in html


def test_an_areas_own_section_replaces_the_general_one(school_area, care_area):
    WelcomeSection.objects.create(
        area=school_area, topic="task", title="Skoler: opgaven", body="Børneattest til alle."
    )
    school_titles = [s.title for s in welcome_sections(school_area)]
    care_titles = [s.title for s in welcome_sections(care_area)]
    assert "Skoler: opgaven" in school_titles and "Hvad er opgaven?" not in school_titles
    assert "Hvad er opgaven?" in care_titles and "Skoler: opgaven" not in care_titles


def test_administrators_text_is_never_rendered_as_html(client, school_manager):
    WelcomeSection.objects.filter(topic="faq", area=None).update(
        body="<script>alert(1)</script>\n\n- <b>fed</b>"
    )
    client.force_login(school_manager)
    html = client.get(reverse("welcome")).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<li>&lt;b&gt;fed&lt;/b&gt;</li>" in html


def test_the_banner_shows_until_dismissed(client, school_manager):
    client.force_login(school_manager)
    assert 'id="welcome-banner"' in client.get(reverse("orders:list")).content.decode()

    response = client.post(reverse("welcome_dismiss"), headers={"HX-Request": "true"})

    assert response.status_code == 200 and response.content == b""
    assert 'id="welcome-banner"' not in client.get(reverse("orders:list")).content.decode()


def test_dismissing_without_javascript_returns_to_the_page(client, school_manager):
    client.force_login(school_manager)
    response = client.post(reverse("welcome_dismiss"), {"next": "/bestillinger/"})
    assert response["Location"] == "/bestillinger/"
    evil = client.post(reverse("welcome_dismiss"), {"next": "https://evil.example/"})
    assert evil["Location"] == reverse("home")


def test_the_welcome_pack_downloads_as_pdf(client, school_manager):
    client.force_login(school_manager)
    response = client.get(reverse("welcome_pdf"))
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Sådan bestiller du" in text and "Databeskyttelse" in text
