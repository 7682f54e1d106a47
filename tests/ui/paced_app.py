"""The dashboard with the first training of each run paced to at most ``STEPS_PER_SECOND``
(the training thread sleeps at each progress report until the pace allows the next step);
a later training of the same run (a continuation) goes at full speed.

A browser test must watch a training for up to a minute before it stops it: a model slow
enough to last that long computed for all of it on a core CI shares with the other test
worker, and then again in-process for the uninterrupted run to compare with. Paced, the
default-sized model lasts as long while computing for a few seconds. The engine, the job,
the page are the real ones.
"""

import time

from neurondash.engine.train import Progress
from neurondash.jobs import Job
from neurondash.ui.app import main

STEPS_PER_SECOND = 250.0


def _paced(report):
    first_jobs: dict[str, Job] = {}

    def paced_report(job: Job, progress: Progress) -> None:
        report(job, progress)
        if first_jobs.setdefault(job.key, job) is not job:
            return
        first_step, first_time = job.first_report
        due = first_time + (progress.step - first_step) / STEPS_PER_SECOND
        time.sleep(max(0.0, due - time.monotonic()))

    paced_report.paced = True
    return paced_report


if not getattr(Job.report, "paced", False):  # Streamlit runs this file at every rerun
    Job.report = _paced(Job.report)

if __name__ == "__main__":
    main()
