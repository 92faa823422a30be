import os
import re
import threading
import time

from marketplace.delivery.events import IDS_PER_READ, new_id


def test_ids_are_32_hex_characters_and_never_repeat_across_refills() -> None:
    ids = [new_id() for _ in range(10 * IDS_PER_READ + 3)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_threads_drawing_at_once_never_get_the_same_id() -> None:
    drawn: list[list[str]] = [[] for _ in range(4)]

    def draw(into: list[str]) -> None:
        into.extend(new_id() for _ in range(5 * IDS_PER_READ))

    threads = [threading.Thread(target=draw, args=(d,)) for d in drawn]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for d in drawn for i in d]
    assert len(set(every)) == len(every) == 20 * IDS_PER_READ


def test_a_forked_child_does_not_reuse_its_parents_read_ahead_ids() -> None:
    new_id()  # the parent now holds read-ahead ids
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its first id and leave at once
        os.write(write, new_id().encode())
        os._exit(0)
    os.close(write)
    child_id = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    parents = {new_id() for _ in range(IDS_PER_READ)}
    assert re.fullmatch(r"[0-9a-f]{32}", child_id)
    assert child_id not in parents


def test_ids_made_later_sort_later() -> None:
    first = new_id()
    time.sleep(0.002)
    later = [new_id() for _ in range(3 * IDS_PER_READ)]
    assert all(first < i for i in later)
    milliseconds = int(later[-1][:12], 16)
    assert abs(milliseconds / 1000 - time.time()) < 5
