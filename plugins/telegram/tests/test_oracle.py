"""The Bot API types (@grammyjs/types, checked by tsc) as the oracle of the Telegram adapter.

Every Bot API call of the other tests is type-checked when its module ends (conftest.py);
this test shows the check is there and is not vacuous.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from govsocial_telegram.bot_api_types import SentCall, payload_of, type_check


def test_the_types_accept_a_real_call_and_refuse_a_wrong_one(bot_api_types: Path | None) -> None:
    if bot_api_types is None:
        pytest.skip("npm and node are needed for the Bot API type check (scripts/install)")
    good = SentCall("good", "sendMessage", {"chat_id": -1001, "text": "Halo"})
    unknown_method = SentCall("method", "sendMesage", {"chat_id": -1001, "text": "Halo"})
    unknown_param = SentCall("param", "sendMessage", {"chat_id": -1001, "txt": "Halo"})
    wrong_type = SentCall("type", "deleteMessages", {"chat_id": -1001, "message_ids": ["7"]})
    problems = type_check([good, unknown_method, unknown_param, wrong_type], bot_api_types)
    assert {p.split(":")[0] for p in problems} == {"method", "param", "type"}, problems
    assert any("'\"sendMesage\"' does not satisfy the constraint" in p for p in problems)
    assert any("'\"txt\"' does not exist" in p for p in problems)


def test_a_media_group_upload_is_read_as_its_parameters() -> None:
    """Files referred to by ``attach://`` are parts of the upload, not parameters."""
    fields = {
        "chat_id": "-1001",
        "media": '[{"type": "photo", "media": "attach://photo0"}]',
        "photo0": "<file a.png>",
    }
    assert payload_of(fields, None) == {
        "chat_id": "-1001",
        "media": [{"type": "photo", "media": "attach://photo0"}],
    }
