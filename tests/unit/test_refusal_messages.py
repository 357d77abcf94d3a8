"""Every refusal goes through the catalog (issue 11): no service error is raised with a bare English literal, the
catalog has a Chinese translation of every message, and the libraries' own messages (marshmallow, Flask-WTF) come
out in Chinese with their values kept."""
from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask

import hall.services
from hall.library_messages import FIXED, PATTERNS, translate_library_message
from hall.payments import GatewayUnavailable
from hall.services.core.errors import ServiceError

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*sorted((ROOT / "platform" / "hall").rglob("*.py")), *sorted((ROOT / "blueprints").rglob("*.py"))]
CATALOG = ROOT / "platform" / "hall" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def refusal_classes() -> set[str]:
    """The names of every ServiceError (and GatewayUnavailable, shown to buyers as it is), services all imported."""
    for module in pkgutil.walk_packages(hall.services.__path__, "hall.services."):
        importlib.import_module(module.name)
    return {cls.__name__ for cls in _subclasses(ServiceError) | {ServiceError, GatewayUnavailable}}


def _is_literal(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _untranslated(mapping: ast.Dict) -> list[ast.AST]:
    """The literal messages of a field-errors mapping that no ``_()``/``_l()`` call wraps (keys are field names)."""
    found: list[ast.AST] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "_l", "gettext"):
            return
        if _is_literal(node):
            found.append(node)
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    for value in mapping.values:
        visit(value)
    return found


def test_no_refusal_is_raised_with_a_bare_literal() -> None:
    names = refusal_classes()
    bare = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
            if called in names or (called == "field" and owner in names):
                arguments = node.args if called in names else node.args[1:]
                values = [*arguments, *(kw.value for kw in node.keywords)]
                # a literal message, or a literal inside the field-errors mapping
                literals = [value for value in values if _is_literal(value)] + [
                    item for value in values if isinstance(value, ast.Dict) for item in _untranslated(value)]
                if literals:
                    bare.append(f"{path.relative_to(ROOT)}:{node.lineno} {called}")
    assert bare == []


def test_every_message_of_the_catalog_has_a_chinese_translation() -> None:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    def translated(string: str | tuple[str, ...]) -> bool:
        return all(string) if isinstance(string, tuple) else bool(string)  # every plural form too

    missing = [message.id for message in catalog if message.id and (not translated(message.string) or message.fuzzy)]
    assert missing == []


def test_the_libraries_messages_come_out_in_chinese(app: Flask) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        untranslated = [text for text in FIXED if not CJK.search(translate_library_message(text))]
        assert untranslated == []
        for sample, expected in [
            ("Length must be between 1 and 200.", ("1", "200")), ("Longer than maximum length 64.", ("64",)),
            ("Must be greater than or equal to 1 and less than or equal to 9.", ("1", "9")),
            ("Must be greater than or equal to 0.", ("0",)), ("Must be one of: fixed, negotiable.", ("fixed",)),
        ]:
            shown = translate_library_message(sample)
            assert CJK.search(shown) and all(value in shown for value in expected), (sample, shown)
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert translate_library_message("Length must be between 1 and 200.") == "Length must be between 1 and 200."


@pytest.mark.parametrize("pattern,template", PATTERNS)
def test_each_pattern_template_keeps_the_patterns_values(pattern: re.Pattern[str], template: str) -> None:
    assert set(pattern.groupindex) == set(re.findall(r"%\((\w+)\)s", template))
