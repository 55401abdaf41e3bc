#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""How ldmctl follows jobs, against fake-ldmd.py (scripted job timing) on a private
system-type bus with our real D-Bus policy: the progress bar on a pseudo-terminal, plain
progress lines and --json results, failure and cancellation exit codes, --no-wait + wait +
jobs, Busy, CancelTooLate, Ctrl-C (cancel, detach, continue), SIGINT/SIGTERM without a
terminal, refused calls as nobody, monitor's job events, and the daemon vanishing under a
waiting ldmctl. The real daemon's jobs are exercised by test-ldmctl.py. TAP."""

import json
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
sys.path.insert(0, HERE)

from ldmdtest import NOBODY, PrivateBus, Tap, tmpdir, wait_until  # noqa: E402

import importlib.util  # noqa: E402
_spec = importlib.util.spec_from_file_location("t", os.path.join(HERE, "test-ldmctl.py"))
T = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(T)

LDMCTL = T.LDMCTL
FAKE = os.path.join(HERE, "fake-ldmd.py")
OK, FAILURE, USAGE, NOT_FOUND, NOT_AUTHORIZED, JOB_FAILED, CANCELLED, BUSY, NOT_SUPPORTED, TOO_LATE = range(10)

tap = Tap()


class Ctx(T.Ctx):
    def __init__(self):      # noqa: super().__init__ starts the real daemon; we want the fake
        self.dir = tmpdir()
        self.bus = PrivateBus(self.dir)
        self.daemon = None
        self.fake = None
        self.start_fake()

    def start_fake(self):
        self.fake = subprocess.Popen(["/usr/bin/python3", FAKE, "--bus=" + self.bus.address],
                                     stdout=subprocess.PIPE, text=True)
        assert self.fake.stdout.readline().strip() == "ready", "fake-ldmd did not start"

    def stop_fake(self):
        self.fake.terminate()
        self.fake.wait(10)
        wait_until(lambda: self.bus.name_owner() is None, 10, "org.ldmd1 to be released")

    def start_job(self, pack, verb="recover"):
        job = self.ok(verb, "--no-wait", pack).strip()
        assert re.fullmatch(r"/org/ldmd1/job/_\d+", job), job
        return job

    def close(self):
        self.fake.terminate()
        self.fake.wait(10)
        self.bus.stop()
        subprocess.run(["rm", "-rf", self.dir])


def frames_of(out):
    return [f for f in out.split("\r") if re.search(r"\[[#.]+\] +\d+%", f)]


@tap.test
def bar_on_terminal(ctx):
    rc, out = T.run_pty([LDMCTL, "--bus=" + ctx.bus.address, "recover", "Quick"], ctx.env(), cols=80)
    assert rc == OK, out
    frames = frames_of(out)
    assert len(frames) >= 8, "%d frames:\n%r" % (len(frames), out)
    percents = [int(re.search(r"\] +(\d+)%", f).group(1)) for f in frames]
    assert percents == sorted(percents) and percents[-1] == 100, percents
    assert re.search(r"recover Quick \[#{10,}\] 100%", frames[-1]), frames[-1]
    assert "100 MiB/s" in frames[3], frames[3]
    # the bar keeps its place: every frame has the same bar width, within 80 columns
    widths = {len(re.search(r"\[[#.]+\]", f).group(0)) for f in frames}
    assert len(widths) == 1, widths
    assert all(len(f.replace("\x1b[K", "").rstrip("\n")) <= 80 for f in frames), frames
    assert "recover of pack Quick finished successfully." in out.replace("\x1b[32m", "").replace("\x1b[0m", ""), out
    assert "bytes_repaired: 104857600 (100 MiB)" in out, out
    assert "type: 8 (recover pack)" in out, out


@tap.test
def plain_lines_and_json(ctx):
    r = ctx.ctl("recover", "Quick")
    assert r.returncode == OK, r
    lines = r.stdout.splitlines()
    assert "\r" not in r.stdout and "\x1b" not in r.stdout, repr(r.stdout)
    prog = [l for l in lines if l.startswith("recover Quick: ")]
    assert prog[0].startswith("recover Quick: queued"), prog
    assert any(re.match(r"recover Quick: running +50%  100 MiB/s", l) for l in prog), prog
    assert re.match(r"recover Quick: done 100%.*\(100 MiB of 100 MiB\)", prog[-1]), prog
    assert len(prog) == len(set(prog)), "repeated progress lines: %s" % prog
    assert "recover of pack Quick finished successfully." in lines, lines

    doc = ctx.json("verify", "Quick")
    assert set(doc) == T.JOB_KEYS | {"output"}, sorted(doc)
    assert (doc["operation"], doc["pack_name"], doc["state"], doc["result"]) == ("verify", "Quick", "done", "success"), doc
    assert (doc["percent"], doc["hresult"], doc["hresult_name"]) == (100, 0, "VDS_S_OK"), doc
    assert doc["output"] == {"type": 8, "bytes_repaired": 104857600}, doc
    assert doc["bytes_done"] == doc["bytes_total"] == 104857600 and doc["started_by_uid"] == 0, doc


