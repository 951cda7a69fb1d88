from hypothesis import given
from hypothesis import strategies as st

from bridge.slack.blocks.mrkdwn import escape


def test_control_sequences_become_inert() -> None:
    assert escape("<!channel> <@U1> a&b") == "&lt;!channel&gt; &lt;@U1&gt; a&amp;b"


@given(st.text())
def test_escaped_text_has_no_raw_brackets_and_round_trips(text: str) -> None:
    out = escape(text)
    assert "<" not in out
    assert ">" not in out
    unescaped = out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert unescaped == text
