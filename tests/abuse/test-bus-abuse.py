#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""D-Bus abuse: hostile and overwhelming clients against ldmd on a private system-type bus.
Every method of every interface with wrong signatures (including 100k-entry object-path
arrays and 10 MB byte arrays as extra arguments), 10 MB strings where strings are taken,
paths that name nothing, every interface on every wrong object; then, while a Recover runs,
1,000 clients that call Job.Wait (or Recover) and vanish without reading the reply, and a
flood of 20,000 QueryStatus calls from several clients. ldmd must answer every call with an
error or a reply, stay responsive (a property read during and after takes < 100 ms), finish
its job correctly (sha256 of both volumes, ldmcheck --data --strict), keep its resident
memory bounded, and exit cleanly on SIGTERM (under ASan with detect_leaks=1, a leak fails
that exit status). A small scenario also runs under valgrind when it is installed.
TAP on stdout."""

import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from abusetest import (  # noqa: E402
    ABUSER, MIB, Daemon, assert_whole, break_pack, make_pack, pack_of, rss_kib)
from ldmdtest import (  # noqa: E402
    IFACE_DISK, IFACE_JOB, IFACE_MANAGER, IFACE_PACK, IFACE_VOLUME, LDMD, MANAGER, S_OK,
    VDS_E_OPERATION_CANCELED,
    GLib, PrivateBus, Skip, Tap, diag, tmpdir, wait_until)

tap = Tap()

PROPS = "org.freedesktop.DBus.Properties"
OBJMGR = "org.freedesktop.DBus.ObjectManager"
INTROSPECT = "org.freedesktop.DBus.Introspectable"
PEER = "org.freedesktop.DBus.Peer"

# Every method ldmd offers, with its input signature (dbus-api.md, dbus/*.xml), and the kind of
# object that has it ("any": sd-bus's standard interfaces on every object).
METHODS = [
    (IFACE_MANAGER, "Rescan", "", "manager"),
    (IFACE_MANAGER, "GetPackByName", "s", "manager"),
    (IFACE_MANAGER, "GetPackById", "s", "manager"),
    (IFACE_MANAGER, "ListJobs", "", "manager"),
    (IFACE_PACK, "Recover", "", "pack"),
    (IFACE_PACK, "Verify", "", "pack"),
    (IFACE_JOB, "Cancel", "", "job"),
    (IFACE_JOB, "Wait", "", "job"),
    (IFACE_JOB, "QueryStatus", "", "job"),
    (PROPS, "Get", "ss", "any"),
    (PROPS, "GetAll", "s", "any"),
    (PROPS, "Set", "ssv", "any"),
    (OBJMGR, "GetManagedObjects", "", "manager"),
    (INTROSPECT, "Introspect", "", "any"),
    (PEER, "Ping", "", "any"),
    (PEER, "GetMachineId", "", "any"),
]
IFACES = {"manager": IFACE_MANAGER, "pack": IFACE_PACK, "disk": IFACE_DISK, "volume": IFACE_VOLUME,
          "job": IFACE_JOB}

INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"
UNKNOWN = {"org.freedesktop.DBus.Error.UnknownObject", "org.freedesktop.DBus.Error.UnknownInterface",
           "org.freedesktop.DBus.Error.UnknownMethod", "org.freedesktop.DBus.Error.UnknownProperty"}

BIG_STRING = "x" * (10 * 1000 * 1000)
BIG_BYTES = b"\x5a" * (10 * 1000 * 1000)
MANY_PATHS = ["/org/ldmd1/pack/p%d" % i for i in range(100000)]

# Time limits: a property read while the daemon is flooded, and after.
READ_LIMIT_S = 0.100


_WRONG = []


def wrong_args():
    """(signature, prebuilt GLib.Variant) pairs; the big ones are built once (PyGObject is slow
    at building them element by element)."""
    if not _WRONG:
        big = GLib.Variant.new_from_bytes(GLib.VariantType.new("ay"), GLib.Bytes.new(BIG_BYTES), True)
        _WRONG.extend([
            ("(s)", GLib.Variant("(s)", ("x",))),
            ("(u)", GLib.Variant("(u)", (7,))),
            ("(ss)", GLib.Variant("(ss)", ("a", "b"))),
            ("(sss)", GLib.Variant("(sss)", ("a", "b", "c"))),
            ("(v)", GLib.Variant("(v)", (GLib.Variant("i", 1),))),
            ("(a{sv})", GLib.Variant("(a{sv})", ({"k": GLib.Variant("s", "v")},))),
            ("(ao)", GLib.Variant("(ao)", (MANY_PATHS,))),
            ("(say)", GLib.Variant.new_tuple(GLib.Variant("s", "x"), big)),
        ])
    return _WRONG


def median(v):
    v = sorted(v)
    return v[len(v) // 2] if v else 0.0


def binary_is_asan():
    r = subprocess.run(["ldd", LDMD], capture_output=True, text=True)
    return "libasan" in r.stdout


def is_asan(pid):
    with open("/proc/%d/maps" % pid) as f:
        return "libasan" in f.read()


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


def call_outcome(bus, path, iface, method, sig=None, args=None, timeout_s=30):
    """Calls; returns ("ok", value) or (error name, message). A missing answer fails."""
    try:
        if isinstance(args, GLib.Variant):
            params = args
        else:
            params = GLib.Variant(sig, args) if sig else None
        r = bus.conn.call_sync("org.ldmd1", path, iface, method, params, None, 0, timeout_s * 1000, None)
        return "ok", r.unpack()
    except GLib.Error as e:
        from gi.repository import Gio
        name = Gio.DBusError.get_remote_error(e) or ("local: " + e.message)
        assert name not in ("org.freedesktop.DBus.Error.NoReply", "org.freedesktop.DBus.Error.ServiceUnknown",
                            "org.freedesktop.DBus.Error.Timeout"), \
            "%s.%s on %s: %s (%s)" % (iface, method, path, name, e.message[:200])
        return name, e.message


def timed_read(bus, path, iface, prop):
    t = time.monotonic()
    bus.prop(path, iface, prop)
    return time.monotonic() - t


def objects(bus):
    """One object of each kind (job: any job, may be None)."""
    pack = pack_of(bus, "Abuse-Dg0")
    p = bus.props(pack, IFACE_PACK)
    jobs = bus.call(MANAGER, IFACE_MANAGER, "ListJobs")[0]
    return {"manager": MANAGER, "pack": pack, "disk": p["Disks"][0], "volume": p["Volumes"][0],
            "job": jobs[-1] if jobs else None}


def static_abuse(bus, objs, counts, big=True):
    """Wrong signatures, huge arguments, paths naming nothing, interfaces on wrong objects.
    Never starts a job. Adds to counts["calls"]; returns the set of error names seen."""
    seen = set()
    jobs_before = bus.call(MANAGER, IFACE_MANAGER, "ListJobs")[0]

    def expect(allowed, path, iface, method, sig=None, args=None):
        name, msg = call_outcome(bus, path, iface, method, sig, args)
        counts["calls"] += 1
        seen.add(name)
        assert name in allowed, "%s.%s(%s) on %s: %s %s" % (iface, method, sig, path[:100], name, str(msg)[:300])
        return name, msg

    # 1. Wrong signatures on every method, on the object that has it.
    for iface, method, sig, kind in METHODS:
        for path in ([objs[kind]] if kind != "any" else [objs[k] for k in IFACES if objs[k]]):
            if path is None:
                continue
            # ldmd's own methods check their signature exactly (sd-bus does, before the
            # handler runs). sd-bus's built-in Properties/Peer/Introspectable read what they
            # need and ignore extra arguments: any answer will do there.
            allowed = {INVALID_ARGS} if kind != "any" else {INVALID_ARGS, "ok"} | UNKNOWN
            for wsig, wargs in wrong_args():
                if wsig == "(%s)" % sig:
                    continue
                # The big ones (100k paths, 10 MB) once per method, on its first object.
                if wsig in ("(ao)", "(say)") and (not big or path != (objs[kind] if kind != "any" else MANAGER)):
                    continue
                name, _ = expect(allowed, path, iface, method, wsig, wargs)
                if name == "ok" or name in UNKNOWN:
                    counts.setdefault("lenient", set()).add("%s.%s(%s)" % (iface, method, wsig))
            if sig:  # and no arguments at all where some are needed
                expect(allowed, path, iface, method)

    # 2. Huge arguments of the right type.
    huge = BIG_STRING if big else "x" * 100000
    medium = "x" * 100000
    name, msg = expect({"org.ldmd1.Error.NotFound"}, MANAGER, IFACE_MANAGER, "GetPackByName", "(s)", (huge,))
    expect({INVALID_ARGS}, MANAGER, IFACE_MANAGER, "GetPackById", "(s)", (huge,))
    expect({"org.ldmd1.Error.NotFound"}, MANAGER, IFACE_MANAGER, "GetPackByName", "(s)", ("",))
    expect({INVALID_ARGS}, MANAGER, IFACE_MANAGER, "GetPackById", "(s)", ("",))
    expect({"org.ldmd1.Error.NotFound"}, MANAGER, IFACE_MANAGER, "GetPackById", "(s)",
           ("00000000-0000-0000-0000-000000000000",))
    for kind in IFACES:
        if objs[kind]:
            expect(UNKNOWN | {INVALID_ARGS}, objs[kind], PROPS, "Get", "(ss)", (medium, "Name"))
            expect(UNKNOWN | {INVALID_ARGS}, objs[kind], PROPS, "Get", "(ss)", (IFACES[kind], medium))
            expect(UNKNOWN | {INVALID_ARGS}, objs[kind], PROPS, "GetAll", "(s)", (medium,))
            expect(UNKNOWN | {INVALID_ARGS, "org.freedesktop.DBus.Error.PropertyReadOnly"},
                   objs[kind], PROPS, "Set", "(ssv)", (IFACES[kind], "Name", GLib.Variant("s", medium)))
            expect({"org.freedesktop.DBus.Error.PropertyReadOnly", INVALID_ARGS} | UNKNOWN,
                   objs[kind], PROPS, "Set", "(ssv)", (IFACES[kind], "Id", GLib.Variant("u", 1)))
    # A GetPackByName that is answered properly afterwards.
    assert bus.call(MANAGER, IFACE_MANAGER, "GetPackByName", ("Abuse-Dg0",), "(s)")[0] == objs["pack"]

    # 3. Paths that name nothing (syntactically valid: the bus refuses invalid ones itself).
    nowhere = ["/org/ldmd1/pack/nonexistent", "/org/ldmd1/pack/invalid", "/org/ldmd1/pack",
               "/org/ldmd1/job/_0", "/org/ldmd1/job/_4294967295", "/org/ldmd1/job/_99999999999999999999",
               "/org/ldmd1/job/_2d1", "/org/ldmd1/job", "/org/ldmd1/disk/x", "/org/ldmd1/volume/_",
               "/org/ldmd1/x", "/", "/org", objs["pack"] + "/child", objs["job"] + "/child" if objs["job"] else "/j",
               "/org/ldmd1/pack/" + "a" * 60000]
    for path in nowhere:
        for iface, method, sig, kind in METHODS:
            if kind == "any" or iface in (OBJMGR,):
                continue
            args = ("Abuse-Dg0",) if sig == "s" else None
            expect(UNKNOWN, path, iface, method, "(%s)" % sig if sig else None, args)
        for iface in IFACES.values():
            expect(UNKNOWN, path, PROPS, "GetAll", "(s)", (iface,))

    # A path over sd-bus's limit (BUS_PATH_SIZE_MAX, 64 KiB): sd-bus drops such a message as
    # invalid without an answer, so the caller only times out. ldmd must not mind.
    try:
        bus.conn.call_sync("org.ldmd1", "/org/ldmd1/pack/" + "a" * 70000, IFACE_PACK, "Recover", None, None,
                           0, 500, None)
        raise AssertionError("Recover on a 70 kB path succeeded")
    except GLib.Error:
        counts["calls"] += 1
    assert bus.call(MANAGER, IFACE_MANAGER, "GetPackByName", ("Abuse-Dg0",), "(s)")[0] == objs["pack"]

    # 4. Every interface on every wrong object.
    for kind, path in objs.items():
        if not path:
            continue
        for iface, method, sig, owner in METHODS:
            if owner in ("any", kind) or (iface == OBJMGR):
                continue
            args = ("Abuse-Dg0",) if sig == "s" else None
            expect(UNKNOWN, path, iface, method, "(%s)" % sig if sig else None, args)
        for other_kind, iface in IFACES.items():
            if other_kind != kind:
                expect(UNKNOWN, path, PROPS, "GetAll", "(s)", (iface,))
                expect(UNKNOWN, path, PROPS, "Get", "(ss)", (iface, "Name"))
    assert bus.call(MANAGER, IFACE_MANAGER, "ListJobs")[0] == jobs_before, "the abuse started a job"
    return seen


def abuser(*args):
    return subprocess.Popen([ABUSER] + [str(a) for a in args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def abuser_result(p, timeout=300):
    out, err = p.communicate(timeout=timeout)
    assert p.returncode == 0, "bus-abuser failed (%d): %s %s" % (p.returncode, out, err)
    words = out.split()
    return dict(zip(words[0::2], words[1::2]))


def probe_while(bus, path, proc, reads):
    """Times property reads until proc ends; appends the durations to reads."""
    while proc.poll() is None:
        reads.append(timed_read(bus, path, IFACE_JOB, "Percent"))
        time.sleep(0.02)


@tap.test
def abuse_during_recover(ctx):
    if not os.access(ABUSER, os.X_OK):
        raise Skip("bus-abuser not built")
    bus = ctx.bus
    work = os.path.join(ctx.dir, "pack")
    os.makedirs(work)
    imgs, gold = make_pack(work, "Abuse-Dg0", "120M", "32M", "64M")
    break_pack(imgs)
    # Slow enough (64 MiB at 6 MiB/s, under ASan 3) that the load lands while the job runs;
    # one worker thread, so that the first cycle warms up the only worker arena there is.
    rate = 3 if binary_is_asan() else 6
    daemon = Daemon(bus, work, imgs, conf="RepairRateLimitMiB=%d\nWorkerThreads=1\n" % rate,
                    env={"LDMD_LOG_LEVEL": "info"})
    daemon.start()
    try:
        run_abuse(ctx, daemon, imgs, gold)
    finally:
        if daemon.d.alive():
            daemon.kill()


CYCLES = int(os.environ.get("LDMD_ABUSE_CYCLES") or 2)


def run_abuse(ctx, daemon, imgs, gold):
    """CYCLES times: break the pack, Recover, abuse the daemon while the job runs, let it
    finish, check the data. The first cycle warms the heap up (a job's buffers and arena, 10 MB
    messages, a rescan); the resident memory after the last cycle is compared with after the
    first: what the abuse leaves behind would pile up there."""
    bus = ctx.bus
    pid = daemon.pid
    asan = is_asan(pid)
    counts = {"calls": 0}
    t0 = time.monotonic()
    rss, reads, after = [], [], []
    objs = objects(bus)
    # Under ASan memory is not judged by RSS (LeakSanitizer judges it at exit) and 10 MB
    # messages are slow: one cycle, and the static abuse only while the job runs.
    cycles = 1 if asan else CYCLES
    if not asan:
        seen = static_abuse(bus, objs, counts)
        diag("static abuse (no job): %d calls in %.1f s, errors seen: %s" % (
            counts["calls"], time.monotonic() - t0, ", ".join(sorted(seen))))
    rss.append(rss_kib(pid))
    for cycle in range(1, cycles + 1):
        if cycle > 1:
            break_pack(imgs)
        abuse_cycle(bus, daemon, objs, counts, reads, after)
        assert_whole(bus, objs["pack"], imgs, gold)
        rss.append(rss_kib(pid))
        diag("cycle %d done: RSS %d KiB" % (cycle, rss[-1]))
    diag("RssAnon at start %d KiB, after cycle 1 %d KiB, after cycle %d %d KiB (%+d KiB)%s; %d calls in all, %.0f s" % (
        rss[0], rss[1], cycles, rss[-1], rss[-1] - rss[1], " (ASan: not judged)" if asan else "",
        counts["calls"], time.monotonic() - t0))
    diag("property reads under load: %d, median %.1f ms, max %.1f ms; after: %d, median %.1f ms, max %.1f ms" % (
        len(reads), 1000 * median(reads), 1000 * max(reads), len(after), 1000 * median(after), 1000 * max(after)))
    # Responsive: the typical read under load and every read after it within the limit; no
    # read under load stalls (the machine running the tests may be busy with other work, so
    # a single slow read under load is not held against the daemon).
    limit = READ_LIMIT_S * (3 if asan else 1)
    assert median(reads) < limit, "property reads under load took %.0f ms (median)" % (1000 * median(reads))
    assert max(reads) < 20 * limit, "a property read under load took %.0f ms" % (1000 * max(reads))
    assert median(after) < limit and max(after) < 5 * limit, \
        "property reads after the load: median %.0f ms, max %.0f ms" % (1000 * median(after), 1000 * max(after))
    if cycles > 1:
        assert rss[-1] - rss[1] < 8 * 1024, "ldmd's RSS grew by %d KiB" % (rss[-1] - rss[1])
    daemon.stop()  # SIGTERM, exit status 0 (ASan's leak check included)


def abuse_cycle(bus, daemon, objs, counts, reads, after):
    pid = daemon.pid
    (job,) = bus.call(objs["pack"], IFACE_PACK, "Recover")
    objs["job"] = job
    wait_until(lambda: bus.prop(job, IFACE_JOB, "State") == "running", 30, "the job to run")

    # 1,000 clients call Wait on the running job and vanish without reading the reply; then
    # 200 more do the same with Recover (Busy) and QueryStatus. Meanwhile property reads are
    # timed.
    t = time.monotonic()
    p = abuser("vanish", bus.address, "org.ldmd1", job, IFACE_JOB, "Wait", 1000, 100)
    r0 = len(reads)
    probe_while(bus, job, p, reads)
    assert abuser_result(p)["clients"] == "1000"
    for target, iface, method in ((objs["pack"], IFACE_PACK, "Recover"), (job, IFACE_JOB, "QueryStatus")):
        assert abuser_result(abuser("vanish", bus.address, "org.ldmd1", target, iface, method, 100, 50))["clients"] == "100"
    diag("1200 vanishing clients in %.1f s; property reads meanwhile: %d, median %.1f ms, max %.1f ms; RSS %d KiB" % (
        time.monotonic() - t, len(reads) - r0, 1000 * median(reads[r0:]), 1000 * max(reads[r0:] or [0]),
        rss_kib(pid)))

    # 20,000 QueryStatus from 4 clients (16 in flight each) while the job runs; a fifth
    # client times property reads.
    flood = abuser("flood", bus.address, "org.ldmd1", job, IFACE_JOB, "QueryStatus", 4, 5000, 16)
    r0 = len(reads)
    probe_while(bus, job, flood, reads)
    fr = abuser_result(flood)
    assert fr["calls"] == "20000" and fr["ok"] == "20000" and fr["errors"] == "0", fr
    diag("QueryStatus flood: %s calls, %s ok in %s s (max %s ms); property reads meanwhile: %d, median %.1f ms, "
         "max %.1f ms; RSS %d KiB" % (fr["calls"], fr["ok"], fr["seconds"], fr["max_ms"], len(reads) - r0,
                                      1000 * median(reads[r0:]), 1000 * max(reads[r0:] or [0]), rss_kib(pid)))
    counts["calls"] += 20000 + 1200
    state = bus.prop(job, IFACE_JOB, "State")
    assert state == "running", "the job ended (%s) before the load was over: slow it down" % state
    t = time.monotonic()
    static_abuse(bus, objs, counts)
    diag("static abuse again in %.1f s, the job %s; RSS %d KiB" % (
        time.monotonic() - t, bus.prop(job, IFACE_JOB, "State"), rss_kib(pid)))

    # The job finishes correctly; nothing is held for the clients that left.
    hr, out = bus.call(job, IFACE_JOB, "Wait", timeout=300 * 1000)
    assert hr == S_OK, "0x%08x %s\n%s" % (hr, out, daemon.d.output()[-3000:])
    assert out["bytes_repaired"] == 32 * MIB + 32 * MIB, out
    after.extend(timed_read(bus, job, IFACE_JOB, "State") for _ in range(20))
    assert bus.prop(job, IFACE_JOB, "State") == "done"
    static_abuse(bus, objs, counts, big=False)


@tap.test
def small_scenario_under_valgrind(ctx):
    """The same kinds of abuse, fewer of them, with ldmd under valgrind: no definite leak, no
    invalid access (exit status 99 otherwise)."""
    vg = shutil.which("valgrind")
    if not vg:
        raise Skip("valgrind not installed")
    if not os.access(ABUSER, os.X_OK):
        raise Skip("bus-abuser not built")
    if binary_is_asan():
        raise Skip("ASan build (its own leak check runs instead)")
    bus = ctx.bus
    work = os.path.join(ctx.dir, "valgrind")
    os.makedirs(work)
    imgs, gold = make_pack(work, "Abuse-Dg0", "40M", "8M", "16M")
    break_pack(imgs)
    daemon = Daemon(bus, work, imgs, conf="RepairRateLimitMiB=2\n", env={"LDMD_LOG_LEVEL": "info"},
                    wrapper=[vg, "-q", "--leak-check=full", "--errors-for-leak-kinds=definite",
                             "--error-exitcode=99", "--log-file=" + os.path.join(work, "valgrind.log")])
    daemon.start(timeout=60)
    try:
        counts = {"calls": 0}
        objs = objects(bus)
        (job,) = bus.call(objs["pack"], IFACE_PACK, "Recover")
        objs["job"] = job
        abuser_result(abuser("vanish", bus.address, "org.ldmd1", job, IFACE_JOB, "Wait", 100, 50))
        fr = abuser_result(abuser("flood", bus.address, "org.ldmd1", job, IFACE_JOB, "QueryStatus", 2, 500, 16))
        assert fr["ok"] == "1000", fr
        for iface, method, sig, kind in METHODS:
            path = objs["manager" if kind == "any" else kind]
            call_outcome(bus, path, iface, method, "(u)", (1,))
            counts["calls"] += 1
        call_outcome(bus, MANAGER, IFACE_MANAGER, "GetPackByName", "(s)", ("x" * 100000,))
        call_outcome(bus, objs["pack"], IFACE_JOB, "Wait")
        hr, out = bus.call(job, IFACE_JOB, "Wait", timeout=300 * 1000)
        assert hr == S_OK, "0x%08x %s" % (hr, out)
        assert_whole(bus, objs["pack"], imgs, gold)
        daemon.stop(timeout=60)  # valgrind's exit status: 99 on a definite leak or a bad access
    finally:
        if daemon.d.alive():
            daemon.kill()
        log = os.path.join(work, "valgrind.log")
        if os.path.exists(log) and os.path.getsize(log):
            diag(open(log).read()[-4000:])


def main():
    if not os.access(LDMD, os.X_OK):
        print("1..0 # SKIP %s not built" % LDMD)
        return 0
    ctx = Ctx()
    try:
        return tap.run(ctx)
    finally:
        ctx.close()


if __name__ == "__main__":
    sys.exit(main())