@tap.test
def failed_job(ctx):
    r = ctx.code(JOB_FAILED, "recover", "Bad")
    assert "recover of pack Bad failed: VDS_E_DMADMIN_METHOD_CALL_FAILED (0x80042420): " \
           "I/O error on Disk2 at byte 1048576" in r.stdout, r.stdout
    r = ctx.code(JOB_FAILED, "--json", "recover", "Bad")
    doc = json.loads(r.stdout)
    assert (doc["result"], doc["hresult"], doc["hresult_name"], doc["percent"]) == \
        ("failed", 0x80042420, "VDS_E_DMADMIN_METHOD_CALL_FAILED", 0), doc
    assert doc["message"] == "I/O error on Disk2 at byte 1048576", doc
    rc, out = T.run_pty([LDMCTL, "--bus=" + ctx.bus.address, "recover", "Bad"], ctx.env())
    assert rc == JOB_FAILED, out
    assert frames_of(out)[-1].split("]")[1].split()[0] == "30%", "a failed job keeps its last frame: %r" % out


@tap.test
def no_wait_wait_jobs_busy_cancel(ctx):
    job = ctx.start_job("Slow")
    n = job.rsplit("_", 1)[1]
    ctx.code(BUSY, "recover", "--no-wait", "Slow")
    ctx.code(BUSY, "verify", "Slow")
    assert job in ctx.ok("jobs", "--paths").splitlines()
    listed = {j["object"]: j for j in ctx.json("jobs")["jobs"]}
    assert listed[job]["state"] in ("queued", "running") and listed[job]["result"] is None, listed[job]
    assert re.search(r"^_%s +recover +Slow +(queued|running) " % n, ctx.ok("jobs"), re.M), ctx.ok("jobs")
    assert ctx.json("list")["packs"][[p["name"] for p in ctx.json("list")["packs"]].index("Slow")]["active_job"] == job
    r = ctx.ok("cancel", n)
    assert r.strip() == "Cancellation of job %s requested." % job, r
    w = ctx.code(CANCELLED, "wait", "_" + n)
    assert "recover of pack Slow was cancelled: VDS_E_OPERATION_CANCELED (0x8004240d)" in w.stdout, w.stdout
    doc = json.loads(ctx.code(CANCELLED, "--json", "wait", job).stdout)
    assert (doc["result"], doc["state"], doc["percent"]) == ("cancelled", "done", 0), doc
    r = ctx.code(TOO_LATE, "cancel", job)
    assert "org.ldmd1.Error.CancelTooLate" in r.stderr, r.stderr


@tap.test
def job_of_a_pack_not_listed(ctx):
    """A job whose pack is not among the daemon's objects (its disks went away): ldmctl names
    the pack by its path, also in the last line, printed after the job's own strings were
    replaced (that line once read freed memory)."""
    pack = "/org/ldmd1/pack/55555555_2d5555_2d5555_2d5555_2d555555555555"
    job = ctx.start_job(pack)
    w = ctx.ok("wait", job)
    assert "recover of pack %s finished successfully." % pack in w, w


