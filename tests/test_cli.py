"""The qms command, called in-process through main(argv)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from qms.cli.main import main

from .conftest import HandbookFactory
from .signing_repo import run
from .test_sphinx_frontmatter import EXPECTED


def as_cli_line(sphinx_line: str) -> str:
    """'x.md:3: WARNING: msg [code]' as the CLI prints it: 'docs/x.md:3: msg'."""
    where, message = sphinx_line.split(": WARNING: ", 1)
    message = message.rsplit(" [", 1)[0].replace("already used by ", "already used by docs/")
    return f"docs/{where}: {message}"


def test_quick_check_reports_every_front_matter_problem(
    make_handbook: HandbookFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_handbook("frontmatter")
    code, out, err = run(capsys, "--root", str(repo), "check", "--quick")
    assert code == 1
    expected = sorted({as_cli_line(line) for line in EXPECTED if "[qms.raw-html]" not in line})
    assert sorted(out.splitlines()) == expected
    assert err == f"qms check: {len(expected)} problems found\n"


def test_full_check_adds_what_only_the_build_sees(
    make_handbook: HandbookFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_handbook("frontmatter")
    code, out, _ = run(capsys, "--root", str(repo), "check")
    assert code == 1
    lines = set(out.splitlines())
    assert {as_cli_line(line) for line in EXPECTED} <= lines
    assert "docs/raw-html.md:13: raw HTML is not allowed in the handbook" in out


def test_check_reports_need_fields_at_their_line(
    make_handbook: HandbookFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_handbook("needs")
    code, out, _ = run(capsys, "--root", str(repo), "check")
    assert code == 1
    assert (
        "docs/model.md:51: need RSK-002: field 'likelihood': 7 is greater than the maximum "
        "of 5; allowed: a whole number from 1 to 5"
    ) in out.splitlines()
    assert "docs/model.md:77: Need could not be created" in out


def test_check_json(make_handbook: HandbookFactory, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_handbook("frontmatter")
    code, out, _ = run(capsys, "--root", str(repo), "check", "--quick", "--json")
    assert code == 1
    data = json.loads(out)
    assert data["ok"] is False
    missing = [f for f in data["findings"] if f["path"] == "docs/missing-field.md"]
    assert missing == [
        {
            "path": "docs/missing-field.md",
            "line": 8,
            "message": "front matter is missing required field 'owner'",
            "code": "frontmatter",
        }
    ]


def test_clean_handbook_checks_clean(
    make_handbook: HandbookFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_handbook("handbook")
    code, out, err = run(capsys, "--root", str(repo), "check")
    assert (code, out, err) == (0, "", "qms check: no problems found\n")


def test_status_table(make_handbook: HandbookFactory, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_handbook("handbook")
    code, out, err = run(capsys, "--root", str(repo), "status")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "VERSION", "STATUS", "NEXT", "REVIEW", "TITLE"]
    assert lines[1].split() == [
        "POL-ACC-001", "2.0", "DRAFT", "2027-01-15", "Access", "Control", "Policy"
    ]  # fmt: skip
    assert lines[2].split()[:4] == ["POL-CRY-001", "1.1", "DRAFT", "-"]
    assert lines[3].split()[:4] == ["SOP-BCK-001", "0.1", "DRAFT", "2028-03-01"]
    assert len(lines) == 4


def test_status_json_and_filter(
    make_handbook: HandbookFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_handbook("handbook")
    code, out, _ = run(capsys, "--root", str(repo), "status", "--json", "POL-ACC-001")
    assert code == 0
    data = json.loads(out)
    [doc] = data["documents"]
    assert doc["id"] == "POL-ACC-001"
    assert doc["status"] == "draft"
    assert doc["next_review"] == "2027-01-15"
    assert doc["path"] == "docs/policies/pol-acc-001.md"
    assert data["findings"] == []


def test_status_reports_unreadable_documents_and_exits_1(
    make_handbook: HandbookFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_handbook("frontmatter")
    code, out, err = run(capsys, "--root", str(repo), "status")
    assert code == 1
    assert "POL-OK-001" in out and "POL-VAL-001" not in out
    assert "docs/wrong-value.md:4: front matter field 'type' has 'memo'" in err


def test_outside_a_handbook_exits_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for command in ("check", "status", "build"):
        code, out, err = run(capsys, command)
        assert (code, out) == (2, "")
        assert err.count("\n") == 1
        assert err.startswith("qms: error: not a handbook repository: no pyproject.toml with ")
        assert err.endswith("run qms inside a handbook checkout, or pass --root DIR\n")


def test_root_without_pyproject_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--root", str(tmp_path), "status")
    assert code == 2
    assert err.startswith("qms: error: not a handbook repository:")


def test_malformed_configuration_exits_2(
    make_handbook: HandbookFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_handbook("handbook")
    (repo / "pyproject.toml").write_text("[tool.qms]\nsite_pages = 'index'\n", encoding="utf-8")
    code, _, err = run(capsys, "--root", str(repo), "status")
    assert code == 2
    assert err == (
        "qms: error: [tool.qms] site_pages must be a list of text values; "
        "fix site_pages in pyproject.toml\n"
    )


def test_usage_errors_exit_2_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'frobnicate'" in err
    assert err.strip().splitlines()[-1].startswith("qms: error:")


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "commands:" in capsys.readouterr().err


def test_help_names_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("check", "build", "status"):
        assert f"    {command} " in out
    assert "Exit codes: 0 all good; 1 findings" in out


def test_build_writes_the_site(
    make_handbook: HandbookFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_handbook("handbook")
    code, out, err = run(capsys, "--root", str(repo), "build")
    assert (code, out) == (0, "")
    index = repo / "_build" / "html" / "index.html"
    assert err == f"qms build: site written to {index}\n"
    assert "qms-control" in (repo / "_build/html/policies/pol-acc-001.html").read_text()


def test_build_with_warnings_exits_1_and_names_them(
    make_handbook: HandbookFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_handbook("frontmatter")
    code, out, err = run(capsys, "--root", str(repo), "build", "--out", str(repo / "site"))
    assert code == 1
    assert "docs/missing-field.md:8: front matter is missing required field 'owner'" in out
    assert "is not fit for release" in err
    assert (repo / "site" / "index.html").is_file()


def test_root_with_a_pyproject_but_no_qms_table_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'other'\n")
    code, _, err = run(capsys, "--root", str(tmp_path), "status")
    assert code == 2
    assert "has no pyproject.toml with [tool.qms]" in err


def test_missing_docs_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.qms]\n")
    code, _, err = run(capsys, "--root", str(tmp_path), "check", "--quick")
    assert code == 2
    assert (
        err == "qms: error: no documents folder at docs; create it, or set docs_dir in [tool.qms]\n"
    )


def test_non_utf8_source_is_a_located_finding(
    make_handbook: HandbookFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_handbook("handbook")
    (repo / "docs/policies/latin1.md").write_bytes(b"---\nid: POL-L1-001\ntitle: Caf\xe9\n---\n")
    for argv in (("check", "--quick"), ("check",), ("status",)):
        code, out, err = run(capsys, "--root", str(repo), *argv)
        assert code == 1
        assert (
            "docs/policies/latin1.md:3: not UTF-8 text (byte 0xe9); save the file as UTF-8"
            in out + err
        )


def test_hidden_and_underscore_files_are_not_sources_anywhere(
    make_handbook: HandbookFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_handbook("handbook")
    for name in ("_draft.md", "policies/.hidden.md"):
        (repo / "docs" / name).write_text("---\nid: broken\n---\n")
    assert run(capsys, "--root", str(repo), "check", "--quick")[0] == 0
    assert run(capsys, "--root", str(repo), "check")[0] == 0


def test_incremental_build_repeats_warnings_and_drops_removed_pages(
    make_handbook: HandbookFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_handbook("handbook")
    doc = repo / "docs/policies/pol-acc-001.md"
    doc.write_text(doc.read_text().replace("review_months: 12", "review_months: 999"))
    assert run(capsys, "--root", str(repo), "build")[0] == 1
    code, out, _ = run(capsys, "--root", str(repo), "build")
    assert code == 1, "an unchanged flawed document must fail the next build too"
    assert "docs/policies/pol-acc-001.md:8: front matter field 'review_months' has 999" in out
    page = repo / "_build/html/procedures/sop-bck-001.html"
    assert page.is_file()
    (repo / "docs/procedures/sop-bck-001.md").unlink()
    run(capsys, "--root", str(repo), "build")
    assert not page.exists()


def on(day: str) -> str:
    """SOURCE_DATE_EPOCH for a day: the date qms judges status and reviews on."""
    return str(int(datetime.fromisoformat(f"{day}T00:00:00+00:00").timestamp()))


def test_reviews_with_nothing_due_says_so_for_the_window(
    make_handbook: HandbookFactory,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = make_handbook("handbook")  # POL-ACC-001 is due 2027-01-15, SOP-BCK-001 2028-03-01
    monkeypatch.setenv("SOURCE_DATE_EPOCH", on("2026-11-01"))
    code, out, _ = run(capsys, "--root", str(repo), "reviews")
    assert (code, out) == (0, "no review due within 30 days of 2026-11-01 and none overdue\n")
    code, out, _ = run(capsys, "--root", str(repo), "reviews", "--within", "90")
    [header, row] = out.splitlines()
    assert header.split() == ["ID", "DUE", "STATE", "OWNER", "TITLE"]
    assert row.startswith("POL-ACC-001  2027-01-15  due in 75 days  ")
    code, out, _ = run(capsys, "--root", str(repo), "reviews", "--within", "1")
    assert out == "no review due within 1 day of 2026-11-01 and none overdue\n"
    code, out, _ = run(capsys, "--root", str(repo), "reviews", "--json", "--within", "90")
    assert json.loads(out)["within_days"] == 90
    assert [r["id"] for r in json.loads(out)["reviews"]] == ["POL-ACC-001"]


def test_a_mistyped_command_or_option_value_suggests_the_closest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for argv, expected in (
        (["stauts"], "qms: error: argument COMMAND: invalid choice: 'stauts'; did you mean "
                     "'status'? (see 'qms --help')\n"),
        (["audit", "X"], "did you mean 'audit-trail'?"),
        (["signers", "ad"], "qms signers: error: argument SUBCOMMAND: invalid choice: 'ad'; "
                            "did you mean 'add'?"),
        (["approve", "X", "--meaning", "reviewd"], "did you mean 'reviewed'?"),
    ):  # fmt: skip
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        err = capsys.readouterr().err
        assert exit_info.value.code == 2
        assert err.count("\n") == 1 and expected in err
    with pytest.raises(SystemExit):
        main(["frobnicate"])
    assert "did you mean" not in capsys.readouterr().err  # nothing close: the list stays


def test_document_ids_are_case_insensitive_and_unknown_ids_get_a_suggestion(
    make_handbook: HandbookFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_handbook("handbook")
    code, out, _ = run(capsys, "--root", str(repo), "status", "pol-acc-001", " Sop-Bck-001")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["POL-ACC-001", "SOP-BCK-001"]
    for typed, hint in (
        ("pol-acc-010", "did you mean POL-ACC-001? ('qms status' lists the ids)"),
        ("POL-NOPE-001", "run 'qms status' to list the ids"),  # nothing close
    ):
        code, out, err = run(capsys, "--root", str(repo), "status", typed)
        assert (code, out) == (2, "")
        assert err == f"qms: error: no controlled document with id {typed.upper()}; {hint}\n"
