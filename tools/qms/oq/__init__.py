"""The operational qualification (OQ): tests run against the installed qms-handbook."""
