"""The SMS command parser: forgiving of case, spaces, `#` and punctuation; never raises; what it
cannot read is UNKNOWN with a problem to tell the recruiter."""

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.sms.command_parser import DEFAULT_SNOOZE, LARGEST_ID, Command, Verb, parse

H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DONE 12", Command(Verb.DONE, 12)),
        ("done #12", Command(Verb.DONE, 12)),
        ("  Done12. ", Command(Verb.DONE, 12)),
        ("#DONE # 12!", Command(Verb.DONE, 12)),
        ("done 12 thanks", Command(Verb.DONE, 12)),
        ("Done", Command(Verb.DONE)),
        ("CALL 7", Command(Verb.CALL, 7)),
        ("call\n#7", Command(Verb.CALL, 7)),
        ("SNOOZE 3", Command(Verb.SNOOZE, 3, DEFAULT_SNOOZE)),
        ("snooze 3 2h", Command(Verb.SNOOZE, 3, 2 * H)),
        ("snooze #3 1h30m", Command(Verb.SNOOZE, 3, 1.5 * H)),
        ("Snooze 3 for 2 hours", Command(Verb.SNOOZE, 3, 2 * H)),
        ("snooze 3 1 day", Command(Verb.SNOOZE, 3, 24 * H)),
        ("snooze 3 45 mins", Command(Verb.SNOOZE, 3, timedelta(minutes=45))),
        ("snooze 3 1w", Command(Verb.SNOOZE, 3, 168 * H)),
        ("LIST", Command(Verb.LIST)),
        ("list please", Command(Verb.LIST)),
        ("help", Command(Verb.HELP)),
        ("?", Command(Verb.HELP)),
        ("Help?", Command(Verb.HELP)),
        ("INFO", Command(Verb.HELP)),
        ("STOP", Command(Verb.STOP)),
        ("unsubscribe", Command(Verb.STOP)),
        ("Start", Command(Verb.START)),
        ("UNSTOP", Command(Verb.START)),
        ("DONE " + "9" * 30, Command(Verb.DONE, LARGEST_ID + 1)),
    ],
)
def test_a_command_is_read_whatever_its_spelling(text: str, expected: Command) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "That message was empty."),
        ("   \n ", "That message was empty."),
        ("Thanks!", 'Sorry, "Thanks!" is not a command.'),
        ("DONE twelve", "Write DONE and the number, e.g. DONE 12."),
        ("DONE 12 13", "Write DONE and the number, e.g. DONE 12."),
        ("CALL", "Write CALL and the number, e.g. CALL 12."),
        ("SNOOZE", "Write SNOOZE and the number, e.g. SNOOZE 12 2h."),
        ("SNOOZE 4 later", "Write how long, e.g. SNOOZE 4 30m, 2h or 1d."),
        ("SNOOZE 4 90", "Write how long, e.g. SNOOZE 4 30m, 2h or 1d."),
        ("SNOOZE 4 2 fortnights", "Write how long, e.g. SNOOZE 4 30m, 2h or 1d."),
        ("SNOOZE 4 366d", "Snooze for 365 days at most."),
        ("STOP 12", 'Sorry, "STOP 12" is not a command.'),  # Twilio opts out on the bare word
        ("x" * 200, 'Sorry, "' + "x" * 21 + '..." is not a command.'),
    ],
)
def test_what_cannot_be_read_says_what_to_write(text: str, problem: str) -> None:
    assert parse(text) == Command(Verb.UNKNOWN, problem=problem)


@given(st.text())
def test_any_text_is_a_known_command_or_unknown_with_a_problem(text: str) -> None:
    command = parse(text)

    assert command.verb in Verb
    if command.verb is Verb.UNKNOWN:
        assert command.problem and len(command.problem) < 80
    else:
        assert command.problem is None
    if command.verb in (Verb.CALL, Verb.SNOOZE):
        assert command.obligation_id is not None and command.obligation_id >= 0
    if command.verb is Verb.SNOOZE:
        assert command.snooze is not None
        assert timedelta(0) < command.snooze <= timedelta(days=365)


def _any_case(word: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda upper: "".join(
            c.upper() if u else c.lower() for c, u in zip(word, upper, strict=True)
        )
    )


spaces = st.sampled_from(["", " ", "  ", "\t", "\n"])
hashes = st.sampled_from(["", "#", "# "])
endings = st.sampled_from(["", ".", "!", " ", "..."])


@given(
    verb=st.sampled_from(["done", "call"]).flatmap(_any_case),
    obligation_id=st.integers(min_value=1, max_value=LARGEST_ID),
    before=spaces,
    between=spaces,
    mark=hashes,
    after=endings,
)
def test_an_id_survives_any_case_spacing_hash_and_ending(
    verb: str, obligation_id: int, before: str, between: str, mark: str, after: str
) -> None:
    command = parse(f"{before}{verb}{between}{mark}{obligation_id}{after}")

    assert command.verb is Verb(verb.lower())
    assert command.obligation_id == obligation_id


@given(
    obligation_id=st.integers(min_value=1, max_value=10**9),
    count=st.integers(min_value=1, max_value=500),
    unit=st.sampled_from([("m", 60), ("min", 60), ("h", 3600), ("hours", 3600), ("d", 86400)]),
    between=st.sampled_from(["", " "]),
)
def test_a_snooze_reads_its_duration(
    obligation_id: int, count: int, unit: tuple[str, int], between: str
) -> None:
    word, seconds = unit
    command = parse(f"SNOOZE {obligation_id} {count}{between}{word}")

    wanted = timedelta(seconds=count * seconds)
    if wanted <= timedelta(days=365):
        assert command == Command(Verb.SNOOZE, obligation_id, wanted)
    else:
        assert command.verb is Verb.UNKNOWN and "365" in (command.problem or "")
