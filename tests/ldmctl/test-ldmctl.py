#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""ldmctl against a live ldmd on a private system-type bus (the daemon tests' fixture, with
our real D-Bus policy) over the real Windows images: list/status text and --json documents
compared with EXPECTED.md, PACK given as name/GUID/path, exit codes of every command
(not found, usage, not authorised as nobody, daemon not running), monitor events, colour on
a pseudo-terminal and NO_COLOR, bash completion from the live daemon, and — once the daemon
has Pack.Recover — the progress bar, plain progress, --no-wait/wait/jobs/cancel. TAP."""

import fcntl
import json
import os
import pty
import queue
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))

import expected as X  # noqa: E402
from ldmdtest import (  # noqa: E402
    BUILD_ROOT, NOBODY, SOURCE_ROOT, Ldmd, PrivateBus, Skip, Tap, diag, pack_path, tmpdir,
    unpack_real_images, wait_until)

LDMCTL = os.environ.get("LDMCTL") or os.path.join(BUILD_ROOT, "tools", "ldmctl")
COMPLETION = os.path.join(SOURCE_ROOT, "data", "bash-completion", "ldmctl")

# Exit codes (ldmctl(1) EXIT STATUS).
OK, FAILURE, USAGE, NOT_FOUND, NOT_AUTHORIZED, JOB_FAILED, CANCELLED, BUSY, NOT_SUPPORTED, TOO_LATE = range(10)

LIST_KEYS = {"object", "id", "name", "status", "status_code", "health", "health_code", "flags",
             "flags_code", "disks_present", "disks_total", "volumes", "active_job"}
DISK_KEYS = {"object", "id", "name", "device", "status", "status_code", "health", "health_code",
             "size", "database_sequence", "database_stale"}
VOLUME_KEYS = {"object", "id", "name", "type", "type_code", "status", "status_code", "health",
               "health_code", "size", "plexes"}
PLEX_KEYS = {"index", "health", "health_code", "transition", "transition_code", "members"}
MEMBER_KEYS = {"disk", "disk_name", "offset", "length"}
JOB_KEYS = {"object", "operation", "pack", "pack_name", "state", "percent", "bytes_done",
            "bytes_total", "rate", "start_time", "expected_end_time", "started_by_uid",
            "cancelable", "hresult", "hresult_name", "result", "message"}
TYPE_NAME = {"simple": "simple", "spanned": "span", "striped": "stripe", "mirrored": "mirror",
             "raid5": "parity"}

tap = Tap()


class Ctx:
    """One private bus; a daemon over all 19 images unless a test swaps it."""

    def __init__(self):
        self.dir = tmpdir()
        images = os.path.join(self.dir, "images")
        os.makedirs(images)
        self.images = unpack_real_images(images)
        self.bus = PrivateBus(self.dir)
        self.daemon = None
        self.n = 0
        self.start(X.all_images())

    def image(self, name):
        return os.path.join(self.images, name)

    def start(self, names):
        self.n += 1
        args = ["--no-udev", "--config=/dev/null"] + ["--image=" + self.image(i) for i in names]
        self.daemon = Ldmd(self.bus, args, os.path.join(self.dir, "ldmd-%d.log" % self.n))

    def stop(self):
        if self.daemon:
            self.daemon.stop()
            self.daemon = None
            wait_until(lambda: self.bus.name_owner() is None, 10, "org.ldmd1 to be released")

    def env(self, **extra):
        e = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "DBUS_SYSTEM_BUS_ADDRESS")}
        e.update(LC_ALL="C", TERM="xterm")
        e.update(extra)
        return e

    def ctl(self, *args, nobody=False, env=None, timeout=60):
        argv = [LDMCTL, "--bus=" + self.bus.address, "--no-ask-password"] + list(args)
        if nobody:
            argv = NOBODY + argv
        return subprocess.run(argv, capture_output=True, text=True, env=env or self.env(), timeout=timeout)

    def ok(self, *args, **kw):
        r = self.ctl(*args, **kw)
        assert r.returncode == OK, "ldmctl %s: rc %d\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr)
        return r.stdout

    def json(self, *args, **kw):
        return json.loads(self.ok("--json", *args, **kw))

    def code(self, want, *args, **kw):
        r = self.ctl(*args, **kw)
        assert r.returncode == want, "ldmctl %s: rc %d, want %d\n%s%s" % (
            " ".join(args), r.returncode, want, r.stdout, r.stderr)
        return r

    def has_method(self, iface, method):
        xml = self.bus.introspect(pack_path(X.PACK_2003["guid"]))
        return re.search(r'<interface name="%s">.*?<method name="%s"' % (re.escape(iface), method), xml, re.S)

    def require_recover(self):
        if not self.has_method("org.ldmd1.Pack", "Recover"):
            raise Skip("the daemon has no Pack.Recover yet (jobs arrive later); enabled automatically once it does")

    def close(self):
        self.stop()
        self.bus.stop()
        subprocess.run(["rm", "-rf", self.dir])


def run_pty(argv, env, cols=100, on_output=None, timeout=60):
    """Runs argv on a pseudo-terminal (its controlling terminal); returns (exit code, output).
    on_output(fd, output so far) may write to the terminal (keys, Ctrl-C)."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    out = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:          # EIO: the child closed the terminal
            break
        if not data:
            break
        out += data
        if on_output:
            on_output(fd, out.decode(errors="replace"))
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise AssertionError("timed out on a terminal: %r\n%s" % (argv, out.decode(errors="replace")))
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


