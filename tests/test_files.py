"""The one atomic writer (``common.files``): a file or a folder appears whole or not at all."""

import os

import pytest

from common import files


def test_a_file_and_a_folder_appear_by_one_rename(tmp_path):
    target = tmp_path / "config.json"
    files.write_json_atomically(str(target), {"b": 1, "a": 2}, sort_keys=True)
    assert target.read_text() == '{\n  "a": 2,\n  "b": 1\n}\n'
    folder = tmp_path / "1"

    def save(partial):
        os.makedirs(os.path.join(partial, "variables"))
        with open(os.path.join(partial, "saved_model.pb"), "w") as handle:
            handle.write("x")

    assert files.replace_atomically(str(folder), save) == str(folder)
    assert sorted(os.listdir(folder)) == ["saved_model.pb", "variables"]
    assert sorted(os.listdir(tmp_path)) == ["1", "config.json"]


@pytest.mark.parametrize("as_folder", [False, True])
@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_failed_write_leaves_the_old_target_and_no_partial(tmp_path, as_folder, failure):
    target = tmp_path / "state"
    target.write_text("old")

    def save(partial):
        if as_folder:
            os.makedirs(os.path.join(partial, "inside"))
        else:
            with open(partial, "w") as handle:
                handle.write("half")
        raise failure

    with pytest.raises(type(failure)):
        files.replace_atomically(str(target), save)
    assert os.listdir(tmp_path) == ["state"] and target.read_text() == "old"


def test_a_partial_left_by_a_crash_is_replaced(tmp_path):
    stale = tmp_path / "out.partial"
    (stale / "leftover").mkdir(parents=True)
    files.write_atomically(str(tmp_path / "out"), lambda handle: handle.write("new"))
    assert os.listdir(tmp_path) == ["out"] and (tmp_path / "out").read_text() == "new"


def test_a_folder_given_with_a_trailing_separator_gets_its_partial_beside_it(tmp_path):
    seen = []
    files.replace_atomically(str(tmp_path / "export") + os.sep,
                             lambda partial: seen.append(partial) or os.mkdir(partial))
    assert seen == [str(tmp_path / "export.partial")]
    assert os.path.isdir(tmp_path / "export")
