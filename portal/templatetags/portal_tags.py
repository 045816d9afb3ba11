from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def simple_markup(text: str) -> SafeString:
    """Plain text from the database to HTML: paragraphs and "- " lists, everything escaped.

    Administrators edit this text; no HTML they type is ever rendered as HTML.
    """
    blocks = [b for b in (text or "").replace("\r\n", "\n").split("\n\n") if b.strip()]
    html = []
    for block in blocks:
        lines = [line.rstrip() for line in block.strip().split("\n")]
        items = [line[2:] for line in lines if line.startswith("- ")]
        prose = [line for line in lines if not line.startswith("- ")]
        if prose:
            html.append("<p>" + "<br>".join(escape(line) for line in prose) + "</p>")
        if items:
            html.append("<ul>" + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>")
    return mark_safe("\n".join(html))
