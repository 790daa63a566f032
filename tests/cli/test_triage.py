"""`flockdesk triage` and `flockdesk check-reply`: JSONL in, one JSONL line out per input, in order."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from flockdesk.cli.main import app
from flockdesk.domain.vocabulary import LABEL_KEYS

runner = CliRunner()


def _lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_triage_file_keeps_order_and_reports_bad_lines(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        "\n".join(
            [
                json.dumps(
                    {
                        "id": "a",
                        "text": "@acme my card 4111 1111 1111 1111 was charged twice!",
                        "channel": "mention",
                    }
                ),
                "{not json",
                json.dumps(
                    {
                        "id": "c",
                        "text": "thanks so much!",
                        "channel": "dm",
                        "author": {
                            "username": "ed",
                            "name": "Ed",
                            "followers_count": 500000,
                            "verified": True,
                            "description": "journalist",
                        },
                    }
                ),
                json.dumps({"id": "d"}),
                json.dumps({"id": "e", "text": "hi", "channel": "carrier-pigeon"}),
                json.dumps(["a list"]),
                "",
                json.dumps({"id": "g", "text": "where is my parcel?"}),
            ]
        )
        + "\n"
    )
    result = runner.invoke(app, ["triage", str(src)])
    assert result.exit_code == 1, result.output  # every line answered; the status says some failed
    assert "4 of 7 lines could not be read" in result.stderr
    out = _lines(result.stdout)
    assert [o["id"] for o in out] == ["a", None, "c", "d", "e", None, "g"]
    first = out[0]
    assert list(first) == ["id", *LABEL_KEYS, "lang"]
    assert first["sensitive"] == ["payment_card"] and first["move_to_dm"] is True
    assert out[2]["influencer"] is True and out[2]["move_to_dm"] is False
    for bad in (out[1], out[3], out[4], out[5]):
        assert set(bad) == {"id", "error"} and "line" in str(bad["error"])
    assert "text" in str(out[3]["error"])
    assert "channel" in str(out[4]["error"])
    assert "intent" in out[6]


def test_triage_reads_stdin() -> None:
    lines = "\n".join(json.dumps({"id": str(i), "text": f"message {i} is fine"}) for i in range(50))
    result = runner.invoke(app, ["triage"], input=lines)
    assert result.exit_code == 0, result.output
    assert [o["id"] for o in _lines(result.stdout)] == [str(i) for i in range(50)]


def test_triage_missing_file_says_what_to_do(tmp_path: Path) -> None:
    result = runner.invoke(app, ["triage", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2
    assert "standard input" in result.output


def test_check_reply(tmp_path: Path) -> None:
    src = tmp_path / "replies.jsonl"
    src.write_text(
        "\n".join(
            [
                json.dumps({"id": "1", "text": "Reply with your email and we'll sort it"}),
                json.dumps({"id": "2", "text": "Please send us a DM with your order number"}),
                json.dumps({"id": "3", "text": "We've emailed jane@example.com"}),
                "oops",
            ]
        )
        + "\n"
    )
    result = runner.invoke(app, ["check-reply", str(src)])
    assert result.exit_code == 1, result.output
    out = _lines(result.stdout)
    assert [o["id"] for o in out] == ["1", "2", "3", None]
    assert [o.get("ok") for o in out] == [False, True, False, None]
    assert out[0]["asks_for_sensitive"] is True
    assert out[1]["asks_for_sensitive"] is False and out[1]["contains_sensitive"] == []
    assert out[2]["contains_sensitive"] == ["email"]
    assert "error" in out[3]


def test_undecodable_and_odd_lines_do_not_stop_the_run(tmp_path: Path) -> None:
    src = tmp_path / "odd.jsonl"
    src.write_bytes(
        b"".join(
            [
                b'{"id": "1", "text": "caf\xc3\xa9 was great"}\n',
                b'{"id": "2", "text": "bad \xff\xfe bytes"}\n',  # not UTF-8
                b'{"id": "3", "text": 42}\n',
                b'{"id": {"x": 1}, "text": "hi"}\n',
                b'{"id": "5", "text": "ok", "author": "not an object"}\n',
                b'{"id": "6", "text": "late reply", "waiting_seconds": 7200}\n',
            ]
        )
    )
    result = runner.invoke(app, ["triage", str(src)])
    assert result.exit_code == 1, result.output
    out = _lines(result.stdout)
    assert len(out) == 6
    assert out[0]["sentiment"] == "positive"
    assert "error" in out[1] and out[1]["id"] is None
    assert "error" in out[2] and out[2]["id"] == "3"
    assert "error" in out[3] and out[3]["id"] is None
    assert "author" in str(out[4]["error"])
    assert isinstance(out[5]["priority"], float) and out[5]["priority"] > 0


def test_check_reply_refuses_empty_and_over_length_drafts_and_knows_dms(tmp_path: Path) -> None:
    src = tmp_path / "drafts.jsonl"
    rows = [
        {"id": "empty", "text": "   "},
        {"id": "long", "text": "Sorry about the delay! " * 20},
        {"id": "dm-ask", "text": "Could you send me your booking email here?", "kind": "dm"},
        {"id": "public-ask", "text": "Could you send me your booking email here?"},
        {"id": "dm-long", "text": "x" * 10_001, "kind": "dm"},
        {"id": "bad-kind", "text": "hi", "kind": "fax"},
    ]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = runner.invoke(app, ["check-reply", str(src)])
    assert result.exit_code == 1
    out = {o["id"]: o for o in _lines(result.stdout)}
    assert out["empty"]["ok"] is False and "empty" in out["empty"]["advice"]
    assert out["long"]["ok"] is False and "shorten it by" in out["long"]["advice"]
    assert out["dm-ask"]["ok"] is True and out["dm-ask"]["kind"] == "dm"
    assert out["public-ask"]["ok"] is False and out["public-ask"]["asks_for_sensitive"] is True
    assert out["dm-long"]["ok"] is False and "10000" in out["dm-long"]["advice"]
    assert "kind" in out["bad-kind"]["error"]
    assert "OK to post publicly" not in out["empty"]["advice"] + out["long"]["advice"]


def test_check_reply_exits_zero_when_every_line_was_read(tmp_path: Path) -> None:
    src = tmp_path / "ok.jsonl"
    src.write_text(json.dumps({"id": "1", "text": "Thanks for flying with us!"}) + "\n")
    result = runner.invoke(app, ["check-reply", str(src)])
    assert result.exit_code == 0, result.output
    assert _lines(result.stdout)[0]["ok"] is True
