import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from bridge import logs


@pytest.fixture(autouse=True)
def restored() -> Iterator[None]:
    """Undo `logs.configure`, which each test calls itself: it writes to the stderr
    of the moment, which pytest captures per test phase."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers, root.level = handlers, level
    for name in logs._LIBRARY_FLOORS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    logging.captureWarnings(False)
    structlog.reset_defaults()


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines()]


def test_library_records_are_json_lines_with_numbers_masked_in_every_spelling(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.configure("info")
    library = logging.getLogger("somelib.client")
    library.info("GET /x?To=%2B14155550123&From=whatsapp%3A%2b14155550124")
    library.warning("sent to whatsapp:+14155550125 and +1 415-555-0126 (%s)", "+442071838750")
    try:
        raise ValueError("bad number +14155550127")
    except ValueError:
        library.exception("failed")
    first, second, third = lines(capsys)
    assert first["logger"] == "somelib.client"
    assert first["level"] == "info"
    assert first["event"] == "GET /x?To=+141••••••23&From=whatsapp%3A+141••••••24"
    assert second["event"] == "sent to whatsapp:+141••••••25 and +141••••••26 (+442•••••••50)"
    assert "+141••••••27" in str(third["exception"])
    assert "4155550127" not in str(third["exception"])


def test_the_bridges_own_events_are_masked_in_any_field(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.configure("info")
    structlog.get_logger("bridge.x").info(
        "sms.inbound", to="+14155550100", extra={"n": ["+14155550101"]}
    )
    [line] = lines(capsys)
    assert line["to"] == "+141••••••00"
    assert line["extra"] == {"n": ["+141••••••01"]}
    assert "logger" not in line


def test_twilios_request_dumps_stay_out(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("info")
    logging.getLogger("twilio.http_client").info("Query Params: {'To': '+14155550123'}")
    logging.getLogger("twilio.http_client").warning("retrying")
    assert [line["event"] for line in lines(capsys)] == ["retrying"]
