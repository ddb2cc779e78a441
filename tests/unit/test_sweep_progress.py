"""A sweep's progress: runs done and in flight, their stages, the share of work done
and the ETA from it, and how the display shows it on a terminal and in a log."""

from stdp_mnist.sweep.progress import ProgressDisplay, SweepProgress


class Clock:
    """A clock the test moves by hand (s)."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def specs(n: int, n_assign: int = 50, n_test: int = 50) -> list[dict]:
    return [
        {"name": f"run{k}", "config": {"evaluation": {"n_assign": n_assign, "n_test": n_test}}}
        for k in range(n)
    ]


def test_share_of_work_counts_training_then_evaluation_images_and_leaves_skipped_runs_out():
    clock = Clock()
    progress = SweepProgress(specs(3), clock)
    assert progress.fraction() == 0 and progress.eta_s() is None
    progress.finished({"name": "run0", "status": "skipped"})
    clock.now = 10.0
    progress.update("run1", "train", 100, 100)  # 100 of 200 units (100 + 50 + 50)
    assert progress.fraction() == 0.25  # of the two runs left to do
    progress.update("run1", "assign", 50, 50)
    progress.update("run1", "test", 25, 50)
    assert progress.fraction() == 175 / 200 / 2
    clock.now = 20.0  # 10 s since the first report (at 0.25) for 0.1875 more: 10 * 0.5625 / 0.1875 left
    assert abs(progress.eta_s() - 10 * (1 - 0.4375) / 0.1875) < 1e-9
    text = progress.text()
    assert text.startswith("sweep: 1/3 runs done, 1 in flight (run1: test 25/50), ETA 0:30")
    progress.finished({"name": "run1", "status": "done"})
    assert progress.fraction() == 0.5 and "in flight" not in progress.text()


def test_no_eta_before_progress_has_been_measured():
    clock = Clock()
    progress = SweepProgress(specs(2), clock)
    clock.now = 30.0  # compiling: nothing reported
    assert progress.eta_s() is None
    progress.update("run0", "train", 1, 100)
    clock.now = 31.0  # under MIN_ETA_S since the first report
    assert progress.eta_s() is None and "ETA" not in progress.text()
    clock.now = 35.0  # no more work done since the first report
    assert progress.eta_s() is None


def test_time_before_the_first_report_does_not_count_in_the_eta():
    # 60 s of data loading and compiling, then 10 s for 10 % of the work: 89 % left, 89 s at
    # that rate (counting the 60 s from the start would have said 566 s)
    clock = Clock()
    progress = SweepProgress(specs(1, n_assign=0, n_test=0), clock)
    clock.now = 60.0
    progress.update("run0", "train", 1, 100)
    clock.now = 70.0
    progress.update("run0", "train", 11, 100)
    assert abs(progress.eta_s() - 89.0) < 1e-9


def test_a_log_gets_a_line_at_the_first_progress_then_every_few_seconds_and_each_result():
    clock, written = Clock(), []
    display = ProgressDisplay(SweepProgress(specs(2), clock), written.append, tty=False, clock=clock)
    display.show()
    assert written == []  # nothing has reported yet
    display.update("run0", "train", 10, 100)
    display.update("run0", "train", 20, 100)  # too soon for another line
    clock.now = ProgressDisplay.LOG_EVERY_S
    display.update("run0", "train", 30, 100)
    display.finished({"name": "run0", "status": "done"}, "[1/2] run0: done")
    assert written == [
        "sweep: 0/2 runs done, 1 in flight (run0: train 10/100)\n",
        # 30 of run0's 200 units, 0.075 of the sweep, 0.05 of it in the 5 s since the first
        # report (10 units): 5 * 0.925 / 0.05 = 92.5 s left
        "sweep: 0/2 runs done, 1 in flight (run0: train 30/100), ETA 1:33\n",
        "[1/2] run0: done\n",
    ]
    display.finished({"name": "run1", "status": "skipped"}, "[2/2] run1: skipped")
    clock.now += 60
    display.show()
    assert written[-1] == "[2/2] run1: skipped\n"  # every run reported: no more progress lines


def test_a_terminal_gets_one_status_line_redrawn_and_cleared_for_each_result():
    clock, written = Clock(), []
    display = ProgressDisplay(SweepProgress(specs(2), clock), written.append, tty=True, clock=clock)
    display.update("run0", "train", 10, 100)
    display.finished({"name": "run0", "status": "done"}, "[1/2] run0: done")
    assert written[0] == "\rsweep: 0/2 runs done, 1 in flight (run0: train 10/100)\x1b[K"
    assert written[1:3] == ["\r\x1b[K", "[1/2] run0: done\n"]
    assert written[3].startswith("\rsweep: 1/2 runs done")
    with display:
        pass  # the status line is cleared when the sweep ends
    assert written[-1] == "\r\x1b[K"
