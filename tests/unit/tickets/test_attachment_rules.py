"""Which files are accepted, by extension and by their first bytes, and how names are made safe."""

import pytest

from services.tickets.domain.attachments import content_matches, content_type_for, sanitize_filename


@pytest.mark.parametrize(
    ("name", "head"),
    [
        ("a.png", b"\x89PNG\r\n\x1a\nrest"),
        ("a.JPG", b"\xff\xd8\xff\xe0"),
        ("a.gif", b"GIF89a..."),
        ("a.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 "),
        ("a.pdf", b"%PDF-1.7"),
        ("a.docx", b"PK\x03\x04"),
        ("a.zip", b"PK\x03\x04"),
        ("a.csv", "año,mes\n".encode()),
        ("a.log", "é".encode()[:1]),  # a character cut by the sniff window
    ],
)
def test_content_matching_its_extension_is_accepted(name, head):
    assert content_matches(name, head)


@pytest.mark.parametrize(
    ("name", "head"),
    [
        ("a.png", b"<html><script>"),
        ("a.pdf", b"PK\x03\x04"),
        ("a.txt", b"MZ\x90\x00\x03\x00"),
        ("a.txt", b"\xff\xfe\x00bad"),
        ("a.html", b"<html>"),
        ("a.exe", b"MZ"),
        ("noextension", b"text"),
    ],
)
def test_content_not_matching_or_not_allowed_is_refused(name, head):
    assert not content_matches(name, head)


def test_content_types_come_from_the_allow_list_never_html():
    assert content_type_for("x.txt") == "text/plain"
    assert content_type_for("x.svg") is None
    assert content_type_for("x.html") is None


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        ("bad\x00na\nme.png", "bad_na_me.png"),
        ('a"b<c>.png', "a_b_c_.png"),
        ("...", ""),
    ],
)
def test_filenames_lose_paths_and_control_characters(raw, safe):
    assert sanitize_filename(raw) == safe


def test_long_filenames_keep_their_extension():
    name = sanitize_filename("x" * 500 + ".pdf")
    assert len(name) == 200 and name.endswith(".pdf")
