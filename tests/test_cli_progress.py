"""Progress of long commands: a tidy bar on a terminal, nothing when piped or in CI."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import TextIO

import pytest

from qms.cli.main import main
from qms.cli.progress import ProgressBar, interactive, progress_bar

from .conftest import HandbookFactory
from .signing_repo import run


class Terminal(io.StringIO):
    """A stand-in for a terminal's stderr: it says it is a tty and takes UTF-8."""

    def isatty(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"


def frames(text: str) -> list[str]:
    """What the terminal showed, one redraw at a time (the bar's line is rewritten in place)."""
    return [part.replace("\x1b[K", "") for part in text.split("\r") if part.replace("\x1b[K", "")]


@pytest.fixture
def no_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "JENKINS_URL", "TF_BUILD"):
        monkeypatch.delenv(name, raising=False)


def test_bar_redraws_one_line_and_erases_it(no_ci: None) -> None:
    screen = Terminal()
    with progress_bar(screen) as bar:
        bar("reading", 0, 4)
        bar("reading", 2, 4)
        bar("reading", 2, 4)  # unchanged: not drawn again
        bar("writing", 4, 4)
    text = screen.getvalue()
    assert "\n" not in text
    assert text.endswith("\r\x1b[K")  # the line is erased for what follows
    shown = frames(text)
    assert [line.split()[0] for line in shown] == ["reading", "reading", "writing"]
    assert [line.split()[-1] for line in shown] == ["0/4", "2/4", "4/4"]
    half = shown[1].split()[1]
    assert half.count("█") == half.count("░") > 0


def test_bar_fits_the_terminal_and_shows_unknown_totals() -> None:
    bar = ProgressBar(Terminal(), columns=40)
    for done in range(0, 101, 7):
        assert len(bar.render("verifying", done, 100)) < 40
    assert bar.render("preparing", 0, 0) == "preparing..."
    assert bar.render("verifying", 3, 0).split() == ["verifying", "3"]
    assert bar.render("writing", 7, 5).endswith("5/5")  # never more than the total
    assert ProgressBar(io.StringIO(), columns=60).render("reading", 1, 2).count("#") == 15


