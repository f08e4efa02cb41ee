"""`python -m qms`: the same as the qms command."""

from qms.cli.main import run

run()
