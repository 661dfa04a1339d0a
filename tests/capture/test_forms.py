"""Web-form notifications: labelled fields in text or an HTML table, read with the import's
column synonyms; a body with a signature is not a form."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from leadcli.capture.forms import extract, html_to_text
from leadcli.capture.messages import parse
from tests.capture.mail import HTML_FORM, TEXT_FORM


def test_a_text_form_gives_the_lead_and_a_multi_line_message() -> None:
    message = parse(TEXT_FORM)
    assert extract(message.text, message.html) == {
        "first_name": "Bruno",
        "last_name": "Stone",
        "email": "bruno.stone@globex.example",
        "phone": "(415) 555-0142",
        "company": "Globex",
        "notes": "We need a quote for 40 seats.\nPlease call in the afternoon.",
    }


def test_an_html_only_form_is_read_from_its_table() -> None:
    message = parse(HTML_FORM)
    fields = extract(message.text, message.html)
    assert fields == {
        "first_name": "Chloé",
        "last_name": "Dubois",
        "email": "chloe@initech.example",
        "company": "Initech",
        "notes": "Interested in the audit package.",
    }


def test_a_signature_with_a_phone_is_not_a_form() -> None:
    assert extract("Hi, call me.\n\nAna Silva\nPhone: +1 415 555 0100\n") is None


def test_html_text_breaks_lines_at_blocks() -> None:
    assert html_to_text("<p>One</p><p>Two<br>Three</p>") == "One\n\nTwo\nThree"


HIDDEN = (
    "<html><head><title>x-title</title></head><body>"
    '<div style="display:none;max-height:0;overflow:hidden;mso-hide:all" aria-hidden="true">'
    "x-preheader</div><!-- x-comment --><script>x-script</script>"
    '<p>Hello <span style="DISPLAY: none !important">x-span</span>there</p>'
    '<p hidden>x-attribute</p><div style="visibility:hidden">x-visibility</div>'
    '<div style="mso-hide: all">x-outlook</div><p style="display:none">x-paragraph<p>Shown'
    "</body></html>"
)


def test_html_text_is_what_a_mail_reader_shows() -> None:
    assert html_to_text(HIDDEN) == "Hello there\n\nShown"


def test_hidden_rows_and_cells_fill_no_form_field() -> None:
    html = (
        "<table><tr><th>Name</th><td>Ana Silva</td></tr>"
        '<tr style="display:none"><th>Company</th><td>x-hidden-company</td></tr>'
        '<tr><th>Email</th><td><span style="display:none">eve@evil.example</span>'
        "ana@acme.example</td></tr><tr><th>Company</th><td>Acme</td></tr>"
        "<tr><th>Comments</th><td>Call me<div hidden> x-hidden-note</div></td></tr></table>"
    )
    assert extract(html_to_text(html), html) == {
        "first_name": "Ana",
        "last_name": "Silva",
        "email": "ana@acme.example",
        "company": "Acme",
        "notes": "Call me",
    }


def test_a_style_sheet_rule_hides_what_it_selects_but_not_on_some_screens_only() -> None:
    html = (
        "<html><head><style>/* preheader */ .preheader { display: none !important; }"
        " @media (max-width: 600px) { .desktop { display: none } } p { color: red }"
        '</style></head><body><span class="x preheader">x-preheader</span>'
        '<div class="desktop">Wide screens</div><p>Hello</p></body></html>'
    )
    assert html_to_text(html) == "Wide screens\n\nHello"


_MARKUP = st.lists(
    st.sampled_from(
        [
            "<p>",
            "</p>",
            "<div hidden>",
            "</div>",
            "<tr>",
            "<td>",
            "</td>",
            "<li>",
            "<br>",
            '<span style="display:none">',
            "</span>",
            "<style>",
            "</style>",
            "<!--",
            "-->",
            "<table>",
            "</table>",
            "Name",
            "Email:",
            "a@b.example",
            "text",
            "<",
            "&amp;",
        ]
    )
    | st.text(max_size=10),
    max_size=30,
).map("".join)


@given(_MARKUP)
def test_any_markup_gives_text_and_fields_without_failing(html: str) -> None:
    text = html_to_text(html)
    extract(text, html)
