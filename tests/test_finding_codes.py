"""Finding codes: one Enum holds them all, each explained; `qms check --explain` prints them."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from qms.cli.main import main
from qms.model.findings import FindingCode, code_named

from .conftest import REPO
from .signing_repo import run
from .test_sphinx_frontmatter import EXPECTED

# Product code only: the shipped OQ suite (tools/qms/oq) is tests, whose asserted exit codes
# are not finding codes.
SOURCES = sorted(
    path
    for path in [*(REPO / "tools").rglob("*.py"), *(REPO / "extensions").rglob("*.py")]
    if "qms/oq/" not in path.as_posix()
)


def _is_member(node: ast.expr) -> bool:
    """`FindingCode.NAME`, naming a member that exists."""
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "FindingCode"
        and node.attr in FindingCode.__members__
    )


def _code_arguments(tree: ast.AST) -> list[ast.expr]:
    """What each Finding(...) gets as its code, each logger's subtype, each `clears=`."""
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name == "Finding" and len(node.args) >= 4:
                found.append(node.args[3])
            found += [k.value for k in node.keywords if k.arg in ("code", "subtype", "clears")]
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args.args + node.args.kwonlyargs
            defaults = [*node.args.defaults, *node.args.kw_defaults]
            named = dict(zip([a.arg for a in args][-len(defaults) :], defaults, strict=False))
            found += [d for arg, d in named.items() if arg == "code" and d is not None]
        elif isinstance(node, ast.Compare) and getattr(node.left, "attr", "") == "code":
            found += node.comparators
    return found


def _loose(node: ast.expr) -> list[ast.expr]:
    """The parts of a code expression that are string literals or unknown members."""
    if isinstance(node, ast.BoolOp):
        return [part for value in node.values for part in _loose(value)]
    if isinstance(node, ast.IfExp):
        return _loose(node.body) + _loose(node.orelse)
    if isinstance(node, ast.Constant | ast.JoinedStr):
        return [node]
    if isinstance(node, ast.Attribute) and getattr(node.value, "id", "") == "FindingCode":
        return [] if _is_member(node) else [node]
    return []  # a variable passing a code on


def loose_codes(paths: list[Path]) -> list[str]:
    """Every code given as a literal (or as a member that does not exist), at its line."""
    return [
        f"{path}:{node.lineno}: {ast.unparse(node)}"
        for path in paths
        for code in _code_arguments(ast.parse(path.read_text(encoding="utf-8")))
        for node in _loose(code)
    ]


def test_every_code_in_the_source_is_a_member() -> None:
    """No code is a loose string: each is a FindingCode member, or passed on in a variable.

    Finding.code is text (Sphinx's own warning types pass through it), so this walk
    guards it; helpers that take a code (`fail`, `report`) declare it a FindingCode,
    which mypy checks.
    """
    assert loose_codes(SOURCES) == []


def test_the_walk_finds_loose_codes(tmp_path: Path) -> None:
    source = tmp_path / "a" / "b" / "c.py"
    source.parent.mkdir(parents=True)
    source.write_text(
        "Finding(p, 1, m, 'verify')\n"
        "logger.warning(m, type='qms', subtype='docref')\n"
        "def fail(message, code='registry'): ...\n"
        "x = f.code == 'encoding'\n"
        "Finding(p, 1, m, FindingCode.NO_SUCH_CODE)\n"
        "Finding(p, 1, m, match.group('code') or 'sphinx')\n"
        "Finding(p, 1, m, FindingCode.VERIFY)\n",
        encoding="utf-8",
    )
    found = sorted(line.split(": ", 1)[1] for line in loose_codes([source]))
    assert found == [
        "'docref'",
        "'encoding'",
        "'registry'",
        "'sphinx'",
        "'verify'",
        "FindingCode.NO_SUCH_CODE",
    ]


def test_the_walk_sees_the_codes_in_use() -> None:
    """The source walk above finds members where codes are known to be set."""
    members = {
        ast.unparse(node).removeprefix("FindingCode.")
        for path in SOURCES
        for node in _code_arguments(ast.parse(path.read_text(encoding="utf-8")))
        if _is_member(node)
    }
    assert {"FRONTMATTER", "REGISTRY_POLICY", "ROLLBACK", "DOCREF", "RELEASE"} <= members


def test_every_code_is_explained_in_one_line() -> None:
    assert len(FindingCode.__members__) == len(FindingCode)  # no two share a value
    for code in FindingCode:
        assert code.explanation.strip(), code
        assert "\n" not in code.explanation, code
        assert code_named(str(code)) is code
        assert code_named(f"qms.{code}") is code


def test_every_code_a_build_warns_with_is_explained() -> None:
    codes = {line.rsplit(" [", 1)[1].rstrip("]") for line in EXPECTED}
    assert codes and all(code_named(code) is not None for code in codes), codes


def test_explain_prints_the_code_and_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no handbook needed
    code, out, err = run(capsys, "check", "--explain", "line-endings")
    assert code == 0 and err == ""
    assert out == f"line-endings: {FindingCode.LINE_ENDINGS.explanation}\n"
    assert "LF line endings" in out
    # As the build's log shows it.
    code, out, _ = run(capsys, "check", "--explain", "qms.need-field")
    assert code == 0 and out.startswith("need-field: ")


def test_explain_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "check", "--explain", "registry-policy", "--json")
    assert code == 0
    assert json.loads(out) == {
        "code": "registry-policy",
        "explanation": FindingCode.REGISTRY_POLICY.explanation,
    }
    code, out, _ = run(capsys, "check", "--json", "--explain", "all")
    assert code == 0
    listed = json.loads(out)["codes"]
    assert [entry["code"] for entry in listed] == [str(c) for c in FindingCode]
    assert all(entry["explanation"] for entry in listed)


def test_explain_all_lists_every_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "check", "--explain", "all")
    assert code == 0
    lines = out.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [str(c) for c in FindingCode]
    assert f"rollback: {FindingCode.ROLLBACK.explanation}" in lines


def test_unknown_code_is_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check", "--explain", "line-ending")
    assert (code, out) == (2, "")
    assert err == (
        "qms: error: unknown finding code 'line-ending' (did you mean 'line-endings'?); "
        "'qms check --explain all' lists every code\n"
    )
    code, _, err = run(capsys, "check", "--explain", "toc.not_included", "--json")
    assert code == 2
    assert err.count("\n") == 1 and "'qms check --explain all'" in err


def test_check_help_teaches_the_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--help"])
    assert exit_info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--explain CODE" in out
    assert "'qms check --explain all' lists every code" in out
