import hmac
import random

import pytest

from marketplace.keyed_hash import BLOCK_SIZE, HmacSha256


@pytest.mark.parametrize("key_length", [0, 1, 32, BLOCK_SIZE - 1, BLOCK_SIZE, BLOCK_SIZE + 1, 200])
def test_it_gives_the_standard_hmac_for_keys_of_every_length(key_length: int) -> None:
    rng = random.Random(key_length)
    key = rng.randbytes(key_length)
    mac = HmacSha256(key)
    for length in (0, 1, 55, 64, 65, 1000, 5000):
        message = rng.randbytes(length)
        assert mac.digest(message) == hmac.digest(key, message, "sha256")


def test_the_prepared_states_are_not_consumed_by_use() -> None:
    mac = HmacSha256(b"secret")
    first = mac.digest(b"one")
    mac.digest(b"two" * 100)
    assert mac.digest(b"one") == first
    assert mac.digest(b"one") != HmacSha256(b"other secret").digest(b"one")