@tap.test
def ctrl_c_cancel_detach_continue(ctx):
    def script(answers):
        state = {"i": 0, "len": 0}

        def keys(fd, out):
            # act once per new prompt / once the bar has moved
            if state["i"] >= len(answers) or len(out) == state["len"]:
                return
            state["len"] = len(out)
            want, send = answers[state["i"]]
            if want(out):
                os.write(fd, send)
                state["i"] += 1
        return keys

    bar = lambda out: len(frames_of(out)) >= 3  # noqa: E731
    prompts = lambda k: lambda out: out.count("[c]ancel, [d]etach") >= k  # noqa: E731
    argv = [LDMCTL, "--bus=" + ctx.bus.address, "recover", "Slow"]

    rc, out = T.run_pty(argv, ctx.env(), on_output=script([(bar, b"\x03"), (prompts(1), b"c\n")]))
    assert rc == CANCELLED, out
    assert "Cancel job _" in out and "Cancelling job /org/ldmd1/job/_" in out and "was cancelled" in out, out

    rc, out = T.run_pty(argv, ctx.env(), on_output=script([(bar, b"\x03"), (prompts(1), b"d\n")]))
    assert rc == OK, out
    job = re.search(r"Detached; job (/org/ldmd1/job/_\d+) keeps running", out).group(1)
    assert "ldmctl wait _" in out, out
    ctx.ok("cancel", job)
    ctx.code(CANCELLED, "wait", job)

    # Enter continues (the bar comes back), then Ctrl-C twice detaches
    more = lambda out: len(frames_of(out.rsplit("Enter continues watching:", 1)[-1])) >= 2  # noqa: E731
    rc, out = T.run_pty(argv, ctx.env(), on_output=script(
        [(bar, b"\x03"), (prompts(1), b"\n"), (more, b"\x03"), (prompts(2), b"\x03")]))
    assert rc == OK and "Detached; job" in out, out
    job = re.search(r"Detached; job (/org/ldmd1/job/_\d+)", out).group(1)
    ctx.ok("cancel", job)
    ctx.code(CANCELLED, "wait", job)


@tap.test
def signals_without_terminal(ctx):
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        job = ctx.start_job("Slow")
        p = subprocess.Popen([LDMCTL, "--bus=" + ctx.bus.address, "wait", job], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=ctx.env())
        first = p.stdout.readline()         # following: the first progress line is out
        assert first.startswith("recover Slow: "), first
        p.send_signal(sig)
        out, err = p.communicate(timeout=10)
        assert p.returncode == code, (sig, p.returncode, out, err)
        assert "Detached; job %s keeps running" % job in err, err
        jobs = ctx.json("jobs")["jobs"]
        assert [j["object"] for j in jobs] == sorted((j["object"] for j in jobs), key=lambda o: int(o.rsplit("_", 1)[1]))
        assert next(j for j in jobs if j["object"] == job)["state"] in ("queued", "running")   # the job goes on
        ctx.ok("cancel", job)
        ctx.code(CANCELLED, "wait", job)


@tap.test
def refused_as_nobody(ctx):
    r = ctx.code(NOT_AUTHORIZED, "recover", "Quick", nobody=True)
    assert "org.ldmd1.Error.NotAuthorized" in r.stderr, r.stderr
    ctx.code(NOT_AUTHORIZED, "verify", "--no-wait", "Quick", nobody=True)
    # reading jobs is for everyone
    job = ctx.start_job("Quick")
    doc = json.loads(ctx.code(OK, "--json", "wait", job, nobody=True).stdout)
    assert doc["result"] == "success", doc


@tap.test
def interactive_authorization_flag(ctx):
    """Mutating calls carry ALLOW_INTERACTIVE_AUTHORIZATION unless --no-ask-password."""
    argv = [LDMCTL, "--bus=" + ctx.bus.address]
    r = subprocess.run(argv + ["recover", "Auth"], capture_output=True, text=True, env=ctx.env(),
                       stdin=subprocess.DEVNULL, timeout=60)
    assert r.returncode == OK and "finished successfully" in r.stdout, r
    r = subprocess.run(argv + ["--no-ask-password", "recover", "Auth"], capture_output=True, text=True,
                       env=ctx.env(), timeout=60)
    assert r.returncode == NOT_AUTHORIZED, r
    assert "InteractiveAuthorizationRequired" in r.stderr, r.stderr


