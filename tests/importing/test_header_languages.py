"""Headers in the languages lead files come in, read from synonyms.toml (data, not code)."""

from __future__ import annotations

import json
import tomllib
from collections import defaultdict
from pathlib import Path

import pytest

from leadcli.importing import mapping
from leadcli.importing.mapping import SYNONYMS_FILE, build, guess, normalise_header

#: One file a language: its header, a row, and the row's phone as stored (each written in
#: its country's own national format, read in the row's Country).
FILES = {
    "de": (
        "Vorname;Nachname;E-Mail;Telefon;Firma;Land",
        "Jürgen;Weiß;jw@firma.de;030 901820;Muster GmbH;Deutschland",
        "+4930901820",
    ),
    "fr": (
        "Prénom;Nom;Courriel;Téléphone;Société;Pays",
        "Amélie;Durand;ad@societe.fr;06 12 34 56 78;Société X;France",
        "+33612345678",
    ),
    "es": (
        "Nombre;Apellidos;Correo electrónico;Teléfono;Empresa;País",
        "José;García López;jg@empresa.es;612 34 56 78;Empresa SA;España",
        "+34612345678",
    ),
    "it": (
        "Nome;Cognome;Email;Telefono;Azienda;Paese",
        "Giulia;Rossi;gr@azienda.it;06 6982 1234;Azienda Srl;Italia",
        "+390669821234",
    ),
    "nl": (
        "Voornaam;Achternaam;E-mailadres;Telefoonnummer;Bedrijf;Land",
        "Sanne;de Vries;sv@bedrijf.nl;06 12345678;Bedrijf BV;Nederland",
        "+31612345678",
    ),
    "pt": (
        "Nome;Sobrenome;E-mail;Telefone;Empresa;País",
        "João;Silva;js@empresa.pt;912 345 678;Empresa Lda;Portugal",
        "+351912345678",
    ),
}


@pytest.mark.parametrize("language", sorted(FILES))
def test_a_lead_file_in_each_language_fills_the_fields(cli, tmp_path: Path, language: str):
    header, row, phone = FILES[language]
    path = tmp_path / f"{language}.csv"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    result = cli("import", str(path), "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["imported"] == 1
    (lead,) = json.loads(cli("list", "-f", "json").stdout)
    first, last, email, _, company, country = row.split(";")
    assert (lead["first_name"], lead["last_name"], lead["email"]) == (first, last, email)
    assert (lead["company"], lead["country"], lead["phone"]) == (company, country, phone)
    assert lead["custom"] == {}  # nothing left over as a custom field


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["Prénom", "Nom"], ["first_name", "last_name"]),  # French Nom: the last name
        (["Nom", "Courriel"], ["name", "email"]),  # alone: the whole name
        (["Vorname", "Name"], ["first_name", "last_name"]),  # German Name beside Vorname
        (["Name", "E-Mail"], ["name", "email"]),
        (["Nome", "Cognome"], ["first_name", "last_name"]),  # Italian
        (["Nome", "Sobrenome"], ["first_name", "last_name"]),  # Portuguese
        (["Nome", "Telefone"], ["name", "phone"]),  # Portuguese Nome alone: the whole name
        (["Nombre", "Apellidos"], ["first_name", "last_name"]),
        (["First Name", "Last Name", "Name"], ["first_name", "last_name", "name"]),
        (["Titel", "Anrede"], ["custom", "custom"]),  # German academic title, salutation
    ],
)
def test_words_that_collide_are_settled_by_the_file(header: list[str], expected: list[str]):
    assert build(header, {}) == expected


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("TÉLÉPHONE", "phone"),
        ("telephone", "phone"),
        ("Teléfono", "phone"),
        ("e-mail-adresse", "email"),
        ("Straße", "street"),
        ("Strasse", "street"),
        ("Código Postal", "postal_code"),
        ("PLZ", "postal_code"),
        ("Città", "city"),
        ("Fecha de creación", "created_at"),
        ("Motivo da perda", "lost_reason"),
        ("Stato", "stage"),
    ],
)
def test_accents_and_case_are_ignored(header: str, target: str):
    assert guess(header) == target


def test_every_word_means_one_field_and_every_target_is_known():
    data = tomllib.loads(SYNONYMS_FILE.read_text(encoding="utf-8"))
    paired = data.pop("paired")
    meanings: defaultdict[str, set[str]] = defaultdict(set)
    for target, languages in data.items():
        assert target in mapping.TARGETS, target
        assert set(languages) <= {"en", "de", "fr", "es", "it", "nl", "pt"}, target
        for words in languages.values():
            for word in words:
                meanings[normalise_header(word)].add(target)
    assert {w: t for w, t in meanings.items() if len(t) > 1} == {}
    for word, rule in paired.items():
        assert normalise_header(word) not in meanings, word
        assert {rule["beside"], rule["means"], rule["alone"]} <= set(mapping.TARGETS)


def test_the_synonyms_ship_with_the_package():
    pyproject = tomllib.loads((Path(mapping.__file__).parents[2] / "pyproject.toml").read_text())
    data = pyproject["tool"]["setuptools"]["package-data"]
    assert SYNONYMS_FILE.name in data["leadcli.importing"]
