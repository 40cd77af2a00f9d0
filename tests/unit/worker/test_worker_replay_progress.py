from platform_worker.replay_progress import MAX_METADATA_CHARS, ReplayProgress


def test_contiguous_replays_move_the_offset_and_leave_no_metadata():
    progress = ReplayProgress(5)
    for offset in (5, 6, 7):
        progress.mark_done(offset)
    assert progress.next_offset == 8
    assert progress.metadata() == ""


def test_a_skipped_record_holds_the_offset_and_later_replays_go_to_metadata():
    progress = ReplayProgress(0)
    progress.mark_done(0)
    progress.mark_done(2)
    progress.mark_done(3)
    progress.mark_done(7)
    assert progress.next_offset == 1
    restored = ReplayProgress.from_commit(progress.next_offset, progress.metadata())
    assert [restored.is_done(o) for o in range(9)] == [True, False, True, True, False, False, False, True, False]


def test_replaying_the_gap_later_catches_the_offset_up_over_done_records():
    progress = ReplayProgress.from_commit(1, '{"done":[[2,4]]}')
    progress.mark_done(1)
    assert progress.next_offset == 4
    assert progress.done_above == set()


def test_unreadable_metadata_means_nothing_above_the_offset_is_done():
    progress = ReplayProgress.from_commit(3, "not json")
    assert not progress.is_done(4)
    assert progress.is_done(2)


def test_metadata_stays_under_the_broker_limit_by_dropping_the_highest_ranges():
    progress = ReplayProgress(0)
    for offset in range(2, 20_000, 2):
        progress.mark_done(offset)
    text = progress.metadata()
    assert 0 < len(text) <= MAX_METADATA_CHARS
    restored = ReplayProgress.from_commit(0, text)
    assert restored.is_done(2) and not restored.is_done(19_998)
