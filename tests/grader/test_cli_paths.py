"""How grade names the paths it prints: relative inside the current folder,
whole outside it."""
import os

from socklab.cli import shown_path


def test_a_path_inside_the_current_folder_is_relative(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert shown_path(str(tmp_path / "results" / "echo")) == os.path.join("results", "echo")


def test_a_path_outside_the_current_folder_is_whole(tmp_path, monkeypatch):
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    assert shown_path(str(tmp_path / "r")) == str(tmp_path / "r")
    assert shown_path(str(tmp_path)) == str(tmp_path)