class Lines:
    """Reads a process's stdout lines in a thread; next() waits for one with a timeout."""

    def __init__(self, proc):
        self.proc = proc
        self.q = queue.Queue()
        self.seen = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        for line in self.proc.stdout:
            self.q.put(line.rstrip("\n"))
        self.q.put(None)

    def until(self, pred, timeout=20.0, what="a line"):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = self.q.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(line)
            if pred(line):
                return line
        raise AssertionError("no %s; got:\n%s" % (what, "\n".join(self.seen[-40:])))


def expected_pack_json(p):
    return next(x for x in X.PACKS if x["name"] == p["name"])


# ---------------------------------------------------------------------------------------------

@tap.test
def list_text(ctx):
    out = ctx.ok("list")
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "HEALTH", "DISKS", "VOLUMES", "FLAGS", "JOB"], out
    assert lines[1].split() == ["Red-nzv8x6obywgDg0", "online", "healthy", "10/10", "6", "-", "-"], out
    assert lines[2].split() == ["WIN-ERRDJSBDAVF-Dg0", "online", "healthy", "9/9", "5", "-", "-"], out
    assert lines[-1] == "2 packs listed.", out
    assert "\x1b[" not in out, "colour on a pipe"
    out = ctx.ok("--no-legend", "list")
    assert [l.split()[0] for l in out.splitlines()] == ["Red-nzv8x6obywgDg0", "WIN-ERRDJSBDAVF-Dg0"], out
    assert ctx.ok("list", "--names").splitlines() == ["Red-nzv8x6obywgDg0", "WIN-ERRDJSBDAVF-Dg0"]


@tap.test
def list_json(ctx):
    doc = ctx.json("list")
    assert set(doc) == {"packs"}, doc
    assert [p["name"] for p in doc["packs"]] == ["Red-nzv8x6obywgDg0", "WIN-ERRDJSBDAVF-Dg0"], doc
    for p in doc["packs"]:
        exp = expected_pack_json(p)
        assert set(p) == LIST_KEYS, sorted(p)
        assert p["id"] == exp["guid"] and p["object"] == pack_path(exp["guid"]), p
        assert (p["status"], p["status_code"], p["health"], p["health_code"]) == ("online", 1, "healthy", 1), p
        assert p["flags"] == [] and p["flags_code"] == 0 and p["active_job"] is None, p
        assert p["disks_present"] == p["disks_total"] == len(exp["disks"]), p
        assert p["volumes"] == len(exp["volumes"]), p
    # short and pretty are the same document
    assert json.loads(ctx.ok("--json=pretty", "list")) == json.loads(ctx.ok("--json=short", "list")) == doc
    assert len(ctx.ok("--json=short", "list").splitlines()) == 1
    assert len(ctx.ok("--json=pretty", "list").splitlines()) > 10


