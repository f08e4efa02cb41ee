"""Hostile and odd input: every parser of user files answers with a finding, never a crash.

Property-based (hypothesis): the "fast" profile runs in make test, the "long" one with
`pytest tests/test_hostile_input.py --hypothesis-profile=long` (see tests/conftest.py).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qms.adapters.tsa import verify_token
from qms.cli.main import main
from qms.config import load_config
from qms.errors import ConfigError
from qms.model.approval import Statement, StatementError
from qms.model.capa import CapaStatement
from qms.model.capa_import import CapaImport
from qms.model.catalogue import parse_catalogue
from qms.model.deviation import Disposition
from qms.model.document import MAX_ID_LENGTH
from qms.model.external import parse_external
from qms.model.frontmatter import parse_document
from qms.model.impact import Assessment
from qms.model.metrics import parse_results
from qms.model.need_blocks import need_blocks
from qms.model.need_source import parse_items
from qms.model.oq_results import ResultsError, parse_junit
from qms.model.parsing import MAX_DEPTH, MAX_VALUES, bracket_depth
from qms.model.release import Manifest
from qms.model.roster import Roster, RosterApproval, RosterError, from_csv
from qms.model.signers import Registry, RegistryError
from qms.model.timestamp_policy import TimestampAuthority
from qms.model.training_record import TrainingRecord

# Characters that make parsers stumble: YAML indicators, line breaks of every kind,
# NUL and other controls, a BOM, lone surrogates and astral characters.
ODD = st.sampled_from(
    [*"[]{}-?:,&*!|>'\"%@`#\t\r\n ", "\x00", "\x85", "\u2028", "\ufeff", "\ud800", "😀"]
)
TEXT = st.text(st.one_of(ODD, st.characters()), max_size=200)
# Scalars and nests of them.
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    st.dates(),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def deep(draw: st.DrawFn) -> str:
    """Nesting far deeper than the recursion limit, in flow, block or compact style."""
    depth = draw(st.integers(min_value=MAX_DEPTH - 2, max_value=5000))
    style = draw(st.sampled_from(["flow", "map", "block", "compact", "mixed"]))
    if style == "flow":
        return "[" * depth + "]" * depth
    if style == "map":
        return "{a: " * depth + "}" * depth
    if style == "block":
        return "\n" + "".join(" " * i + "- \n" for i in range(depth))
    if style == "compact":
        return "- " * depth + "x"
    return "[{a: " * (depth // 2) + "}]" * (depth // 2)


@st.composite
def aliases(draw: st.DrawFn) -> str:
    """A flow list whose anchors nest: either a "billion laughs" or an alias in itself."""
    width = draw(st.integers(min_value=2, max_value=12))
    levels = draw(st.integers(min_value=1, max_value=10))
    text = "&l0 [" + ", ".join(["x"] * width) + "]"
    for level in range(1, levels):
        text = f"&l{level} [{text}, " + ", ".join([f"*l{level - 1}"] * width) + "]"
    if draw(st.booleans()):
        text = f"&top [{text}, *top]"  # an alias inside its own anchor
    return text


def yaml_value(value: Any) -> str:
    """The YAML text of `value`, or of its repr when YAML cannot write it."""
    try:
        return yaml.safe_dump(value, allow_unicode=True)
    except (yaml.YAMLError, ValueError):
        return repr(value)


# Numbers far beyond Python's limit for converting digits (4,300), written as text:
# hypothesis itself cannot print such integers.
HUGE = st.integers(min_value=4400, max_value=20_000).map(lambda n: "9" * n)
# Escapes YAML decodes into lone surrogates, which no file or terminal can hold.
ESCAPES = st.sampled_from(['"\\ud800"', '["a", "\\uDFFF b"]', '"\\U0000d83d\\ude00"', '"\\x00"'])
YAML_TEXT = st.one_of(TEXT, deep(), HUGE, ESCAPES, aliases(), VALUES.map(yaml_value))
TOO_DEEP = f"front matter is not valid YAML: nested deeper than {MAX_DEPTH} levels"
FIELDS = st.sampled_from(["id", "title", "tags", "version", "review_months", "effective", "x"])


@given(field=FIELDS, value=YAML_TEXT, noise=TEXT)
def test_front_matter_is_findings_never_a_crash(field: str, value: str, noise: str) -> None:
    source = f"---\ntitle: T\n{field}: {value}\n{noise}\n---\n\n# Body\n"
    result = parse_document("x.md", source)
    lines = source.count("\n") + 1
    assert all(1 <= (f.line or 1) <= lines for f in result.findings)
    # Whatever is read can be written: no lone surrogate reaches a page or a terminal.
    if result.document is not None:
        for name in ("id", "title", "owner", "change_reason"):
            str(getattr(result.document, name)).encode("utf-8")
        for tag in result.document.tags:
            tag.encode("utf-8")
    (result.title or "").encode("utf-8")


@given(text=YAML_TEXT)
def test_catalogue_is_findings_never_a_crash(text: str) -> None:
    catalogue, findings = parse_catalogue("c.yaml", "c", f"key: c\nrequirements: {text}\n")
    assert catalogue is not None or findings
    assert all((f.line or 0) >= 1 for f in findings)


@given(text=YAML_TEXT, value=VALUES)
def test_registry_refuses_with_its_own_error(text: str, value: Any) -> None:
    for data in (f"revision: 1\nsigners: {text}\n", yaml_value({"revision": 1, "signers": value})):
        try:
            Registry.from_bytes(data.encode("utf-8", "surrogatepass"), "signers.yaml")
        except RegistryError as exc:
            assert str(exc).startswith("signers.yaml: ")
            assert "\n" not in str(exc).strip()


def json_texts() -> st.SearchStrategy[bytes]:
    nested = st.integers(min_value=MAX_DEPTH, max_value=100_000).map(
        lambda n: ('{"a":' * n + "1" + "}" * n).encode()
    )
    values = VALUES.map(lambda v: json.dumps(v, default=str).encode())
    raw = st.binary(max_size=100)
    escapes = st.sampled_from([b'"\\ud800"', b'{"schema":"\\udfff"}', b"1" * 5000, b"NaN"])
    huge = HUGE.map(lambda n: f'{{"schema":{n}}}'.encode())
    return st.one_of(
        nested, values, raw, escapes, huge, TEXT.map(lambda t: t.encode("utf-8", "replace"))
    )


@given(data=json_texts())
def test_statement_and_manifest_refuse_with_their_own_error(data: bytes) -> None:
    with pytest.raises(StatementError):
        Statement.from_bytes(data)
    try:
        Manifest.from_bytes(data)
    except ValueError as exc:
        assert str(exc)


@given(data=json_texts())
def test_impact_assessments_refuse_with_their_own_error(data: bytes) -> None:
    with pytest.raises(StatementError):
        Assessment.from_bytes(data)


@given(data=json_texts())
def test_deviation_dispositions_refuse_with_their_own_error(data: bytes) -> None:
    with pytest.raises(StatementError):
        Disposition.from_bytes(data)


@given(data=st.one_of(st.binary(max_size=300), TEXT.map(lambda t: t.encode("utf-8", "replace"))))
def test_oq_results_are_read_or_refused_never_a_crash(data: bytes) -> None:
    try:
        results = parse_junit(b"<testsuites>" + data + b"</testsuites>")
    except ResultsError as exc:
        assert str(exc)
    else:
        assert all(case.test_id is not None for case in results.cases)


def test_an_xml_bomb_in_oq_results_is_refused_before_parsing() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaaaaaaaa">]><testsuites>&a;</testsuites>'
    )
    with pytest.raises(ResultsError, match="DOCTYPE"):
        parse_junit(bomb)


@given(text=st.text(alphabet="`~{}:\n \tabcontrl-id=CTL1", max_size=300))
def test_need_sources_are_items_never_a_crash(text: str) -> None:
    for item in parse_items("doc.md", text):
        assert item.id and 1 <= item.line <= text.count("\n") + 1


@given(data=json_texts())
def test_training_records_refuse_with_their_own_error(data: bytes) -> None:
    for kind in (TrainingRecord, RosterApproval):
        with pytest.raises(StatementError):
            kind.from_bytes(data)


@given(data=json_texts())
def test_capa_statements_refuse_with_their_own_error(data: bytes) -> None:
    for kind in (CapaStatement, CapaImport):
        with pytest.raises(StatementError):
            kind.from_bytes(data)


@given(text=YAML_TEXT, value=VALUES)
def test_roster_refuses_with_its_own_error(text: str, value: Any) -> None:
    for data in (f"people: {text}\n", yaml_value({"people": value})):
        try:
            Roster.from_bytes(data.encode("utf-8", "surrogatepass"), "roster.yaml")
        except RosterError as exc:
            assert str(exc).startswith("roster.yaml:")
            assert "\n" not in str(exc)


@given(rows=st.lists(st.lists(TEXT, min_size=6, max_size=6), max_size=5))
def test_an_hr_export_is_a_roster_or_located_rows_never_a_crash(rows: list[list[str]]) -> None:
    text = "employee,name,role,from,until,keys\n" + "\n".join(",".join(r) for r in rows)
    roster, problems = from_csv(text, "hr.csv")
    assert (roster is None) == bool(problems)
    assert all(p.startswith("hr.csv") for p in problems)


TOML_KEYS = st.sampled_from(
    ["organisation", "trust_roots", "site_pages", "sets", "approvals", "roles", "training", "x"]
)


@st.composite
def deep_toml(draw: st.DrawFn) -> str:
    depth = draw(st.integers(min_value=MAX_DEPTH - 2, max_value=5000))
    return draw(st.sampled_from(["[" * depth + "]" * depth, "{a = " * depth + "}" * depth]))


@given(
    key=TOML_KEYS,
    value=st.one_of(TEXT, deep_toml(), HUGE, VALUES.map(lambda v: json.dumps(v, default=str))),
)
def test_configuration_is_one_error_never_a_crash(key: str, value: str) -> None:
    root = Path(tempfile.mkdtemp(prefix="qms-fuzz-"))
    try:
        text = f'[tool.qms]\norganisation = "T"\n{key} = {value}\n'
        (root / "pyproject.toml").write_bytes(text.encode("utf-8", "surrogatepass"))
        try:
            load_config(root)
        except ConfigError as exc:
            assert "\n" not in str(exc)
    finally:
        shutil.rmtree(root)


def test_bracket_depth_ignores_brackets_inside_strings() -> None:
    assert bracket_depth('{"a": ["[[[{", {"b": "\\"]]"}]}') == 3


def test_deep_front_matter_is_refused_at_its_line() -> None:
    source = "---\nid: POL-X-001\ntags:\n" + "".join(" " * i + "-\n" for i in range(3000)) + "---\n"
    (finding,) = parse_document("x.md", source).findings
    assert (
        finding.message == f"front matter is not valid YAML: nested deeper than {MAX_DEPTH} levels"
    )
    assert finding.line == 3 + MAX_DEPTH  # the first list that is one level too deep


def test_a_billion_laughs_is_refused_at_its_line() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    lines += [
        f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    text = "\n".join([*lines, "key: c", "description: *i", "requirements: []", ""])
    catalogue, findings = parse_catalogue("c.yaml", "c", text)
    assert catalogue is None
    assert [(f.line, f.message) for f in findings] == [
        (6, f"not valid YAML: aliases expand to more than {MAX_VALUES:,} values")
    ]


def write_handbook(root: Path, front_matter: str, doc_id: str = "POL-X-001") -> None:
    (root / "docs").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.qms]\norganisation = "T"\n', encoding="utf-8")
    (root / "conf.py").write_text('extensions = ["qms_sphinx"]\n', encoding="utf-8")
    (root / "docs" / "index.md").write_text("# Home\n\n```{toctree}\npol\n```\n", encoding="utf-8")
    head = textwrap.dedent(
        """\
        title: T
        type: policy
        version: "1.0"
        owner: O
        classification: internal
        review_months: 12
        """
    )
    text = f"---\nid: {doc_id}\n{head}{front_matter}\n---\n\n# T\n"
    (root / "docs" / "pol.md").write_bytes(text.encode("utf-8", "surrogatepass"))


# capsys is read out after every example, so sharing it between examples is safe.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["tags", "change_reason", "effective"]), value=YAML_TEXT)
def test_quick_check_exits_0_1_or_2_without_a_traceback(
    field: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = Path(tempfile.mkdtemp(prefix="qms-fuzz-"))
    try:
        write_handbook(root, f"{field}: {value}")
        code = main(["--root", str(root), "check", "--quick"])
        out, err = capsys.readouterr()
    finally:
        shutil.rmtree(root)
    assert code in (0, 1, 2)
    assert "Traceback" not in out + err
    if code == 2:
        assert len(err.strip().splitlines()) == 1
    if code == 1:
        assert all(line.startswith("docs/pol.md:") for line in out.splitlines())


@pytest.mark.parametrize("quick", [True, False])
def test_5000_nested_tags_are_one_located_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], quick: bool
) -> None:
    write_handbook(tmp_path, "tags: " + "[" * 5000 + "]" * 5000)
    code = main(["--root", str(tmp_path), "check", *(["--quick"] if quick else [])])
    out, err = capsys.readouterr()
    assert code == 1
    assert (
        out
        == f"docs/pol.md:9: front matter is not valid YAML: nested deeper than {MAX_DEPTH} levels\n"
    )
    assert "Traceback" not in err


@pytest.mark.parametrize("quick", [True, False])
def test_a_100000_character_id_is_a_located_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], quick: bool
) -> None:
    write_handbook(tmp_path, "", doc_id="POL-" + "X" * 100_000)
    code = main(["--root", str(tmp_path), "check", *(["--quick"] if quick else [])])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == (
        f"docs/pol.md:2: front matter field 'id' is 100004 characters long; an id has at most "
        f"{MAX_ID_LENGTH}, like POL-ACC-001\n"
    )
    assert "File name too long" not in err


def test_an_id_at_the_length_limit_is_accepted() -> None:
    doc_id = "POL-" + "X" * (MAX_ID_LENGTH - 4)
    source = f"---\nid: {doc_id}\ntitle: T\ntype: policy\nversion: '1.0'\nowner: O\n"
    source += "classification: internal\nreview_months: 12\n---\n"
    result = parse_document("x.md", source)
    assert result.findings == () and result.document is not None
    assert result.document.id == doc_id


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=YAML_TEXT)
def test_signers_list_exits_0_1_or_2_without_a_traceback(
    text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = Path(tempfile.mkdtemp(prefix="qms-fuzz-"))
    try:
        write_handbook(root, "")
        (root / "signatures").mkdir()
        registry = f"revision: 1\nsigners: {text}\n".encode("utf-8", "surrogatepass")
        (root / "signatures" / "signers.yaml").write_bytes(registry)
        code = main(["--root", str(root), "signers", "list"])
        out, err = capsys.readouterr()
    finally:
        shutil.rmtree(root)
    assert code in (0, 1, 2)
    assert "Traceback" not in out + err
    if code != 0:
        assert "signatures/signers.yaml" in err


@given(text=YAML_TEXT, value=VALUES)
def test_metric_results_are_findings_never_a_crash(text: str, value: Any) -> None:
    # Monitoring and measurement (issue 16): a results file of docs/_metrics/.
    for body in (text, f"metric: KPI-X-01\nunit: '%'\nresults:\n  - period: '2026-Q1'\n"
                 f"    source: s\n    value: {yaml_value(value).strip() or 'x'}\n"):  # fmt: skip
        found, findings = parse_results("m.yaml", body)
        assert (found is None) == bool(findings)
        assert all((f.line or 0) >= 1 for f in findings)


@given(text=YAML_TEXT, value=VALUES, field=st.sampled_from(["edition", "reviewed", "copy", "url"]))
def test_external_documents_are_findings_never_a_crash(text: str, value: Any, field: str) -> None:
    # External documents (issue 17): a registration of docs/_external/.
    valid = {
        "id": "EXT-X-1", "title": "t", "issuer": "i", "edition": "1", "url": "https://x",
        "owner": "o", "reviewed": "2026-01-01", "review_months": 12,
    }  # fmt: skip
    lines = "".join(f"{k}: {v!r}\n" for k, v in valid.items() if k != field)
    for body in (text, lines + f"{field}: {yaml_value(value).strip() or 'x'}\n"):
        found, findings = parse_external("e.yaml", body)
        assert (found is None) == bool(findings)
        assert all((f.line or 0) >= 1 for f in findings)


@given(text=TEXT)
def test_need_blocks_never_crash(text: str) -> None:
    # Release comparison (issue 17): items read from a published source without Sphinx.
    # The title is one line: a line break in it would end the directive line (as in MyST).
    title = text.replace("\r", " ").replace("\n", " ")
    for source in (text, f"```{{control}} {title}\n:id: CTL-X-1\n{text}\n```\n"):
        blocks = need_blocks(source, "d")
        assert all((b.need.lineno or 0) >= 1 and "\n\n\n" not in b.body for b in blocks)
        if source != text:
            assert blocks and blocks[0].need.type == "control"


# A real token's first bytes, so that some inputs get past the outer DER structure.
TOKEN_PREFIX = bytes.fromhex("308204a13003020100308204980609")


@given(data=st.one_of(st.binary(max_size=400), st.binary(max_size=400).map(TOKEN_PREFIX.__add__)))
def test_time_stamp_tokens_are_a_problem_never_a_crash(data: bytes) -> None:
    pinned = TimestampAuthority("Any", "http://127.0.0.1:9/tsr", "not a certificate")
    facts = verify_token(data, b"signature", (pinned,))
    assert not facts.trusted and facts.problem
