"""Releases: signed, reproducible, offline-verifiable sets of the handbook in force.

One module per job: create (and build, in a child per set: services.set_build), sign,
publish (with the index), verify a published folder, and the releases a document is in.
"""

from qms.services.release.audit import releases_of
from qms.services.release.create import CreatedRelease, SetProgress, create_release
from qms.services.release.folder import verify_release_folder
from qms.services.release.folder_files import MANIFEST
from qms.services.release.publish import Published, publish_release
from qms.services.release.sign import sign_release

__all__ = [
    "MANIFEST",
    "CreatedRelease",
    "Published",
    "SetProgress",
    "create_release",
    "publish_release",
    "releases_of",
    "sign_release",
    "verify_release_folder",
]