@tap.test
def status_text(ctx):
    out = ctx.ok("status", "Red-nzv8x6obywgDg0")
    lines = out.splitlines()
    assert lines[0] == "Pack Red-nzv8x6obywgDg0 (03c0c4fc-8b6f-402b-9431-4be2e5823b1c)", out
    assert "status online, health healthy, flags -, database sequence 1133" in lines[1], out
    assert "disks: 10 of 10 present" in out and "volumes: 6" in out, out
    for name, (guid, img) in X.PACK_2003["disks"].items():
        row = next((l for l in lines if re.search(r"[-`] %s +online" % name, l)), None)
        assert row, "no row for %s\n%s" % (name, out)
        parts = row.split()
        i = parts.index(name)
        assert parts[i + 1:i + 6] == ["online", "healthy", "50.0", "MiB", ctx.image(img)], row
        assert row.endswith("database seq 1133"), row
    for name, (guid, vtype, size, plexes) in X.PACK_2003["volumes"].items():
        assert re.search(r"[-`] %s +%s +online +healthy" % (name, TYPE_NAME[vtype]), out), name
    # Raid1's columns in column order, with their byte offsets
    i = next(i for i, l in enumerate(lines) if re.search(r"[-`] Raid1 ", l))
    assert "plex 0  healthy  stable" in lines[i + 1], lines[i + 1]
    cols = [re.search(r"[-`] (Disk\d+) +offset .*\((\d+)\)", l).groups() for l in lines[i + 2:i + 5]]
    assert cols == [("Disk10", "32256"), ("Disk9", "32256"), ("Disk8", "32256")], cols
    # a mirror has two plexes
    i = next(i for i, l in enumerate(lines) if re.search(r"[-`] Volume3 ", l))
    assert "plex 0" in lines[i + 1] and "Disk6" in lines[i + 2] and "plex 1" in lines[i + 3] and "Disk7" in lines[i + 4]
    # no argument: both packs
    out = ctx.ok("status")
    assert out.count("\nPack ") + out.startswith("Pack ") == 2, out


@tap.test
def status_json_matches_expected(ctx):
    doc = ctx.json("status")
    assert [p["name"] for p in doc["packs"]] == ["Red-nzv8x6obywgDg0", "WIN-ERRDJSBDAVF-Dg0"]
    for p in doc["packs"]:
        exp = expected_pack_json(p)
        assert set(p) == (LIST_KEYS | {"committed_sequence", "disks"}), sorted(p)
        assert p["committed_sequence"] == {"Red-nzv8x6obywgDg0": 1133, "WIN-ERRDJSBDAVF-Dg0": 39}[p["name"]]
        disks = {d["name"]: d for d in p["disks"]}
        assert set(disks) == set(exp["disks"]), sorted(disks)
        for name, (guid, img) in exp["disks"].items():
            d = disks[name]
            assert set(d) == DISK_KEYS, sorted(d)
            assert d["id"] == guid and d["device"] == ctx.image(img), d
            assert (d["status"], d["health"], d["size"]) == ("online", "healthy", X.IMAGE_SECTORS * X.S), d
            assert d["database_sequence"] == p["committed_sequence"] and d["database_stale"] is False, d
        vols = {v["name"]: v for v in p["volumes"]}
        assert set(vols) == set(exp["volumes"]), sorted(vols)
        for name, (guid, vtype, size, plexes) in exp["volumes"].items():
            v = vols[name]
            assert set(v) == VOLUME_KEYS, sorted(v)
            assert (v["id"], v["type"], v["size"]) == (guid, TYPE_NAME[vtype], size * X.S), v
            assert (v["status"], v["health"]) == ("online", "healthy"), v
            got = sorted([(m["disk_name"], m["offset"], m["length"]) for m in pl["members"]] for pl in v["plexes"])
            want = sorted([(dn, s * X.S, n * X.S) for dn, s, n in pl] for pl in plexes)
            assert got == want, "%s\n got %s\nwant %s" % (name, got, want)
            for pl in v["plexes"]:
                assert set(pl) == PLEX_KEYS and (pl["health"], pl["transition"]) == ("healthy", "stable"), pl
                for m in pl["members"]:
                    assert set(m) == MEMBER_KEYS and m["disk"] == disks[m["disk_name"]]["object"], m
            if vtype == "raid5":    # column order, not sorted
                assert [m["disk_name"] for m in v["plexes"][0]["members"]] == [dn for dn, _, _ in plexes[0]]


