"""EM-learned weights: deterministic, a fallback on small databases, contract fields kept."""

from __future__ import annotations

import random
import re

from leadcli.identity import matcher

FIRST = ["ana", "bruno", "carla", "diego", "elena", "felix", "gina", "hugo", "ines", "jonas"]
LAST = ["silva", "stone", "moreau", "keller", "novak", "berg", "lund", "costa", "rossi", "weber"]


def _typo(rng: random.Random, word: str) -> str:
    k = rng.randrange(len(word))
    return word[:k] + rng.choice("aeioxyz") + word[k + 1 :]


def _leads(people: int, seed: int = 7) -> dict[str, list]:
    """People with a sometimes misspelt double each; namesakes in other cities abound."""
    rng = random.Random(seed)
    rows = []
    for p in range(people):
        person = {
            "first_name": rng.choice(FIRST),
            "last_name": rng.choice(LAST),
            "city": f"town{rng.randrange(40)}",
            "phone": f"+1415555{p:04d}",
        }
        rows.append(person)
        if p % 2 == 0:
            twin = dict(person)
            if rng.random() < 0.5:
                twin["first_name"] = _typo(rng, twin["first_name"])
            rows.append(twin)
    return {k: [r.get(k) for r in rows] for k in ("first_name", "last_name", "city", "phone")}


#: The built-in rules with learning on (it is off by default: see rules.toml).
LEARNING = re.sub(
    r"^learn = false$", "learn = true", matcher.default_rules_text(), count=1, flags=re.M
)


def test_learning_is_off_by_default() -> None:
    prepared = matcher.prepare(
        list(range(1, 1201)),
        _leads(800),
        matcher.parse_rules(matcher.default_rules_text()),
    )
    _, stats = matcher.find_matches(prepared)
    assert not stats["learned"] and prepared.learned is None


def _prepare(columns: dict[str, list], text: str | None = None) -> matcher.Prepared:
    rules = matcher.parse_rules(text or LEARNING)
    n = len(columns["first_name"])
    return matcher.prepare(list(range(1, n + 1)), columns, rules)


def test_weights_are_learned_from_the_data_and_the_same_every_run() -> None:
    columns = _leads(600)
    first = _prepare(columns)
    matches_a, stats = matcher.find_matches(first)
    second = _prepare(columns)
    matches_b, _ = matcher.find_matches(second)
    assert stats["learned"] and first.learned is not None
    assert first.learned == second.learned
    assert [(m.i, m.j, m.score) for m in matches_a] == [(m.i, m.j, m.score) for m in matches_b]
    written = [(r.exact, r.close, r.far) for r in first.fields]
    assert list(first.learned.weights) != written
    assert first.learned.prior != first.rules.prior


def test_a_handful_of_leads_keeps_the_written_weights() -> None:
    prepared = _prepare(_leads(4))
    _, stats = matcher.find_matches(prepared)
    assert not stats["learned"] and prepared.learned is None
    scorer = matcher.Scorer(prepared)
    assert scorer.prior == prepared.rules.prior


def test_email_and_phone_keep_their_written_weights_when_the_rest_learn() -> None:
    """A shared phone alone must weigh what the rules say, however common it is in a file."""
    prepared = _prepare(_leads(600))
    matcher.find_matches(prepared)
    assert prepared.learned is not None
    for name in ("phone", "email"):
        k = [r.name for r in prepared.fields].index(name)
        rule = prepared.fields[k]
        assert not rule.learn
        assert prepared.learned.weights[k] == (rule.exact, rule.close, rule.far)


def test_bad_learning_settings_are_named() -> None:
    import pytest

    with pytest.raises(matcher.RulesError, match="learn"):
        matcher.parse_rules(LEARNING.replace("learn = true", "learn = 3"))
    with pytest.raises(matcher.RulesError, match="learn_sample"):
        text = matcher.default_rules_text().replace("learn_sample = 20000", "learn_sample = 1.5")
        matcher.parse_rules(text)
