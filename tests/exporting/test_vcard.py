"""vCard out (`export --vcf`) and in (`import x.vcf`): 3.0, 4.0, 2.1 quoted-printable,
several cards, folded lines, hostile values."""

from __future__ import annotations

import json

import vobject

from leadcli.leads.records import add_lead

CARDS_30 = (
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "N:Silva;Ana;;;\r\n"
    "FN:Ana Silva\r\n"
    "EMAIL;TYPE=INTERNET:ana.home@example.com\r\n"
    "EMAIL;TYPE=INTERNET,PREF:ana@acme.com\r\n"
    "TEL;TYPE=CELL:+1 415 555 0100\r\n"
    "ORG:Acme\\, Inc;Sales\r\n"
    "TITLE:CTO\r\n"
    "ADR;TYPE=WORK:;;1 Main St;San Francisco;CA;94107;USA\r\n"
    "CATEGORIES:vip,a\\,b\r\n"
    "NOTE:a very long note that an address book folded over two lines, as RFC 2426 a\r\n"
    " llows\\nsecond line\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "FN:Bo Li\r\n"
    "N:Li;Bo;;;\r\n"
    "EMAIL:bo@example.com\r\n"
    "END:VCARD\r\n"
)

CARD_40 = (
    "BEGIN:VCARD\n"
    "VERSION:4.0\n"
    "FN:Jo Ray\n"
    "N:Ray;Jo;;;\n"
    "EMAIL;TYPE=work;PREF=1:jo@example.org\n"
    'TEL;VALUE=uri;TYPE="voice,work":tel:+33-1-42-68-53-00\n'
    "ADR;TYPE=work:;;12 Rue de la Paix;Paris;IDF;75002;France\n"
    "URL:https://example.org\n"
    "END:VCARD\n"
)

CARD_21_QP = (
    b"BEGIN:VCARD\r\n"
    b"VERSION:2.1\r\n"
    b"N;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:M=FCller;J=F6rg\r\n"
    b"FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:J=C3=B6rg M=C3=BCller\r\n"
    b"NOTE;ENCODING=QUOTED-PRINTABLE:line one=0D=0A=\r\n"
    b"line two\r\n"
    b"TEL;CELL:+44 20 7946 0000\r\n"
    b"END:VCARD\r\n"
)

HOSTILE = (
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "N:[bold]Evil[/bold];=cmd|' /C calc'!A0;;;\r\n"
    "FN:x\r\n"
    "EMAIL:evil@example.com\r\n"
    "NOTE:\x1b[2Jcleared? <script>alert(1)</script> back\\\\slash semi\\;colon\r\n"
    "END:VCARD\r\n"
)


def _leads(cli, *args):
    return json.loads(cli(*args, "export", "-f", "json").stdout)


def test_import_reads_several_vcard_30_cards(cli, tmp_path):
    path = tmp_path / "contacts.vcf"
    path.write_text(CARDS_30, newline="")
    result = cli("import", str(path), "-f", "json")
    assert json.loads(result.stdout)["imported"] == 2
    ana, bo = _leads(cli)
    assert (ana["first_name"], ana["last_name"]) == ("Ana", "Silva")
    assert ana["email"] == "ana@acme.com"  # the preferred one
    assert ana["other_emails"] == ["ana.home@example.com"]  # kept on the lead, searchable
    assert ana["custom"]["Department"] == "Sales"
    assert ana["phone"] == "+14155550100"
    assert (ana["company"], ana["title"]) == ("Acme, Inc", "CTO")
    address = [ana[f] for f in ("street", "city", "region", "postal_code", "country")]
    assert address == ["1 Main St", "San Francisco", "CA", "94107", "USA"]
    assert sorted(ana["tags"]) == ["a,b", "vip"]
    assert ana["notes"].endswith("as RFC 2426 allows\nsecond line")
    assert bo["email"] == "bo@example.com"


def test_import_reads_vcard_40_by_content_without_the_extension(cli, tmp_path):
    path = tmp_path / "export.txt"
    path.write_text(CARD_40)
    assert json.loads(cli("import", str(path), "-f", "json").stdout)["imported"] == 1
    (jo,) = _leads(cli)
    assert (jo["first_name"], jo["email"], jo["phone"]) == ("Jo", "jo@example.org", "+33142685300")
    assert (jo["street"], jo["postal_code"], jo["country"]) == (
        "12 Rue de la Paix",
        "75002",
        "France",
    )
    assert jo["website"] == "https://example.org"