@tap.test
def pack_argument_forms(ctx):
    guid = X.PACK_2008["guid"]
    ref = ctx.json("status", "WIN-ERRDJSBDAVF-Dg0")
    assert len(ref["packs"]) == 1 and ref["packs"][0]["id"] == guid
    for form in (guid, guid.upper(), "{%s}" % guid.upper(), pack_path(guid)):
        assert ctx.json("status", form) == ref, form
    for bad in ("nosuch", "00000000-0000-0000-0000-000000000000", "/org/ldmd1/pack/_30000"):
        r = ctx.code(NOT_FOUND, "status", bad)
        assert "org.ldmd1.Error.NotFound" in r.stderr and r.stdout == "", r.stderr
        ctx.code(NOT_FOUND, "--json", "status", bad)
        ctx.code(NOT_FOUND, "recover", bad)
        ctx.code(NOT_FOUND, "verify", bad)
    for malformed in ("/org/foo", "/org/ldmd1/pack/a//b"):
        ctx.code(USAGE, "status", malformed)
        ctx.code(USAGE, "recover", malformed)
    # one bad pack among good ones: the good one is shown, the exit code says not found
    r = ctx.code(NOT_FOUND, "status", "Red-nzv8x6obywgDg0", "nosuch")
    assert r.stdout.startswith("Pack Red-nzv8x6obywgDg0"), r.stdout


@tap.test
def usage_errors(ctx):
    ctx.code(USAGE, "frobnicate")
    ctx.code(USAGE, "recover")
    ctx.code(USAGE, "wait")
    ctx.code(USAGE, "list", "extra")
    ctx.code(USAGE, "--json=xml", "list")
    ctx.code(USAGE, "--no-such-option", "list")
    r = subprocess.run([LDMCTL], capture_output=True, text=True)
    assert r.returncode == USAGE and "COMMAND" in r.stdout, r
    r = subprocess.run([LDMCTL, "--help"], capture_output=True, text=True)
    assert r.returncode == OK and "recover PACK" in r.stdout, r
    r = subprocess.run([LDMCTL, "--bus=unix:path=" + os.path.join(ctx.dir, "nonexistent"), "list"],
                       capture_output=True, text=True)
    assert r.returncode == FAILURE and "cannot connect" in r.stderr, r


@tap.test
def jobs_when_idle(ctx):
    if ctx.has_method("org.ldmd1.Pack", "Recover"):
        wait_until(lambda: not ctx.json("jobs")["jobs"], 5, "no jobs")
    assert ctx.json("jobs") == {"jobs": []}
    assert ctx.ok("jobs").strip() == "No jobs."
    assert ctx.ok("jobs", "--paths") == ""
    for verb in ("wait", "cancel"):
        for job in ("4711", "_4711", "/org/ldmd1/job/_4711"):
            r = ctx.code(NOT_FOUND, verb, job)
            assert "/org/ldmd1/job/_4711" in r.stderr, r.stderr
        for bad in ("x", "/org/ldmd1/job/x", "-1"):
            ctx.code(USAGE, verb, "--", bad)


@tap.test
def refused_and_allowed_as_nobody(ctx):
    out = ctx.ok("list", "--no-legend", nobody=True)
    assert out.split()[0] == "Red-nzv8x6obywgDg0", out
    assert ctx.json("status", nobody=True) == ctx.json("status")
    # No polkitd on the private bus: only root may change anything.
    r = ctx.code(NOT_AUTHORIZED, "rescan", nobody=True)
    assert "NotAuthorized" in r.stderr or "AccessDenied" in r.stderr, r.stderr
    ctx.ok("rescan")
    if ctx.has_method("org.ldmd1.Pack", "Recover"):
        ctx.code(NOT_AUTHORIZED, "recover", "--no-wait", "Red-nzv8x6obywgDg0", nobody=True)
        ctx.code(NOT_AUTHORIZED, "verify", "--no-wait", "Red-nzv8x6obywgDg0", nobody=True)
    else:
        diag("Recover/Verify as nobody: skipped, the daemon has no Pack.Recover yet")


