"""Work that runs by itself: background jobs, their progress, files and schedules.

The contract for apps (see docs/architecture.md, "Background jobs"):

    # kehu/<app>/jobs.py — imported by every process at start-up (JobsConfig.ready)
    from kehu.jobs.registry import job

    @job("demo.load", title=_("加载演示数据"), max_attempts=3)
    def load_demo(ctx: JobContext) -> dict:
        for batch in range(ctx.state.get("next", 0), total):
            with ctx.step(advance=1, next=batch + 1):   # the work and the checkpoint
                write(batch)                              # commit together, or neither
        return {"customers": n}                           # shown as the job's result

    # anywhere a user or the system starts one
    from kehu.jobs.services import job_start
    job_start(actor=user, origin=Origin.MANUAL, kind="demo.load", params={"customers": 2000})

A job runs as its actor: services it calls see what the actor sees and nothing more.
"""
