"""The `qms` command line: parses arguments, calls services, prints results."""