def test_no_bar_unless_a_terminal_outside_ci(no_ci: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert interactive(Terminal())
    assert not interactive(io.StringIO())
    monkeypatch.setenv("CI", "false")
    assert interactive(Terminal())
    monkeypatch.setenv("CI", "true")
    assert not interactive(Terminal())
    screen = Terminal()
    with progress_bar(screen) as bar:
        bar("reading", 1, 2)
    assert screen.getvalue() == ""


def on_terminal(screen: TextIO, monkeypatch: pytest.MonkeyPatch, *argv: str) -> int:
    """Run qms in-process with `screen` as stderr, 100 columns wide.

    Its own patch context, undone on return: undoing the test's `monkeypatch` would also
    restore the CI variables that `no_ci` removed (and CI runs with CI=true).
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stderr", screen)
        patch.setenv("COLUMNS", "100")
        return main(list(argv))


def build_on(
    repo: Path, screen: io.StringIO, monkeypatch: pytest.MonkeyPatch, *options: str
) -> tuple[int, str]:
    """Run `qms build` in-process on a terminal `screen`; return the code and the screen."""
    code = on_terminal(screen, monkeypatch, "--root", str(repo), "build", *options)
    return code, screen.getvalue()


def last_of_each_phase(shown: list[str]) -> dict[str, str]:
    return {line.split()[0]: line for line in shown}


def test_build_on_a_terminal_shows_phases_not_the_sphinx_log(
    make_handbook: HandbookFactory, monkeypatch: pytest.MonkeyPatch, no_ci: None
) -> None:
    repo = make_handbook("handbook")
    pages = len(list((repo / "docs").rglob("*.md")))
    code, text = build_on(repo, Terminal(), monkeypatch, "--fresh")
    assert code == 0
    progress, erased, result = text.rpartition("\r\x1b[K")
    assert erased and "\n" not in progress  # the bar's line, then erased for the result
    assert result == f"qms build: site written to {repo / '_build/html/index.html'}\n"
    shown = frames(progress)
    phases = list(dict.fromkeys(line.split()[0] for line in shown))
    assert phases == [
        "starting...",
        "reading",
        "verifying",
        "preparing...",
        "writing",
        "finishing...",
    ]
    last = last_of_each_phase(shown)
    assert last["reading"].endswith(f"{pages}/{pages}")
    assert last["writing"].endswith(f"{pages}/{pages}")
    assert all(len(line) < 100 for line in shown)
    for noise in ("Running Sphinx", "MdParserConfig", "reading sources", "build succeeded"):
        assert noise not in text


class FileTerminal(io.TextIOWrapper):
    """A terminal backed by a real file, so that forked build workers could write to it too."""

    def isatty(self) -> bool:
        return True


def test_parallel_build_counts_every_page_once(
    make_handbook: HandbookFactory,
    monkeypatch: pytest.MonkeyPatch,
    no_ci: None,
    tmp_path: Path,
) -> None:
    repo = make_handbook("handbook")
    pages = len(list((repo / "docs").rglob("*.md")))
    with FileTerminal(open(tmp_path / "tty", "wb"), encoding="utf-8", write_through=True) as tty:
        code = on_terminal(tty, monkeypatch, "--root", str(repo), "build", "--fresh", "--jobs", "2")
    with open(tmp_path / "tty", encoding="utf-8", newline="") as screen:
        text = screen.read()
    assert code == 0
    reading = [line.split()[-1] for line in frames(text) if line.startswith("reading ")]
    counts = [int(shown.split("/")[0]) for shown in reading]
    assert counts == sorted(counts) and counts[-1] == pages
    assert all(shown.endswith(f"/{pages}") for shown in reading)


def test_verbose_build_prints_the_sphinx_log_and_no_bar(
    make_handbook: HandbookFactory, monkeypatch: pytest.MonkeyPatch, no_ci: None
) -> None:
    repo = make_handbook("handbook")
    code, text = build_on(repo, Terminal(), monkeypatch, "--fresh", "-v")
    assert code == 0
    assert "Running Sphinx" in text and "build succeeded" in text
    assert "\x1b[K" not in text


def test_piped_or_ci_build_prints_only_findings_and_the_result(
    make_handbook: HandbookFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo = make_handbook("frontmatter")
    code, out, err = run(capsys, "--root", str(repo), "build")
    assert code == 1
    assert out.splitlines() and all(line.startswith("docs/") for line in out.splitlines())
    assert err.count("\n") == 1 and err.startswith("qms build: ")
    monkeypatch.setenv("CI", "true")
    code, text = build_on(repo, Terminal(), monkeypatch, "--fresh")
    assert code == 1
    assert text.count("\n") == 1 and text.startswith("qms build: ")


def test_check_on_a_terminal_shows_the_reading_phase(
    make_handbook: HandbookFactory, monkeypatch: pytest.MonkeyPatch, no_ci: None
) -> None:
    repo = make_handbook("handbook")
    screen = Terminal()
    assert on_terminal(screen, monkeypatch, "--root", str(repo), "check") == 0
    text = screen.getvalue()
    assert text.endswith("\r\x1b[Kqms check: no problems found\n")
    assert any(line.startswith("reading ") for line in frames(text))
    assert "Running Sphinx" not in text


def test_status_and_verify_count_documents_on_a_terminal(
    make_handbook: HandbookFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_ci: None,
) -> None:
    repo = make_handbook("handbook")  # three controlled documents
    for command in ("status", "verify"):
        screen = Terminal()
        on_terminal(screen, monkeypatch, "--root", str(repo), command)
        shown = frames(screen.getvalue())
        assert [line.split()[-1] for line in shown if line.startswith("verifying ")] == [
            "1/3", "2/3", "3/3"
        ]  # fmt: skip
        out = capsys.readouterr().out
        assert out.startswith("ID ") and "\r" not in out
    for command in ("status", "verify"):  # JSON is for programs: no bar even on a terminal
        screen = Terminal()
        on_terminal(screen, monkeypatch, "--root", str(repo), command, "--json")
        assert "verifying" not in screen.getvalue()
