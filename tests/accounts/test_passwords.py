"""Password checks never let a missing, empty or malformed hash through."""

import pytest

from respite.accounts.passwords import hash_password, verify_password


def test_the_right_password_matches_its_hash():
    assert verify_password(hash_password("correct horse battery"), "correct horse battery")
    assert not verify_password(hash_password("correct horse battery"), "wrong horse battery")


@pytest.mark.parametrize("stored", [None, "", "not-a-hash"])
def test_no_password_matches_a_missing_or_broken_hash(stored):
    # Not even the one the check uses to spend the same time on unknown accounts.
    assert not verify_password(stored, "not-a-real-password")
    assert not verify_password(stored, "anything at all")
