"""The changes `reconfirm` shows: paragraph by paragraph, words marked, nothing else."""

from coalitionletter.signon.consent import changes


def test_a_changed_word_is_marked_inside_its_paragraph() -> None:
    shown = changes("Title\n\nWe ask the UK to act.\n", "Title\n\nWe ask Canada to act.\n")
    assert shown == "Paragraph 2, changed:\nWe ask [-the UK-] {+Canada+} to act."


def test_an_added_paragraph_is_shown_whole() -> None:
    shown = changes("Title\n\nOne.\n", "Title\n\nOne.\n\nTwo more.\n")
    assert shown == "Paragraph 3, added:\n{+Two more.+}"


def test_a_removed_paragraph_is_shown_whole() -> None:
    shown = changes("Title\n\nOne.\n\nGone.\n", "Title\n\nOne.\n")
    assert shown == "Paragraph 3 of the text you confirmed, removed:\n[-Gone.-]"


def test_the_same_text_has_no_changes() -> None:
    assert changes("Title\n\nOne.\n", "Title\n\nOne.\n") == ""