@tap.test
def monitor_job_events(ctx):
    env = ctx.env()
    jm = subprocess.Popen([LDMCTL, "--bus=" + ctx.bus.address, "--json", "monitor"],
                          stdout=subprocess.PIPE, text=True, env=env)
    tm = subprocess.Popen([LDMCTL, "--bus=" + ctx.bus.address, "monitor"],
                          stdout=subprocess.PIPE, text=True, env=env)
    try:
        jl, tl = T.Lines(jm), T.Lines(tm)
        jl.until(lambda l: '"monitoring"' in l, what="monitoring")
        tl.until(lambda l: l.startswith("Monitoring"), what="banner")
        job = ctx.start_job("Quick")
        n = job.rsplit("/", 1)[1]
        new = json.loads(jl.until(lambda l: '"job-new"' in l, what="job-new"))
        assert new["job"] == job and new["object"] == "/org/ldmd1", new
        pc = json.loads(jl.until(lambda l: '"properties-changed"' in l and job in l and '"Percent":50' in l,
                                 what="Percent 50"))
        assert pc["interface"] == "org.ldmd1.Job" and pc["changed"]["BytesDone"] == 52428800, pc
        done = json.loads(jl.until(lambda l: '"completed"' in l, what="completed"))
        assert (done["object"], done["hresult"], done["result"], done["hresult_name"]) == \
            (job, 0, "success", "VDS_S_OK"), done
        tl.until(lambda l: l.endswith("job %s started on pack Quick" % n), what="job started")
        tl.until(lambda l: re.search(r"job %s: Percent=50 BytesDone=52428800 " % n, l), what="percent line")
        tl.until(lambda l: re.search(r"job %s: State=\"done\" Percent=100 .*HResult=VDS_S_OK" % n, l),
                 what="done line")
        tl.until(lambda l: l.endswith("job %s completed: success (VDS_S_OK, 0x00000000)" % n), what="completed")

        # a failing job that then leaves the bus
        job = ctx.start_job("Bad")
        n = job.rsplit("/", 1)[1]
        added = json.loads(jl.until(lambda l: '"interfaces-added"' in l and job in l, what="job added"))
        assert added["interfaces"]["org.ldmd1.Job"]["Operation"] == "recover", added
        done = json.loads(jl.until(lambda l: '"completed"' in l and job in l, what="completed"))
        assert (done["result"], done["message"]) == ("failed", "I/O error on Disk2 at byte 1048576"), done
        gone = json.loads(jl.until(lambda l: '"interfaces-removed"' in l, what="interfaces-removed"))
        assert (gone["object"], gone["interfaces"]) == (job, ["org.ldmd1.Job"]), gone
        rem = json.loads(jl.until(lambda l: '"job-removed"' in l, what="job-removed"))
        assert (rem["job"], rem["hresult"], rem["result"]) == (job, 0x80042420, "failed"), rem
        tl.until(lambda l: l.endswith("+ job %s added (%s)" % (n, job)), what="job added")
        tl.until(lambda l: re.search(r"job %s completed: failed \(VDS_E_DMADMIN_METHOD_CALL_FAILED, "
                                     r"0x80042420\): I/O error on Disk2" % n, l), what="failed")
        tl.until(lambda l: l.endswith("- job %s removed (%s)" % (n, job)), what="job interfaces removed")
        tl.until(lambda l: l.endswith("job %s removed (failed, 0x80042420)" % n), what="job removed")
        ctx.code(NOT_FOUND, "wait", job)
    finally:
        for p in (jm, tm):
            p.send_signal(signal.SIGINT)
        assert jm.wait(10) == 0 and tm.wait(10) == 0


@tap.test
def stale_database_stands_out(ctx):
    d = {x["name"]: x for x in ctx.json("status", "Quick")["packs"][0]["disks"]}
    assert (d["Disk1"]["database_stale"], d["Disk2"]["database_stale"]) == (False, True), d
    assert (d["Disk2"]["database_sequence"], d["Disk2"]["health"]) == (6, "stale"), d
    out = ctx.ok("status", "Quick")
    assert re.search(r"Disk2 +online +stale +1\.0 GiB +/dev/fake2 +database seq 6 STALE \(pack at 7\)", out), out
    assert re.search(r"Disk1 +online +healthy +1\.0 GiB +/dev/fake1 +database seq 7$", out, re.M), out
    rc, tty = T.run_pty([LDMCTL, "--bus=" + ctx.bus.address, "status", "Quick"], ctx.env())
    assert rc == 0 and "\x1b[1;33mdatabase seq 6 STALE (pack at 7)\x1b[0m" in tty, repr(tty)


@tap.test
def daemon_vanishes_under_wait(ctx):
    job = ctx.start_job("Slow")
    p = subprocess.Popen([LDMCTL, "--bus=" + ctx.bus.address, "wait", job], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=ctx.env())
    p.stdout.readline()
    ctx.stop_fake()
    out, err = p.communicate(timeout=10)
    assert p.returncode == FAILURE and "lost job %s" % job in err, (p.returncode, out, err)
    ctx.start_fake()
    ctx.code(NOT_FOUND, "wait", job)


def main():
    if not os.access(LDMCTL, os.X_OK):
        print("1..0 # SKIP ldmctl not built")
        return 0
    ctx = Ctx()
    try:
        return tap.run(ctx)
    finally:
        ctx.close()


if __name__ == "__main__":
    sys.exit(main())