def test_import_reads_quoted_printable_and_charsets(cli, tmp_path):
    path = tmp_path / "phone.vcf"
    path.write_bytes(CARD_21_QP)
    assert json.loads(cli("import", str(path), "-f", "json").stdout)["imported"] == 1
    (lead,) = _leads(cli)
    assert (lead["first_name"], lead["last_name"]) == ("Jörg", "Müller")
    assert lead["notes"] == "line one\nline two"  # CR LF stored as a newline, as on any input
    assert lead["phone"] == "+442079460000"


def test_an_unreadable_card_is_rejected_and_the_others_import(cli, tmp_path):
    broken = "BEGIN:VCARD\r\nVERSION:3.0\r\nthis line has no colon\r\nEND:VCARD\r\n"
    path = tmp_path / "mixed.vcf"
    path.write_text(broken + CARDS_30, newline="")
    summary = json.loads(cli("import", str(path), "-f", "json").stdout)
    assert (summary["rows"], summary["imported"], summary["rejected"]) == (3, 2, 1)
    rejects = (tmp_path / "mixed.rejects.csv").read_text()
    assert "vCard" in rejects


def test_hostile_values_stay_data(cli, tmp_path):
    path = tmp_path / "evil.vcf"
    path.write_text(HOSTILE, newline="")
    assert cli("import", str(path)).exit_code == 0
    (lead,) = _leads(cli)
    assert lead["first_name"] == "=cmd|' /C calc'!A0"
    assert lead["last_name"] == "[bold]Evil[/bold]"
    # The ESC is dropped on the way in (safe_text.strip_controls); the rest is data.
    assert lead["notes"] == "[2Jcleared? <script>alert(1)</script> back\\slash semi;colon"
    table = cli("show", str(lead["id"])).stdout
    assert "[bold]Evil[/bold]" in table
    assert "\x1b" not in table
    assert "'=cmd" in cli("export").stdout  # CSV guards the formula


def test_export_vcf_is_vcard_30_that_a_reader_parses_back(cli, store):
    add_lead(
        store,
        {
            "first_name": "Ana",
            "last_name": "Sil;va",
            "email": "ana@acme.com",
            "phone": "+1 415 555 0100",
            "company": "Acme, Inc",
            "title": "CTO",
            "street": "1 Main St",
            "city": "San Francisco",
            "region": "CA",
            "postal_code": "94107",
            "country": "USA",
            "website": "https://acme.com",
            "notes": "line\nbreak, comma; semi " + "long " * 30,
        },
        tags=["vip", "a;b"],
    )
    text = cli("export", "--vcf").stdout_bytes.decode()
    assert text.startswith("BEGIN:VCARD\r\nVERSION:3.0\r\n")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    (card,) = list(vobject.readComponents(text))
    assert card.n.value.family == "Sil;va"
    assert card.fn.value == "Ana Sil;va"
    assert card.org.value == ["Acme, Inc"]
    assert card.email.value == "ana@acme.com"
    assert card.tel.value == "+14155550100"
    assert card.adr.value.code == "94107"
    assert card.note.value.startswith("line\nbreak, comma; semi")
    assert sorted(card.categories.value) == ["a;b", "vip"]
    assert card.uid.value == "lead-1@leadcli"


def test_vcf_export_then_import_keeps_the_contact(cli, store, tmp_path):
    add_lead(
        store,
        {"first_name": "Ana", "last_name": "Silva", "email": "ana@acme.com", "city": "Porto"},
        tags=["x,y"],
    )
    path = tmp_path / "out.vcf"
    assert cli("export", "--vcf", "-o", str(path)).exit_code == 0
    other = tmp_path / "other.db"
    assert cli("--db", str(other), "import", str(path)).exit_code == 0
    (lead,) = _leads(cli, "--db", str(other))
    assert (lead["first_name"], lead["last_name"], lead["email"], lead["city"]) == (
        "Ana",
        "Silva",
        "ana@acme.com",
        "Porto",
    )
    assert lead["tags"] == ["x,y"]
