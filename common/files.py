"""Files and folders written whole: into a partial beside the target, then one rename.

A crash at any moment leaves the old target or the new one, never half of one. Every
writer of a run folder, a picture, an export or a cache entry goes through
:func:`replace_atomically`.
"""

import json
import os
import shutil


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            os.remove(path)
        except OSError:
            pass


def replace_atomically(path, save, suffix=".partial"):
    """``save(partial)`` writes a file or a folder at ``path + suffix``; a rename makes it ``path``.

    ``suffix`` keeps whatever a writer reads from the name (``.partial.png``: PIL's format,
    ``.partial.keras``: Keras'); it is never a bare number, so TensorFlow Serving does not
    load a partial version folder. A written file is synced to disk before the rename; a
    partial left by a crash is replaced, and on any failure (a signal too) the partial is
    removed. Returns ``path``.
    """
    partial = os.path.abspath(path) + suffix  # beside a folder given as "out/", not in it
    if os.path.lexists(partial):
        _remove(partial)
    try:
        save(partial)
        if os.path.isfile(partial):
            descriptor = os.open(partial, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        os.replace(partial, path)
    except BaseException:
        _remove(partial)
        raise
    return path


def write_atomically(path, write, mode="w"):
    """Write ``path`` through ``write(handle)``, atomically (:func:`replace_atomically`)."""

    def save(partial):
        with open(partial, mode) as handle:
            write(handle)

    return replace_atomically(path, save)


def write_json_atomically(path, payload, sort_keys=False):
    """``payload`` as indented JSON, atomically."""

    def write(handle):
        json.dump(payload, handle, indent=2, sort_keys=sort_keys)
        handle.write("\n")

    return write_atomically(path, write)
