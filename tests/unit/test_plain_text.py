from hypothesis import given
from hypothesis import strategies as st

from bridge.slack.blocks.mrkdwn import escape
from bridge.slack.blocks.plain_text import to_plain

USERS = {"U1": "Ana Ruiz", "U2": "Ben"}
CHANNELS = {"C1": "support"}


async def user_name(user_id: str) -> str | None:
    return USERS.get(user_id)


async def channel_name(channel_id: str) -> str | None:
    return CHANNELS.get(channel_id)


async def plain(text: str) -> str:
    return await to_plain(text, user_name, channel_name)


async def test_the_markup_an_agent_types() -> None:
    assert await plain("Hi <@U1>, see <#C1>") == "Hi @Ana Ruiz, see #support"
    assert await plain("<https://x.example/a?b=1&amp;c=2|the form>") == (
        "the form (https://x.example/a?b=1&c=2)"
    )
    assert await plain("<https://x.example>") == "https://x.example"
    assert await plain("<mailto:a@b.example|a@b.example>") == "a@b.example"
    assert await plain("Fish &amp; chips &lt;3") == "Fish & chips <3"
    assert await plain(":smile: :thumbsup: :not_an_emoji:") == "😄 👍 :not_an_emoji:"
    assert await plain("*bold* _italic_ ~gone~ `code`") == "bold italic gone code"
    assert await plain("2*3*4 and snake_case_name stay") == "2*3*4 and snake_case_name stay"
    assert await plain("<!here> <!date^1700000000^{date}|Nov 14>") == "@here Nov 14"
    assert await plain("<@U9>") == "@someone"


@given(st.text(alphabet=st.characters(blacklist_characters="*_~`:<>&")))
async def test_plain_prose_passes_unchanged(text: str) -> None:
    assert await plain(text) == text.strip()


@given(st.text())
async def test_escaped_text_comes_back_as_typed_minus_markers(text: str) -> None:
    # What Slack sends is escaped; converting never leaves entities or brackets behind
    # that the original did not have.
    out = await plain(escape(text))
    assert "&lt;" not in out or "&lt;" in text
    assert "&amp;" not in out or "&amp;" in text