@tap.test
def bash_completion(ctx):
    script = r'''
_init_completion() { words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; }
source "$1"
t() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _ldmctl; echo "${COMPREPLY[*]}"; }
t ldmctl ""
t ldmctl re
t ldmctl status ""
t ldmctl --json recover W
t ldmctl recover Red-nzv8x6obywgDg0 ""
t ldmctl --no-l
'''
    env = ctx.env(DBUS_SYSTEM_BUS_ADDRESS=ctx.bus.address,
                  PATH=os.path.dirname(LDMCTL) + ":" + os.environ.get("PATH", "/usr/bin:/bin"))
    r = subprocess.run(["bash", "-c", script, "bash", COMPLETION], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "list status recover verify jobs wait cancel monitor rescan",
        "recover rescan",
        "Red-nzv8x6obywgDg0 WIN-ERRDJSBDAVF-Dg0",
        "WIN-ERRDJSBDAVF-Dg0",
        "",
        "--no-legend",
    ], r.stdout


@tap.test
def monitor_missing_disk_and_colour(ctx):
    """Monitor sees ldmd go and come back with a disk missing; list/status show it, in red on
    a terminal, plain with NO_COLOR; then the full daemon comes back."""
    env = ctx.env()
    jm = subprocess.Popen([LDMCTL, "--bus=" + ctx.bus.address, "--json", "monitor"],
                          stdout=subprocess.PIPE, text=True, env=env)
    tm = subprocess.Popen([LDMCTL, "--bus=" + ctx.bus.address, "monitor"],
                          stdout=subprocess.PIPE, text=True, env=env)
    try:
        jl, tl = Lines(jm), Lines(tm)
        first = json.loads(jl.until(lambda l: True, what="the monitoring event"))
        assert first["event"] == "monitoring" and first["owner"].startswith(":"), first
        tl.until(lambda l: l.startswith("Monitoring ldmd events"), what="the text monitor's banner")

        ctx.stop()
        r = ctx.code(FAILURE, "list")
        assert "is ldmd running" in r.stderr, r.stderr
        ctx.start([i for i in X.all_images() if i != "ldm-2003r2-mirrored-2.img"])

        ev = [json.loads(jl.until(lambda l: '"daemon-vanished"' in l, what="daemon-vanished"))]
        ev.append(json.loads(jl.until(lambda l: '"daemon-appeared"' in l, what="daemon-appeared")))
        disk7 = "/org/ldmd1/disk/_347980158_2dabc7_2d46e3_2da95f_2d7c00f8539073"
        added = json.loads(jl.until(lambda l: '"interfaces-added"' in l and disk7 in l.split('"interfaces"')[0],
                                    what="Disk7 added"))
        d = added["interfaces"]["org.ldmd1.Disk"]
        assert (d["Name"], d["Status"], d["Device"]) == ("Disk7", 6, ""), d
        assert all(isinstance(e["time"], int) for e in ev + [added])

        tl.until(lambda l: l.endswith("ldmd vanished (%s)" % first["owner"]), what="'ldmd vanished'")
        tl.until(lambda l: "ldmd appeared" in l, what="'ldmd appeared'")
        tl.until(lambda l: "+ pack Red-nzv8x6obywgDg0 added" in l, what="the pack added")
        tl.until(lambda l: "+ disk Red-nzv8x6obywgDg0/Disk7 added (%s)" % disk7 in l, what="Disk7 added")
    finally:
        for p in (jm, tm):
            p.send_signal(signal.SIGTERM)
        assert jm.wait(10) == 0 and tm.wait(10) == 0, (jm.returncode, tm.returncode)

    out = ctx.ok("list", "--no-legend").splitlines()
    assert out[0].split()[:4] == ["Red-nzv8x6obywgDg0", "online", "failed-redundancy", "9/10"], out
    p = ctx.json("status", "Red-nzv8x6obywgDg0")["packs"][0]
    assert (p["disks_present"], p["disks_total"], p["health"]) == (9, 10, "failed-redundancy"), p
    d7 = next(d for d in p["disks"] if d["name"] == "Disk7")
    assert (d7["status"], d7["status_code"], d7["device"]) == ("missing", 6, None), d7
    v3 = next(v for v in p["volumes"] if v["name"] == "Volume3")
    assert v3["health"] == "failed-redundancy", v3
    out = ctx.ok("status", "Red-nzv8x6obywgDg0")
    assert "disks: 9 of 10 present" in out and re.search(r"Disk7 +missing .*\(no device\)", out), out

    argv = [LDMCTL, "--bus=" + ctx.bus.address, "status", "Red-nzv8x6obywgDg0"]
    rc, tty = run_pty(argv, ctx.env())
    assert rc == 0, tty
    assert "\x1b[1;31mmissing\x1b[0m" in tty, repr(tty[:2000])
    assert "\x1b[1;31m9 of 10 present" in tty, repr(tty[:600])
    rc, tty = run_pty(argv, ctx.env(NO_COLOR="1"))
    assert rc == 0 and "\x1b[" not in tty, repr(tty[:600])
    rc, tty = run_pty(argv, ctx.env(LC_ALL="C.UTF-8"))
    assert rc == 0 and "\u251c\u2500 disks" in tty, repr(tty[:600])     # tree glyphs in UTF-8

    if ctx.has_method("org.ldmd1.Pack", "Recover"):
        # Nothing can restore Volume3's redundancy without its second disk: the job fails.
        r = ctx.code(JOB_FAILED, "recover", "Red-nzv8x6obywgDg0", timeout=120)
        assert "recover of pack Red-nzv8x6obywgDg0 failed: VDS_E_" in r.stdout, r.stdout
        doc = json.loads(ctx.code(JOB_FAILED, "--json", "recover", "Red-nzv8x6obywgDg0", timeout=120).stdout)
        assert doc["result"] == "failed" and doc["hresult_name"].startswith("VDS_E_"), doc
        assert doc["percent"] == 0 and doc["message"], doc

    ctx.stop()
    ctx.start(X.all_images())


