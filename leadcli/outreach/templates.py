"""Mail templates: files written like an e-mail, rendered strictly and in a sandbox.

A template is a ``Subject: ...`` line, a blank line and the plain-text body; an HTML body
may sit beside it as ``NAME.html``. Both are Jinja2 in a ``SandboxedEnvironment`` with
``StrictUndefined``: a field the lead does not have is an error naming the field and the
lead (unless the template gives a default, ``{{ first_name | default("there") }}``), so
nobody gets "Hi ," by mistake. The lead's values are only ever context, never compiled: a
lead named ``{{ 7 * 7 }}`` is greeted as ``{{ 7 * 7 }}``. The HTML body is autoescaped; the
subject and the text body are not (they are not markup), and the subject is kept on one
line, so a value cannot add a header.

Jinja2 is imported inside the functions that render: only ``leadcli mail`` pays for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from leadcli.errors import ConfigError, LeadcliError, NotFound
from leadcli.storage.paths import resolve_config_path

#: The suffix of a template's text part when it is named rather than given as a path.
TEXT_SUFFIX = ".txt"
HTML_SUFFIX = ".html"


class RenderError(LeadcliError):
    """A template that cannot be rendered for a lead: the field it needs, never its value."""

    hint = 'give the field a default in the template: {{ field | default("...") }}'


@dataclass(frozen=True)
class Template:
    """A template as read: its name (what idempotency and the log say), the subject and
    the bodies as Jinja2 source, and where it came from."""

    name: str
    subject: str
    text: str
    html: str | None
    path: Path


def default_folder() -> Path:
    """``templates/`` beside the config file."""
    return resolve_config_path().parent / "templates"


def find(name_or_path: str, folder: Path | None = None) -> Path:
    """The text part of a template: a file path as given, else ``NAME`` or ``NAME.txt`` in
    the templates folder."""
    given = Path(name_or_path).expanduser()
    if given.is_file():
        return given
    folder = folder or default_folder()
    if "/" not in name_or_path and name_or_path not in ("", ".", ".."):
        for candidate in (folder / f"{name_or_path}{TEXT_SUFFIX}", folder / name_or_path):
            if candidate.is_file():
                return candidate
    known = sorted(p.stem for p in folder.glob(f"*{TEXT_SUFFIX}")) if folder.is_dir() else []
    raise NotFound(
        f"no template {name_or_path!r} (a file, or a name in {folder})",
        hint="known: " + (", ".join(known) if known else "none; see examples/templates/"),
    )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"the template {path} is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the template {path} ({exc.strerror})") from None


def parse(source: str, path: Path, html: str | None = None) -> Template:
    """A template's text: the ``Subject:`` header, a blank line, the body."""
    head, sep, body = source.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    subject = None
    for number, line in enumerate(lines, start=1):
        name, colon, value = line.partition(":")
        if not colon or name.strip().lower() != "subject" or subject is not None:
            raise ConfigError(
                f"the template {path}, line {number}: a template starts with one "
                "'Subject: ...' line, then a blank line, then the body"
            )
        subject = value.strip()
    if not sep or not subject:
        raise ConfigError(f"the template {path} needs 'Subject: ...', a blank line and a body")
    name = path.stem if path.suffix == TEXT_SUFFIX else path.name
    template = Template(name, subject, body, html, path)
    for part, text in (("subject", subject), ("body", body), ("HTML body", html)):
        if text is not None:
            _check_syntax(text, path, part)
    return template


def load(name_or_path: str, folder: Path | None = None) -> Template:
    """A template by path or name, with its sibling ``.html`` part when there is one."""
    path = find(name_or_path, folder)
    sibling = path.with_suffix(HTML_SUFFIX) if path.suffix != HTML_SUFFIX else None
    html = _read(sibling) if sibling is not None and sibling.is_file() else None
    return parse(_read(path), path, html)


@cache
def _environment(autoescape: bool) -> Any:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=autoescape,
        keep_trailing_newline=True,
    )


def _check_syntax(source: str, path: Path, part: str) -> None:
    from jinja2 import TemplateSyntaxError

    try:
        _environment(False).parse(source)
    except TemplateSyntaxError as exc:
        raise ConfigError(f"the template {path}, {part} line {exc.lineno}: {exc.message}") from None


@cache
def _compiled(source: str, autoescape: bool) -> Any:
    return _environment(autoescape).from_string(source)


def _missing_field(message: str) -> str:
    """The name Jinja2's undefined error is about ("'x' is undefined", "... no attribute
    'x'"): the template's word, never a value of the lead."""
    found = re.findall(r"'([^']*)'", message)
    return found[-1] if found else "a field"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


def context(lead: dict[str, Any], sender: dict[str, str]) -> dict[str, Any]:
    """What a template sees: the lead's fields that have a value (an empty one is missing,
    so the strict rendering catches it), ``custom`` (its custom fields, also at the top
    level where no field has the name), ``tags`` and ``sender`` (name and email of
    ``mail.from``)."""
    values = {k: v for k, v in lead.items() if v not in (None, "", [], {}) and k != "bant"}
    custom = {k: v for k, v in (lead.get("custom") or {}).items() if v not in (None, "")}
    return {**custom, **values, "custom": custom, "sender": sender}


def render(template: Template, lead: dict[str, Any], sender: dict[str, str]) -> Rendered:
    """The subject and bodies for one lead; RenderError names the field and the lead."""
    from jinja2 import TemplateError, UndefinedError

    values = context(lead, sender)
    try:
        subject = _compiled(template.subject, False).render(values)
        text = _compiled(template.text, False).render(values)
        html = _compiled(template.html, True).render(values) if template.html else None
    except UndefinedError as exc:
        field = _missing_field(str(exc))
        raise RenderError(
            f"template {template.name!r} needs {field!r}, which lead {lead['id']} has not"
        ) from None
    except (TemplateError, ArithmeticError, TypeError, ValueError) as exc:
        # the sandbox refusing an attribute, a filter failing on a value, 1 / 0 ...
        raise RenderError(
            f"template {template.name!r} failed for lead {lead['id']} ({exc.__class__.__name__})"
        ) from None
    # One line: a value with a line break must not start a header of its own.
    return Rendered(" ".join(subject.split()), text, html)
