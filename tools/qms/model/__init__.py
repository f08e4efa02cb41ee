"""Pure document model: no Sphinx, no git, no gpg."""
