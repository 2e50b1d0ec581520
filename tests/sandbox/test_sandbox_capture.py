"""OutputCapture keeps head and tail and marks what it cut."""

from termcorpus.sandbox import OutputCapture


def test_short_output_is_kept_whole():
    cap = OutputCapture(100)
    cap.feed(b"abc")
    cap.feed(b"def\n")
    assert cap.text() == "abcdef\n"
    assert not cap.truncated


def test_long_output_keeps_head_and_tail_with_marker():
    cap = OutputCapture(10)
    for i in range(100):
        cap.feed(str(i % 10).encode())
    text = cap.text()
    assert cap.truncated
    assert text.startswith("01234\n")
    assert text.endswith("\n56789")
    assert "[... output truncated: 90 bytes cut ...]" in text


def test_cut_inside_a_utf8_character_does_not_raise():
    cap = OutputCapture(8)
    cap.feed("ééééééééééé".encode())
    assert cap.truncated
    assert isinstance(cap.text(), str)
