"""LocalFileStorage on a temporary directory: atomic writes under a two-character prefix, sizes and digests."""

import hashlib
import io
import secrets

import pytest

from services.tickets.adapters.storage import LocalFileStorage, TooLarge, attachments_dir, relative_path


@pytest.fixture
def storage(tmp_path):
    return LocalFileStorage(tmp_path)


def new_key() -> str:
    return secrets.token_urlsafe(24)


def test_put_stores_the_bytes_under_a_prefix_and_answers_size_and_sha256(storage, tmp_path):
    key, data = new_key(), b"hello" * 50_000
    size, digest = storage.put(key, io.BytesIO(data))
    assert (size, digest) == (len(data), hashlib.sha256(data).hexdigest())
    assert (tmp_path / key[:2] / key).read_bytes() == data


def test_put_leaves_no_temporary_file_behind(storage, tmp_path):
    key = new_key()
    storage.put(key, io.BytesIO(b"abc"))
    assert [p.name for p in (tmp_path / key[:2]).iterdir()] == [key]


def test_put_past_the_limit_raises_and_keeps_nothing(storage, tmp_path):
    key = new_key()
    with pytest.raises(TooLarge):
        storage.put(key, io.BytesIO(b"x" * 200_000), max_bytes=100_000)
    assert list((tmp_path / key[:2]).iterdir()) == []


def test_open_reads_back_and_delete_forgets(storage):
    key = new_key()
    storage.put(key, io.BytesIO(b"abc"))
    with storage.open(key) as stream:
        assert stream.read() == b"abc"
    storage.delete(key)
    storage.delete(key)  # twice is fine
    with pytest.raises(FileNotFoundError):
        storage.open(key)


@pytest.mark.parametrize("key", ["../../etc/passwd", "a/b" * 10, "short", ""])
def test_keys_that_could_escape_the_root_are_refused(key):
    with pytest.raises(ValueError):
        relative_path(key)


def test_attachments_dir_defaults_under_the_var_dir_and_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("ATTACHMENTS_DIR", raising=False)
    monkeypatch.setenv("HELPDESK_VAR_DIR", str(tmp_path / "var"))
    assert attachments_dir() == (tmp_path / "var" / "attachments").resolve()
    monkeypatch.setenv("ATTACHMENTS_DIR", str(tmp_path / "files"))
    assert attachments_dir() == (tmp_path / "files").resolve()
