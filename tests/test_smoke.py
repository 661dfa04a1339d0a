"""The issue's headline scenario, end to end."""

from __future__ import annotations

import json


def test_add_then_list_normalises_contacts(cli):
    result = cli(
        "add",
        "--first-name",
        "Ana",
        "--last-name",
        "Silva",
        "--email",
        " Ana@Acme.COM ",
        "--phone",
        "(415) 555-0100",
        "--company",
        "Acme",
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "1"
    listed = json.loads(cli("list", "-f", "json").stdout)
    assert len(listed) == 1
    assert listed[0]["email"] == "ana@acme.com"
    assert listed[0]["phone"] == "+14155550100"