# --- jobs: enabled once the daemon has Pack.Recover ------------------------------------------

@tap.test
def recover_progress_bar_on_terminal(ctx):
    ctx.require_recover()
    jm = subprocess.Popen([LDMCTL, "--bus=" + ctx.bus.address, "--json", "monitor"],
                          stdout=subprocess.PIPE, text=True, env=ctx.env())
    try:
        jl = Lines(jm)
        jl.until(lambda l: '"monitoring"' in l, what="the monitoring event")
        rc, out = run_pty([LDMCTL, "--bus=" + ctx.bus.address, "--no-ask-password", "recover",
                           "Red-nzv8x6obywgDg0"], ctx.env(), cols=100, timeout=120)
        assert rc == OK, out
        frames = [f for f in out.split("\r") if "[" in f and "%" in f]
        assert len(frames) >= 2, "the bar was drawn %d times:\n%r" % (len(frames), out)
        assert re.search(r"recover Red-nzv8x6obywgDg0 \[#+\] 100%", frames[-1]), repr(frames[-1])
        assert all("\x1b[K" in f for f in frames), "frames do not clear the line"
        percents = [int(m.group(1)) for f in frames for m in [re.search(r"\] +(\d+)%", f)] if m]
        assert percents == sorted(percents), percents
        assert "finished successfully" in out, out
        assert max(len(l) for f in frames for l in [re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", f)]) <= 100
        new = json.loads(jl.until(lambda l: '"job-new"' in l, what="job-new"))
        done = json.loads(jl.until(lambda l: '"completed"' in l, what="completed"))
        assert done["object"] == new["job"] and done["result"] == "success", (new, done)
        assert new["target"] == pack_path(X.PACK_2003["guid"]), new
    finally:
        jm.send_signal(signal.SIGTERM)
        jm.wait(10)


@tap.test
def recover_plain_json_nowait_wait_jobs(ctx):
    ctx.require_recover()
    r = ctx.ctl("recover", "WIN-ERRDJSBDAVF-Dg0", timeout=120)
    assert r.returncode == OK, r
    lines = r.stdout.splitlines()
    assert lines[-1] == "recover of pack WIN-ERRDJSBDAVF-Dg0 finished successfully." or \
        "finished successfully" in r.stdout, r.stdout
    assert any(re.match(r"recover WIN-ERRDJSBDAVF-Dg0: done +100%", l) for l in lines), r.stdout
    assert "\r" not in r.stdout and "\x1b[" not in r.stdout, repr(r.stdout)

    doc = ctx.json("recover", "WIN-ERRDJSBDAVF-Dg0", timeout=120)
    assert set(doc) == JOB_KEYS | {"output"}, sorted(doc)
    assert (doc["state"], doc["result"], doc["hresult"], doc["percent"]) == ("done", "success", 0, 100), doc
    assert doc["operation"] == "recover" and doc["pack_name"] == "WIN-ERRDJSBDAVF-Dg0", doc

    job = ctx.ok("recover", "--no-wait", "Red-nzv8x6obywgDg0").strip()
    assert re.fullmatch(r"/org/ldmd1/job/_\d+", job), job
    assert job in ctx.ok("jobs", "--paths").splitlines()
    w = ctx.json("wait", job.rsplit("_", 1)[1], timeout=120)
    assert w["object"] == job and w["result"] == "success", w
    listed = {j["object"]: j for j in ctx.json("jobs")["jobs"]}
    assert set(listed[job]) == JOB_KEYS and listed[job]["state"] == "done", listed
    assert listed[job]["pack_name"] == "Red-nzv8x6obywgDg0", listed[job]
    assert re.search(r"^_\d+ +recover +Red-nzv8x6obywgDg0 +done +100%", ctx.ok("jobs"), re.M)
    assert json.loads(ctx.ok("--json", "recover", "--no-wait", "Red-nzv8x6obywgDg0"))["job"].startswith("/org/ldmd1/job/_")
    ctx.ok("wait", json.loads(ctx.ok("--json", "jobs"))["jobs"][-1]["object"], timeout=120)
    # a finished job cannot be cancelled any more
    ctx.code(TOO_LATE, "cancel", job)


@tap.test
def cancel_and_busy(ctx):
    ctx.require_recover()
    job = ctx.ok("recover", "--no-wait", "Red-nzv8x6obywgDg0").strip()
    busy = ctx.ctl("recover", "--no-wait", "Red-nzv8x6obywgDg0")
    c = ctx.ctl("cancel", job)
    w = ctx.ctl("wait", job, timeout=120)
    # The cancel arrived in time; or after the job's last safe point (a request, not an
    # order: it completes); or after the job had finished.
    assert (c.returncode, w.returncode) in ((OK, CANCELLED), (OK, OK), (TOO_LATE, OK)), (c, w)
    if w.returncode == CANCELLED:
        assert "was cancelled" in w.stdout and "VDS_E_OPERATION_CANCELED" in w.stdout, w.stdout
    if busy.returncode == BUSY:
        assert "org.ldmd1.Error.Busy" in busy.stderr, busy.stderr
    else:       # the first job ended before the second call: then that one is a new job
        assert busy.returncode == OK, busy
        ctx.ok("wait", busy.stdout.strip(), timeout=120)


@tap.test
def ctrl_c_asks_then_detaches(ctx):
    ctx.require_recover()
    state = {"sent_c": False, "sent_d": False}

    def keys(fd, out):
        if not state["sent_c"] and "%" in out:
            os.write(fd, b"\x03")
            state["sent_c"] = True
        elif state["sent_c"] and not state["sent_d"] and "[c]ancel, [d]etach" in out:
            os.write(fd, b"d\n")
            state["sent_d"] = True

    rc, out = run_pty([LDMCTL, "--bus=" + ctx.bus.address, "--no-ask-password", "recover",
                       "Red-nzv8x6obywgDg0"], ctx.env(), on_output=keys, timeout=120)
    if "finished successfully" in out and not state["sent_d"]:
        diag("the job finished before Ctrl-C could be answered; prompt not exercised")
        assert rc == OK, out
        return
    assert rc == OK and "Detached; job /org/ldmd1/job/_" in out, out
    job = re.search(r"Detached; job (/org/ldmd1/job/_\d+)", out).group(1)
    ctx.ok("wait", job, timeout=120)


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
