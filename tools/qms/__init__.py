"""The qms toolkit: document model, adapters, services and the command line."""

__version__ = "0.1.0"
