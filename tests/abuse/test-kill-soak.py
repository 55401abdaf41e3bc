#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""kill -9 soak: ldmd is SIGKILLed at seeded random moments of a Recover that resyncs a
mirror plex and rebuilds a RAID-5 column of an mkldm pack, restarted with the same
--state-dir, and asked to Recover again; after each episode (one to a few kills in a row)
the last Recover must end S_OK, resume from the checkpoints (bytes_resumed > 0, less repaired
than a fresh run) and leave data equal to the reference (ldm-testtool sha256) with the
independent judge (ldmcheck --data --strict) satisfied.

Short form by default (CI: 6 kills, small volumes with a rate limit so the data phase lasts a
few seconds). Long form: LDMD_SOAK_KILLS=N (e.g. 50) with 512 MiB volumes, no rate limit.
LDMD_SOAK_SEED=S replays a run (the kill moments are drawn from it). TAP on stdout."""

import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from abusetest import (  # noqa: E402
    MIB, Daemon, assert_whole, break_pack, make_pack, pack_of)
from ldmdtest import (  # noqa: E402
    IFACE_JOB, IFACE_PACK, LDMD, S_OK, VDS_ASYNCOUT_RECOVERPACK, PrivateBus, Tap, diag, tmpdir,
    wait_until)

tap = Tap()

SEED = int(os.environ.get("LDMD_SOAK_SEED") or 20240611)
LONG_KILLS = int(os.environ.get("LDMD_SOAK_KILLS") or 0)

if LONG_KILLS > 0:
    KILLS, PER_EPISODE = LONG_KILLS, 8
    DISK, MIRROR, RAID5, CONF = "800M", 512 * MIB, 512 * MIB, ""
else:
    KILLS, PER_EPISODE = 6, 3
    DISK, MIRROR, RAID5, CONF = "200M", 64 * MIB, 192 * MIB, "RepairRateLimitMiB=48\n"
# What one Recover of the broken pack moves: the whole stale plex and the whole stale column.
TOTAL = MIRROR + RAID5 // 2
# The last kill of an episode: once the mirror plex is done and the column begun.
LAST_KILL_MIN = (MIRROR + 8 * MIB) / TOTAL


class Ctx:
    def __init__(self):
        self.dir = tmpdir()
        self.bus = PrivateBus(self.dir)

    def close(self):
        self.bus.stop()
        if os.environ.get("LDMD_TEST_KEEP"):
            diag("kept %s" % self.dir)
        else:
            subprocess.run(["rm", "-rf", self.dir])


def checkpoints(state):
    """{file: bytes done} of the checkpoints in the state directory (for failure messages)."""
    out = {}
    for f in sorted(os.listdir(state)):
        with open(os.path.join(state, f), "rb") as fh:
            b = fh.read()
        out[f] = int.from_bytes(b[56:64], "little") if len(b) >= 64 else "%d bytes" % len(b)
    return out


def job_state(bus, job):
    p = bus.props(job, IFACE_JOB)
    return p["State"], p["BytesDone"], p["BytesTotal"]


def kill_during(daemon, bus, rng, last):
    """Starts Recover and SIGKILLs ldmd at a moment drawn from rng: a fifth of the time a short
    delay after the call (refresh, database sync, the first chunks), else once BytesDone
    passes a random fraction of the data. The last kill of an episode always comes after the
    mirror plex (the first target) is done, so that a checkpoint surely exists (the engine
    checkpoints at the end of each target and every 2 s or 256 MiB in between) and the
    resume is visible. Returns the
    last BytesDone seen before the kill, or None when the job ended first (no kill)."""
    pack = pack_of(bus, "Soak-Dg0")
    (job,) = bus.call(pack, IFACE_PACK, "Recover")
    early = rng.random() < 0.2 and not last
    delay = rng.uniform(0.0, 0.4)
    frac = rng.uniform(LAST_KILL_MIN if last else 0.05, 0.95)
    t0 = time.monotonic()
    done = 0
    while True:
        try:
            state, done, total = job_state(bus, job)
        except Exception:
            diag("ldmd: %s" % daemon.d.proc.poll())
            raise
        if state == "done":
            return None, job
        if early and time.monotonic() - t0 >= delay:
            break
        if not early and total and done >= frac * total:
            break
        assert time.monotonic() - t0 < 300, "the job does not progress: %s" % ((state, done, total),)
        time.sleep(0.01)
    daemon.kill()
    return done, None


def kill_at(daemon, bus, min_done):
    """Starts Recover and SIGKILLs ldmd once BytesDone >= min_done."""
    (job,) = bus.call(pack_of(bus, "Soak-Dg0"), IFACE_PACK, "Recover")
    wait_until(lambda: job_state(bus, job)[1] >= min_done, 120, "BytesDone >= %d" % min_done)
    daemon.kill()


@tap.test
def resume_after_a_finished_target(ctx):
    """The kill comes after the mirror plex is done and checkpointed as a whole, while the
    RAID-5 column is being rebuilt: the resumed job finds one target with nothing left to
    copy (a checkpoint at its end). It must skip it, finish the column, and commit."""
    work = os.path.join(ctx.dir, "finished-target")
    os.makedirs(work)
    imgs, gold = make_pack(work, "Soak-Dg0", "200M", "32M", "96M")
    daemon = Daemon(ctx.bus, work, imgs, conf="RepairRateLimitMiB=32\n", env={"LDMD_LOG_LEVEL": "info"})
    try:
        break_pack(imgs)
        daemon.start()
        kill_at(daemon, ctx.bus, 32 * MIB + 8 * MIB)
        assert os.listdir(daemon.state), "no checkpoint"
        daemon.start()
        (job,) = ctx.bus.call(pack_of(ctx.bus, "Soak-Dg0"), IFACE_PACK, "Recover")
        hr, out = ctx.bus.call(job, IFACE_JOB, "Wait", timeout=120 * 1000)
        assert daemon.d.alive(), "ldmd died (%s):\n%s" % (daemon.d.proc.returncode, daemon.d.output()[-2000:])
        assert hr == S_OK, "0x%08x %s" % (hr, out)
        assert out["bytes_resumed"] >= 32 * MIB and out["bytes_repaired"] + out["bytes_resumed"] == 80 * MIB, out
        assert_whole(ctx.bus, pack_of(ctx.bus, "Soak-Dg0"), imgs, gold)
        daemon.stop()
    finally:
        if daemon.d and daemon.d.alive():
            daemon.kill()


@tap.test
def sigkill_soak(ctx):
    rng = random.Random(SEED)
    diag("seed %d, %d kills, mirror %d MiB + RAID-5 %d MiB (%d MiB to repair)%s" % (
        SEED, KILLS, MIRROR // MIB, RAID5 // MIB, TOTAL // MIB, ", rate-limited" if CONF else ""))
    work = os.path.join(ctx.dir, "pack")
    os.makedirs(work)
    imgs, gold = make_pack(work, "Soak-Dg0", DISK, "%dM" % (MIRROR // MIB), "%dM" % (RAID5 // MIB))
    daemon = Daemon(ctx.bus, work, imgs, conf=CONF, env={"LDMD_LOG_LEVEL": "info"})
    t_start = time.monotonic()
    try:
        soak(ctx, rng, imgs, gold, daemon, t_start)
    finally:
        if daemon.d and daemon.d.alive():
            daemon.kill()


def soak(ctx, rng, imgs, gold, daemon, t_start):
    bus = ctx.bus
    kills = episodes = resumes = 0
    resumed_sum = repaired_sum = 0
    while kills < KILLS:
        episodes += 1
        break_pack(imgs)
        want = min(rng.randint(1, PER_EPISODE), KILLS - kills)
        last_seen = 0
        job = None
        ckpt = {}
        for k in range(want):
            daemon.start()
            seen, job = kill_during(daemon, bus, rng, k == want - 1)
            if seen is None:
                break  # the job outran the kill: it is the episode's last Recover
            job = None
            kills += 1
            last_seen = seen
            assert os.path.isdir(daemon.state), "no state directory"
            ckpt = checkpoints(daemon.state)
        t = time.monotonic()
        if job is None:
            # The same state directory: Recover resumes and finishes.
            daemon.start()
            (job,) = bus.call(pack_of(bus, "Soak-Dg0"), IFACE_PACK, "Recover")
        pack = pack_of(bus, "Soak-Dg0")
        hr, out = bus.call(job, IFACE_JOB, "Wait", timeout=600 * 1000)
        took = time.monotonic() - t
        assert hr == S_OK, "episode %d: 0x%08x %s\n%s" % (episodes, hr, out, daemon.d.output()[-3000:])
        assert out["type"] == VDS_ASYNCOUT_RECOVERPACK and out["database_committed"], out
        assert out["bytes_repaired"] + out["bytes_resumed"] == TOTAL, (TOTAL, out)
        if last_seen >= MIRROR + 8 * MIB:
            # Flushed and checkpointed work is not done again: at least the whole plex.
            assert out["bytes_resumed"] >= MIRROR, (last_seen, out, ckpt)
            assert out["bytes_repaired"] <= TOTAL - MIRROR, (last_seen, out, ckpt)
            resumes += 1
        resumed_sum += out["bytes_resumed"]
        repaired_sum += out["bytes_repaired"]
        diag("episode %d: %d kill(s) so far, last at BytesDone %d MiB; resumed %d MiB, repaired %d MiB, %.1f s" % (
            episodes, kills, last_seen // MIB, out["bytes_resumed"] // MIB, out["bytes_repaired"] // MIB, took))
        assert_whole(bus, pack, imgs, gold)
        assert os.listdir(daemon.state) == [], "checkpoints left: %s" % os.listdir(daemon.state)
        daemon.stop()
    # A fresh run for comparison: the same damage, no kill.
    break_pack(imgs)
    daemon.start()
    pack = pack_of(bus, "Soak-Dg0")
    t = time.monotonic()
    (job,) = bus.call(pack, IFACE_PACK, "Recover")
    hr, out = bus.call(job, IFACE_JOB, "Wait", timeout=600 * 1000)
    fresh_s = time.monotonic() - t
    assert hr == S_OK and out["bytes_resumed"] == 0 and out["bytes_repaired"] == TOTAL, out
    assert_whole(bus, pack, imgs, gold)
    daemon.stop()
    diag("%d kills in %d episodes, %.0f s; resumed %d MiB in all, repaired after restarts %d MiB; "
         "a fresh run repairs %d MiB in %.1f s" % (kills, episodes, time.monotonic() - t_start,
                                                  resumed_sum // MIB, repaired_sum // MIB, TOTAL // MIB,
                                                  fresh_s))
    assert kills >= KILLS
    assert resumes > 0, "no episode ended late enough to show a resume"


def main():
    if not os.access(LDMD, os.X_OK):
        print("1..0 # SKIP %s not built" % LDMD)
        return 0
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    ctx = Ctx()
    try:
        return tap.run(ctx)
    finally:
        ctx.close()


if __name__ == "__main__":
    sys.exit(main())
