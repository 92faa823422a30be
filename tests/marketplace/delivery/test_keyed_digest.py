import hmac
import random

import pytest

from marketplace.delivery.tracking import keyed_digest, prepared_hmac


@pytest.mark.parametrize("key_length", [0, 1, 32, 64, 65, 200])
def test_a_keyed_copy_gives_the_standard_hmac(key_length: int) -> None:
    rng = random.Random(key_length)
    key = rng.randbytes(key_length)
    prepared = prepared_hmac(key)
    for length in (0, 1, 64, 5000):
        message = rng.randbytes(length)
        assert keyed_digest(prepared, message) == hmac.digest(key, message, "sha256")
    assert keyed_digest(prepared, b"one") == keyed_digest(prepared, b"one")  # not consumed
