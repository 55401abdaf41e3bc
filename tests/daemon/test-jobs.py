#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Jobs over D-Bus: Pack.Recover/Verify and org.ldmd1.Job (IVdsAsync, [MS-VDS] §3.4.1.5) on
copies of the real Windows 2008 R2 pack and of mkldm packs, each broken with ldm-testtool
the way a crash or a missed write would. After every repair the bus says healthy, each volume
has its reference sha256, and the independent judge (ldmcheck --data --strict) agrees. Also:
missing disk, Busy, NotSupported, cancel and resume, SIGKILL and resume, several waiters,
QueryStatus percent rules, finished-job lifetime, the logind inhibitor and AutoRecover.
TAP on stdout."""

import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import expected as X  # noqa: E402
from ldmdtest import (  # noqa: E402
    BUILD_ROOT, BusProxy, DAMAGE_TOOL, IFACE_DISK, IFACE_JOB, IFACE_MANAGER, IFACE_PACK, IFACE_VOLUME,
    LDMD, MANAGER, S_OK, SOURCE_ROOT, VDS_ASYNCOUT_RECOVERPACK, VDS_E_OPERATION_CANCELED,
    VDS_E_OPERATION_PENDING, VDS_E_VOLUME_NOT_HEALTHY, VDS_H_HEALTHY, Gio, GLib, Ldmd, Mock,
    PrivateBus, Skip, Tap, copy_sparse, damage, interface_signature, ldmcheck_strict,
    NOBODY, require_program, require_root, run_as_nobody, tmpdir, unpack_real_images, volume_sha256,
    wait_until)

tap = Tap()

# sha256 of the 2008 R2 pack's volumes (EXPECTED.md).
GOLD_2008 = {
    "Volume1": "8d6b04d858aefa751855f925ab71de5a8203564691fa70b8bc8b250b83629f43",
    "Volume2": "8d106036e1d035e227834cbc1008ce0922fbeeb51048b5e172c39591a921d30d",
    "Volume3": "cd3a7a1c5e851b411390a0d7385e256fc987757e6e8ca4f490d1672d75ddfb2f",
    "Volume4": "0095f2221f15a769887b4dff28e32cb1df79a4406cb36ee54528c2320a5a2dd8",
    "Volume5": "1a757c59a8c9e67916d6564295b4e2db8db6badfa889d06302b46f77bd3730c0",
}
MIB = 1024 * 1024
BIG_MIRROR = 96 * MIB


class Ctx:
    def __init__(self):
        self.dir = tmpdir()
        self.images = unpack_real_images(os.path.join(self.dir, "images"))
        self.bus = PrivateBus(self.dir)
        self.n = 0
        self.mkldm = os.path.join(BUILD_ROOT, "tools", "mkldm")

    def workdir(self, name):
        d = os.path.join(self.dir, name)
        os.makedirs(d)
        return d

    def copy_2008(self, name, leave_out=()):
        """A private copy of the 2008 R2 pack; returns (all image paths, present paths)."""
        d = self.workdir(name)
        out = []
        for _, img in sorted(X.PACK_2008["disks"].values(), key=lambda v: v[1]):
            copy_sparse(os.path.join(self.images, img), os.path.join(d, img))
            out.append(os.path.join(d, img))
        return out, [p for p in out if os.path.basename(p) not in leave_out]

    def big_pack(self, name):
        """An mkldm pack of three 256 MiB sparse images: Volume1 a 96 MiB mirror (Disk1-01,
        Disk2-01), Volume2 a 128 MiB RAID-5, both filled with a pattern. Returns (images,
        {volume: sha256})."""
        if not os.access(self.mkldm, os.X_OK):
            raise Skip("tools/mkldm not built")
        d = self.workdir(name)
        imgs = [os.path.join(d, "big%d.img" % i) for i in (1, 2, 3)]
        r = subprocess.run([self.mkldm, "--name", "Big-Dg0", "--create", "256M", "--volume", "mirror:96M",
                            "--volume", "raid5:128M"] + imgs, capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        damage("fill", "Volume1", 1, *imgs)
        damage("fill", "Volume2", 2, *imgs)
        return imgs, {v: volume_sha256(v, imgs) for v in ("Volume1", "Volume2")}

    def start(self, images, extra=(), conf="", journal=False, **kw):
        """journal: ldmd takes its log file for the journal's stream ("<N>" line prefixes)."""
        self.n += 1
        cpath = os.path.join(self.dir, "ldmd-%d.conf" % self.n)
        with open(cpath, "w") as f:
            f.write("[Daemon]\n" + conf)
        state = os.path.join(self.dir, "state-%d" % self.n)
        args = ["--no-udev", "--config=" + cpath, "--state-dir=" + state] + \
            ["--image=" + i for i in images] + list(extra)
        log = os.path.join(self.dir, "ldmd-%d.log" % self.n)
        if journal:
            open(log, "w").close()  # Ldmd reopens it in place: same inode
            st = os.stat(log)
            kw["env"] = dict(kw.get("env") or {}, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
        d = Ldmd(self.bus, args, log, **kw)
        d.state_dir = state
        return d

    def stop(self, d, sig=signal.SIGTERM):
        d.stop(sig)
        wait_until(lambda: self.bus.name_owner() is None, 10, "org.ldmd1 to be released")

    def close(self):
        self.bus.stop()
        subprocess.run(["rm", "-rf", self.dir])


def pack_of(bus, name):
    return bus.call(MANAGER, IFACE_MANAGER, "GetPackByName", (name,), "(s)")[0]


def job_wait(bus, job, timeout=120):
    hr, out = bus.call(job, IFACE_JOB, "Wait", timeout=timeout * 1000)
    return hr, out


def assert_healthy(bus, pack, images, gold):
    """The bus, the volumes' data and the judge agree that the pack is whole."""
    p = bus.props(pack, IFACE_PACK)
    assert p["Health"] == VDS_H_HEALTHY, p
    assert p["ActiveJob"] == "/", p
    for v in p["Volumes"]:
        vp = bus.props(v, IFACE_VOLUME)
        assert vp["Health"] == VDS_H_HEALTHY, vp
        for pl in vp["Plexes"]:
            assert pl[1] == VDS_H_HEALTHY, (vp["Name"], pl)
    for name, sha in gold.items():
        assert volume_sha256(name, images) == sha, "%s differs from its reference" % name
    ldmcheck_strict(images)


def recover_ok(ctx, d, pack, images, gold, want_repaired=None):
    bus = ctx.bus
    (job,) = bus.call(pack, IFACE_PACK, "Recover")
    assert job.startswith("/org/ldmd1/job/_"), job
    hr, out = job_wait(bus, job)
    assert hr == S_OK, "0x%08x %s\n%s" % (hr, out, d.output()[-3000:])
    assert out["type"] == VDS_ASYNCOUT_RECOVERPACK, out
    if want_repaired is not None:
        assert out["bytes_repaired"] == want_repaired, out
    assert bus.call(job, IFACE_JOB, "QueryStatus") == (S_OK, 100)
    j = bus.props(job, IFACE_JOB)
    assert j["State"] == "done" and j["Percent"] == 100 and j["HResult"] == S_OK, j
    assert j["Operation"] == "recover" and j["Object"] == pack and j["StartedByUID"] == 0, j
    assert j["Cancelable"] is False, j
    # A finished job's progress is complete: BytesDone reached BytesTotal.
    assert j["BytesDone"] == j["BytesTotal"], j
    if want_repaired:
        assert j["BytesTotal"] >= want_repaired, j
    assert_healthy(bus, pack, images, gold)
    return job, out


# ---------------------------------------------------------------------------------------------
# The damage matrix on the real Windows pack

@tap.test
def recover_mirror_plex_stale(ctx):
    imgs, _ = ctx.copy_2008("mirror")
    damage("stale", "Disk6-01", *imgs)
    damage("scribble", "Disk6-01", 0, MIB, *imgs)
    damage("scribble", "Disk6-01", 15 * MIB, MIB, *imgs)
    d = ctx.start(imgs)
    try:
        bus = ctx.bus
        pack = pack_of(bus, X.PACK_2008["name"])
        assert bus.prop(pack, IFACE_PACK, "Health") != VDS_H_HEALTHY
        sigs = []
        sub = bus.subscribe(sigs)
        job, out = recover_ok(ctx, d, pack, imgs, GOLD_2008, want_repaired=16 * MIB)
        assert out["volumes_touched"] == 1 and out["database_committed"] is True, out
        done = wait_until(lambda: [s for s in sigs if s[0] == job and s[2] == "Completed"], 5, "Completed")
        assert done[0][3][0] == S_OK, sigs
        news = [s for s in sigs if s[2] == "JobNew"]
        assert news and news[0][3] == (job, pack), sigs
        added = [s for s in sigs if s[2] == "InterfacesAdded" and s[3][0] == job]
        assert added and IFACE_JOB in added[0][3][1], sigs
        # The refreshed states are signalled before the job says it is done.
        health = [i for i, s in enumerate(sigs) if s[0] == pack and s[2] == "PropertiesChanged"
                  and "Health" in s[3][1]]
        assert health and health[0] < sigs.index(done[0]), sigs
        assert job in bus.call(MANAGER, IFACE_MANAGER, "ListJobs")[0]
        assert job in bus.prop(MANAGER, IFACE_MANAGER, "Jobs")
        bus.conn.signal_unsubscribe(sub)
    finally:
        ctx.stop(d)


@tap.test
def recover_raid5_column_stale(ctx):
    imgs, _ = ctx.copy_2008("raid5")
    damage("stale", "Disk8-01", *imgs)
    damage("scribble", "Disk8-01", 64 * 1024, 3 * MIB, *imgs)
    d = ctx.start(imgs)
    try:
        recover_ok(ctx, d, pack_of(ctx.bus, X.PACK_2008["name"]), imgs, GOLD_2008, want_repaired=16 * MIB)
    finally:
        ctx.stop(d)


@tap.test
def recover_database_rolled_back(ctx):
    imgs, _ = ctx.copy_2008("rollback")
    # Disk6 misses a transaction (its copy is a generation behind) and writes to its plex.
    damage("touch", *[i for i in imgs if not i.endswith("mirrored-2.img")])
    damage("scribble", "Disk6-01", 4 * MIB, MIB, *imgs)
    d = ctx.start(imgs)
    try:
        _, out = recover_ok(ctx, d, pack_of(ctx.bus, X.PACK_2008["name"]), imgs, GOLD_2008,
                            want_repaired=16 * MIB)
        assert out["disks_synced"] >= 1, out
    finally:
        ctx.stop(d)


@tap.test
def recover_without_a_state_directory(ctx):
    """A state directory that cannot be made costs resumability, not the repair: the job
    still ends S_OK, and its message and the journal say it ran without checkpoints."""
    imgs, _ = ctx.copy_2008("nostate")
    damage("stale", "Disk8-01", *imgs)
    damage("scribble", "Disk8-01", 64 * 1024, MIB, *imgs)
    d = ctx.start(imgs, extra=["--state-dir=/dev/null/ldmd-state"])
    try:
        job, out = recover_ok(ctx, d, pack_of(ctx.bus, X.PACK_2008["name"]), imgs, GOLD_2008,
                              want_repaired=16 * MIB)
        want = "(no checkpoints: state directory /dev/null/ldmd-state: Not a directory)"
        assert want in out["message"], out
        assert want in ctx.bus.prop(job, IFACE_JOB, "Message")
        assert "running without checkpoints" in d.output(), d.output()[-2000:]
    finally:
        ctx.stop(d)


@tap.test
def recover_with_disk_missing(ctx):
    imgs, present = ctx.copy_2008("missing", leave_out=("ldm-2008r2-mirrored-2.img",))
    before = {p: open(p, "rb").read() for p in present if "mirrored" in p}
    d = ctx.start(present)
    try:
        bus = ctx.bus
        pack = pack_of(bus, X.PACK_2008["name"])
        (job,) = bus.call(pack, IFACE_PACK, "Recover")
        hr, out = job_wait(bus, job)
        assert hr == VDS_E_VOLUME_NOT_HEALTHY, "0x%08x %s" % (hr, out)
        assert "Volume3" in out["remaining"], out
        assert out["bytes_repaired"] == 0, out
        # [MS-VDS] §3.4.1.5: a failed job reports percent 0.
        assert bus.call(job, IFACE_JOB, "QueryStatus") == (VDS_E_VOLUME_NOT_HEALTHY, 0)
        j = bus.props(job, IFACE_JOB)
        assert j["Percent"] == 0 and j["HResult"] == VDS_E_VOLUME_NOT_HEALTHY and j["State"] == "done", j
        assert "Volume3" in j["Message"], j
        name, msg = bus.call_error(job, IFACE_JOB, "Cancel")
        assert name == "org.ldmd1.Error.CancelTooLate" and job in msg, (name, msg)
        for p, data in before.items():
            assert open(p, "rb").read() == data, "%s was written" % p
    finally:
        ctx.stop(d)


@tap.test
def verify_with_disk_missing(ctx):
    imgs, present = ctx.copy_2008("verify-missing", leave_out=("ldm-2008r2-mirrored-2.img",))
    # One bad RAID-5 row: the scrub still checks (and counts) what it can reach.
    damage("scribble", "Disk7-01", MIB, 4096, *present)
    d = ctx.start(present)
    try:
        bus = ctx.bus
        pack = pack_of(bus, X.PACK_2008["name"])
        (job,) = bus.call(pack, IFACE_PACK, "Verify")
        hr, out = job_wait(bus, job)
        assert hr == VDS_E_VOLUME_NOT_HEALTHY, "0x%08x %s" % (hr, out)
        assert out["parity_mismatches"] == 1 and out["mirror_mismatches"] == 0, out
        assert "Volume3-02" in out["remaining"] and "Disk6" in out["remaining"], out
        assert bus.call(job, IFACE_JOB, "QueryStatus") == (VDS_E_VOLUME_NOT_HEALTHY, 0)
        j = bus.props(job, IFACE_JOB)
        assert j["HResult"] == VDS_E_VOLUME_NOT_HEALTHY and j["State"] == "done", j
        assert "Volume3" in j["Message"] and "Disk6" in j["Message"], j
        # The RAID-5 (32 MiB) was read whole; the mirror was not in the plan.
        assert j["BytesDone"] == j["BytesTotal"] == 32 * MIB, j
    finally:
        ctx.stop(d)


@tap.test
def invalid_pack_not_supported_and_rejoined(ctx):
    imgs, _ = ctx.copy_2008("invalid")
    # raid5-1's VMDB (MBR, LBA 100369) is unreadable: the disk sits in INVALID.
    with open(imgs[[os.path.basename(i) for i in imgs].index("ldm-2008r2-raid5-1.img")], "r+b") as f:
        f.seek(100369 * 512)
        f.write(b"\x5a" * 64)
    d = ctx.start(imgs)
    try:
        bus = ctx.bus
        assert "/org/ldmd1/pack/invalid" in bus.prop(MANAGER, IFACE_MANAGER, "Packs")
        name, msg = bus.call_error("/org/ldmd1/pack/invalid", IFACE_PACK, "Recover")
        assert name == "org.ldmd1.Error.NotSupported" and "INVALID" in msg, (name, msg)
        name, _ = bus.call_error("/org/ldmd1/pack/invalid", IFACE_PACK, "Verify")
        assert name == "org.ldmd1.Error.NotSupported", name
        pack = pack_of(bus, X.PACK_2008["name"])
        _, out = recover_ok(ctx, d, pack, imgs, GOLD_2008)
        assert out["disks_synced"] >= 1, out
        assert "/org/ldmd1/pack/invalid" not in bus.prop(MANAGER, IFACE_MANAGER, "Packs")
    finally:
        ctx.stop(d)


# ---------------------------------------------------------------------------------------------
# Progress, cancel, waiters, Busy: a big mkldm pack and a rate limit make the job last ~3 s

def start_big_recover(ctx, d, imgs):
    bus = ctx.bus
    pack = pack_of(bus, "Big-Dg0")
    (job,) = bus.call(pack, IFACE_PACK, "Recover")
    return pack, job


def break_big_mirror(imgs):
    damage("stale", "Disk2-01", *imgs)
    damage("scribble", "Disk2-01", 0, 8 * MIB, *imgs)
    damage("scribble", "Disk2-01", 80 * MIB, 8 * MIB, *imgs)


def new_connection(bus):
    return Gio.DBusConnection.new_for_address_sync(
        bus.address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
        None, None)


@tap.test
def progress_waiters_busy_and_cancel(ctx):
    imgs, gold = ctx.big_pack("big-cancel")
    break_big_mirror(imgs)
    d = ctx.start(imgs, conf="RepairRateLimitMiB=32\n")
    try:
        bus = ctx.bus
        sigs = []
        sub = bus.subscribe(sigs)
        pack, job = start_big_recover(ctx, d, imgs)
        assert bus.prop(pack, IFACE_PACK, "ActiveJob") == job
        name, msg = bus.call_error(pack, IFACE_PACK, "Recover")
        assert name == "org.ldmd1.Error.Busy" and job in msg, (name, msg)
        name, _ = bus.call_error(pack, IFACE_PACK, "Verify")
        assert name == "org.ldmd1.Error.Busy", name

        # Two more clients wait; one of them leaves before the end.
        results = []

        def answered(conn, res):
            try:
                results.append(conn.call_finish(res).unpack())
            except GLib.Error as e:
                if conn is not leave:
                    results.append(e.message)
        stay, leave = new_connection(bus), new_connection(bus)
        for c in (stay, leave):
            c.call("org.ldmd1", job, IFACE_JOB, "Wait", None, None, Gio.DBusCallFlags.NONE, 120000, None, answered)

        # QueryStatus while running: pending, percent 0–99, never decreasing.
        seen = []
        t0 = time.monotonic()
        while True:
            hr, pc = bus.call(job, IFACE_JOB, "QueryStatus")
            if hr != VDS_E_OPERATION_PENDING:
                break
            assert 0 <= pc <= 99, pc
            seen.append(pc)
            if pc >= 30 and not leave.is_closed():
                leave.close_sync(None)
            if pc >= 50:
                break
            time.sleep(0.05)
            assert time.monotonic() - t0 < 60, seen
        assert seen == sorted(seen), seen
        assert seen and seen[-1] >= 50, seen
        j = bus.props(job, IFACE_JOB)
        assert j["State"] == "running" and j["Cancelable"] and j["HResult"] == VDS_E_OPERATION_PENDING, j
        assert 0 < j["BytesDone"] < j["BytesTotal"] == BIG_MIRROR, j
        assert j["Rate"] > 0 and j["ExpectedEndTime"] > j["StartTime"] > 0, j
        assert j["Message"].startswith("data"), j

        # Cancel half-way.
        assert bus.call(job, IFACE_JOB, "Cancel") == ()
        hr, out = job_wait(bus, job)
        assert hr == VDS_E_OPERATION_CANCELED, "0x%08x %s" % (hr, out)
        assert MIB * 40 <= out["bytes_repaired"] < BIG_MIRROR, out
        assert out["database_committed"] is False, out
        assert bus.call(job, IFACE_JOB, "QueryStatus") == (VDS_E_OPERATION_CANCELED, 0)
        wait_until(lambda: results, 10, "the remaining waiter's answer")
        assert results[0][0] == VDS_E_OPERATION_CANCELED, results
        stay.close_sync(None)
        name, _ = bus.call_error(job, IFACE_JOB, "Cancel")
        assert name == "org.ldmd1.Error.CancelTooLate", name
        wait_until(lambda: [s for s in sigs if s[0] == job and s[2] == "Completed"], 5, "Completed")
        states = [s[3][1]["State"] for s in sigs if s[0] == job and s[2] == "PropertiesChanged"
                  and "State" in s[3][1]]
        assert states[-2:] == ["cancelling", "done"], states
        # Progress signals are coalesced: at most ~4 Percent changes a second.
        stamps = [s for s in sigs if s[0] == job and s[2] == "PropertiesChanged" and "Percent" in s[3][1]]
        assert len(stamps) <= 4 * (time.monotonic() - t0) + 4, len(stamps)
        bus.conn.signal_unsubscribe(sub)

        # Recover again: resumes from the checkpoint, ends healthy.
        (job2,) = bus.call(pack, IFACE_PACK, "Recover")
        hr, out = job_wait(bus, job2)
        assert hr == S_OK, "0x%08x %s" % (hr, out)
        assert out["bytes_resumed"] > 0 and out["bytes_repaired"] + out["bytes_resumed"] == BIG_MIRROR, out
        assert_healthy(bus, pack, imgs, gold)
        assert d.alive()
    finally:
        ctx.stop(d)


@tap.test
def sigkill_then_resume(ctx):
    imgs, gold = ctx.big_pack("big-kill")
    break_big_mirror(imgs)
    # 16 MiB/s: the 96 MiB mirror takes ~6 s, and the engine checkpoints every 2 s.
    d = ctx.start(imgs, conf="RepairRateLimitMiB=16\n")
    state = d.state_dir
    bus = ctx.bus
    pack, job = start_big_recover(ctx, d, imgs)
    # The worker creates the state directory when the job starts: until then, no checkpoint.
    wait_until(lambda: os.path.isdir(state) and [f for f in os.listdir(state) if f.endswith(".ckpt")],
               60, "a checkpoint")
    d.proc.kill()
    d.proc.wait()
    d.log.close()
    wait_until(lambda: bus.name_owner() is None, 10, "org.ldmd1 to be released")
    assert os.listdir(state), "no checkpoint in %s" % state
    # The same state directory: a new daemon resumes.
    d = ctx.start(imgs, extra=["--state-dir=" + state])
    try:
        job, out = recover_ok(ctx, d, pack_of(bus, "Big-Dg0"), imgs, gold)
        assert out["bytes_resumed"] > 0, out
        assert out["bytes_repaired"] < BIG_MIRROR, out
        assert out["bytes_repaired"] + out["bytes_resumed"] == BIG_MIRROR, out
        assert os.listdir(state) == [], os.listdir(state)
    finally:
        ctx.stop(d)


@tap.test
def inhibitor_held_while_recovering(ctx):
    imgs, gold = ctx.big_pack("big-inhibit")
    break_big_mirror(imgs)
    # ... and a RAID-5 column of the mkldm pack.
    damage("stale", "Disk3-01", *imgs)
    damage("scribble", "Disk3-01", 5 * MIB, 3 * MIB, *imgs)
    logind = Mock(ctx.bus, "logind", os.path.join(ctx.dir, "logind.log"))
    d = ctx.start(imgs, conf="RepairRateLimitMiB=64\n")
    try:
        bus = ctx.bus

        def ours():
            l = logind.call("/org/freedesktop/login1", "org.freedesktop.login1.Manager", "ListInhibitors")[0]
            return [i for i in l if i[1] == "ldmd"]
        pack, job = start_big_recover(ctx, d, imgs)
        held = wait_until(ours, 10, "ldmd's inhibitor")
        assert held[0][0] == "shutdown:sleep" and held[0][3] == "block", held
        assert "Big-Dg0" in held[0][2], held
        hr, _ = job_wait(bus, job)
        assert hr == S_OK
        wait_until(lambda: not ours(), 10, "the inhibitor to be released")
        assert_healthy(bus, pack, imgs, gold)
    finally:
        ctx.stop(d)
        logind.stop()


@tap.test
def finished_jobs_lifetime_and_cap(ctx):
    imgs, _ = ctx.copy_2008("lifetime")
    d = ctx.start(imgs, conf="FinishedJobLifetimeSec=1\nMaxFinishedJobs=2\n")
    try:
        bus = ctx.bus
        pack = pack_of(bus, X.PACK_2008["name"])
        sigs = []
        sub = bus.subscribe(sigs)
        # The starter stays connected: the job outlives its lifetime ...
        jobs = []
        for _ in range(3):
            (job,) = bus.call(pack, IFACE_PACK, "Verify")
            hr, out = job_wait(bus, job)
            assert hr == S_OK and out["mirror_mismatches"] == 0 and out["parity_mismatches"] == 0, out
            # Every byte of the 16 MiB mirror and the 32 MiB RAID-5 was read.
            j = bus.props(job, IFACE_JOB)
            assert j["BytesDone"] == j["BytesTotal"] == 48 * MIB, j
            jobs.append(job)
        # ... but only two finished jobs are kept: the oldest went.
        removed = wait_until(lambda: [s[3] for s in sigs if s[2] == "JobRemoved"], 5, "JobRemoved")
        assert removed == [(jobs[0], S_OK)], removed
        time.sleep(1.5)
        assert bus.call(MANAGER, IFACE_MANAGER, "ListJobs")[0] == jobs[1:]
        # A starter that leaves takes its expired job with it.
        c = new_connection(bus)
        job = c.call_sync("org.ldmd1", pack, IFACE_PACK, "Verify", None, None, Gio.DBusCallFlags.NONE,
                          10000, None).unpack()[0]
        hr, _ = job_wait(bus, job)
        assert hr == S_OK
        time.sleep(1.2)
        assert job in bus.call(MANAGER, IFACE_MANAGER, "ListJobs")[0]
        c.close_sync(None)
        wait_until(lambda: job not in bus.call(MANAGER, IFACE_MANAGER, "ListJobs")[0], 5, "the job to go")
        wait_until(lambda: [s for s in sigs if s[2] == "InterfacesRemoved" and s[3][0] == job], 5,
                   "InterfacesRemoved")
        bus.conn.signal_unsubscribe(sub)
    finally:
        ctx.stop(d)


@tap.test
def longest_lifetime_keeps_finished_jobs(ctx):
    """FinishedJobLifetimeSec= at the top of its range (more than the monotonic clock can count
    to from now) keeps a finished job whose starter left, as a long lifetime should. (Arming
    its expiry failed with EOVERFLOW, and such a job expired at once: it went as soon as its
    starter left.)"""
    imgs, _ = ctx.copy_2008("lifetime-max")
    d = ctx.start(imgs, conf="FinishedJobLifetimeSec=%d\n" % ((2 ** 64 - 1) // 10 ** 6))
    try:
        bus = ctx.bus
        pack = pack_of(bus, X.PACK_2008["name"])
        c = new_connection(bus)
        name = c.get_unique_name()
        job = c.call_sync("org.ldmd1", pack, IFACE_PACK, "Verify", None, None, Gio.DBusCallFlags.NONE,
                          10000, None).unpack()[0]
        hr, _ = job_wait(bus, job)
        assert hr == S_OK, "0x%08x" % hr
        c.close_sync(None)
        wait_until(lambda: bus.name_owner(name) is None, 10, "the bus to see the starter leave")
        # ldmd heard of it before this call (the bus daemon sent both, in order).
        assert bus.call(MANAGER, IFACE_MANAGER, "ListJobs") == ([job],)
        assert bus.prop(job, IFACE_JOB, "State") == "done"
        assert "Failed to arm the expiry" not in d.output(), d.output()
    finally:
        ctx.stop(d)


@tap.test
def cap_keeps_the_job_that_just_ended(ctx):
    """MaxFinishedJobs=1, and a long job that ends after a short one on another pack: the cap
    drops the job that ended first. (It used to drop the oldest started one, i.e. the job
    ending at that moment, while ldmd was still using it: a use-after-free.)"""
    imgs, gold = ctx.big_pack("big-cap")
    break_big_mirror(imgs)
    imgs_2008, _ = ctx.copy_2008("cap")
    d = ctx.start(imgs + imgs_2008, conf="RepairRateLimitMiB=32\nMaxFinishedJobs=1\n")
    try:
        bus = ctx.bus
        _, slow = start_big_recover(ctx, d, imgs)
        (fast,) = bus.call(pack_of(bus, X.PACK_2008["name"]), IFACE_PACK, "Verify")
        hr, _ = job_wait(bus, fast)
        assert hr == S_OK
        assert bus.props(slow, IFACE_JOB)["State"] != "done", "the slow job ended first: no test"
        hr, out = job_wait(bus, slow)
        assert hr == S_OK, out
        wait_until(lambda: bus.call(MANAGER, IFACE_MANAGER, "ListJobs")[0] == [slow], 5,
                   "only the job that ended last to stay")
        assert bus.props(slow, IFACE_JOB)["HResult"] == S_OK
        assert_healthy(bus, pack_of(bus, "Big-Dg0"), imgs, gold)
    finally:
        ctx.stop(d)


@tap.test
def other_users_cannot_take_every_wait_slot(ctx):
    """Wait() needs no authorisation, so a user other than root and the job's starter gets at
    most 8 pending Wait() calls on a job (it could take all 64 once, and the starter's own
    `ldmctl recover` then got Busy)."""
    require_root()  # setpriv needs it to become nobody
    require_program("setpriv")
    imgs, gold = ctx.big_pack("wait-cap")
    break_big_mirror(imgs)
    d = ctx.start(imgs, conf="RepairRateLimitMiB=8\n")
    waits = []
    try:
        bus = ctx.bus
        pack, job = start_big_recover(ctx, d, imgs)
        waits = [subprocess.Popen(NOBODY + ["busctl", "--address=" + bus.address, "--timeout=120", "call",
                                            "org.ldmd1", job, IFACE_JOB, "Wait"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(10)]
        # The two refused come back at once, whichever two they are.
        wait_until(lambda: sum(w.poll() is not None for w in waits) == 2, 30, "two of nobody's Waits to be refused")
        assert bus.prop(job, IFACE_JOB, "State") != "done", "the job ended before the test: slow it down"
        hr, out = job_wait(bus, job)    # the starter (root) still gets its Wait
        assert hr == S_OK, out
        results = [w.communicate(timeout=60) for w in waits]
        answered = [out for out, _ in results if out.startswith("ua{sv} 0 ")]
        refused = [err for _, err in results if "Too many Wait() calls are pending" in err]  # busctl prints no error name
        assert (len(answered), len(refused)) == (8, 2), results
        assert_healthy(bus, pack, imgs, gold)
    finally:
        for w in waits:
            if w.poll() is None:
                w.kill()
        ctx.stop(d)


def big_pack_behind_proxy(ctx, tag, conf=""):
    """The big pack with its mirror broken, and ldmd (repairs at 8 MiB/s, plus `conf`) talking
    to the bus through a BusProxy; returns (images, gold, proxy, ldmd)."""
    imgs, gold = ctx.big_pack(tag)
    break_big_mirror(imgs)
    proxy = BusProxy(ctx.bus, ctx.workdir("proxy-" + tag))
    d = ctx.start(imgs, extra=["--bus=" + proxy.address], conf="RepairRateLimitMiB=8\n" + conf)
    return imgs, gold, proxy, d


@tap.test
def wait_does_not_stall_the_daemon(ctx):
    """Wait() asks the bus daemon for its caller's uid (for the waiter caps) without blocking
    ldmd's loop. ldmd talks to the bus through a relay that holds back the answers about
    chosen callers: meanwhile other clients are answered; a job that ends first answers the
    Wait with its result; an answer that comes admits the waiter; and ldmd stopped with such
    a question outstanding exits cleanly. (It used to ask synchronously: every Wait, anyone's,
    stalled every client for a round trip; here, until the answer came.)"""
    imgs, gold, proxy, d = big_pack_behind_proxy(ctx, "wait-nostall")
    conns = []
    try:
        bus = ctx.bus
        results = {}

        def held_wait(job):
            """A new client calls Wait; returns its name once ldmd's question about it is held."""
            c = new_connection(bus)
            conns.append(c)
            name = c.get_unique_name()
            proxy.hold(name)
            n = proxy.held_count()

            def answered(conn, res):
                try:
                    results[name] = conn.call_finish(res).unpack()
                except GLib.Error as e:
                    results[name] = Gio.DBusError.get_remote_error(e) or e.message
            c.call("org.ldmd1", job, IFACE_JOB, "Wait", None, None, Gio.DBusCallFlags.NONE, 120000, None, answered)
            wait_until(lambda: proxy.held_count() > n, 30, "ldmd's question about %s to be held back" % name)
            return name

        pack, job = start_big_recover(ctx, d, imgs)
        first = held_wait(job)
        # The loop is free while the answer is out: other clients are answered.
        hr, pc = bus.call(job, IFACE_JOB, "QueryStatus", timeout=20000)
        assert hr == VDS_E_OPERATION_PENDING and pc <= 99, (hr, pc)
        assert bus.prop(job, IFACE_JOB, "State") == "running"
        # The job ends before the answer: the Wait gets the result all the same.
        assert bus.call(job, IFACE_JOB, "Cancel") == ()
        hr, _ = job_wait(bus, job)
        assert hr == VDS_E_OPERATION_CANCELED, "0x%08x" % hr
        wait_until(lambda: first in results, 10, "the held-up Wait to be answered")
        assert results[first][0] == VDS_E_OPERATION_CANCELED, results
        assert proxy.held_count() == 1
        proxy.release()  # an answer for a question ldmd no longer waits for
        assert bus.call(job, IFACE_JOB, "QueryStatus") == (VDS_E_OPERATION_CANCELED, 0)

        # An answer that comes admits the waiter (ldmd reads it before the QueryStatus sent
        # after it), which then gets the result, not Busy.
        (job2,) = bus.call(pack, IFACE_PACK, "Recover")
        second = held_wait(job2)
        proxy.release()
        assert bus.call(job2, IFACE_JOB, "QueryStatus")[0] == VDS_E_OPERATION_PENDING
        assert bus.call(job2, IFACE_JOB, "Cancel") == ()
        wait_until(lambda: second in results, 30, "the admitted Wait to be answered")
        assert results[second][0] == VDS_E_OPERATION_CANCELED, results

        # Stopped with a question outstanding: exit status 0 (ASan: no leak).
        (job3,) = bus.call(pack, IFACE_PACK, "Recover")
        third = held_wait(job3)
        assert bus.prop(job3, IFACE_JOB, "State") == "running"
        assert third not in results, results
    finally:
        ctx.stop(d)
        for c in conns:
            c.close_sync(None)
        proxy.close()


@tap.test
def starter_and_waiter_watches_do_not_stall_the_daemon(ctx):
    """ldmd watches a job's starter (the finished job stays while it is on the bus) and each
    Wait() caller (forgotten when it leaves) without ever waiting for the bus daemon. ldmd
    talks to the bus through a relay that holds back the answers to GetNameOwner, the
    question whether a caller is still there: Recover is answered, and other clients too,
    Wait() stalls nothing; a starter that leaves meanwhile is seen leaving. (ldmd used
    sd_bus_track_add_sender(), which asks GetNameOwner synchronously: every Recover, Verify
    and Wait, anyone's, stalled every client for a round trip; here, for 25 s.)"""
    _, _, proxy, d = big_pack_behind_proxy(ctx, "watch-nostall", "FinishedJobLifetimeSec=0\n")
    conns = []
    try:
        bus = ctx.bus
        pack = pack_of(bus, "Big-Dg0")
        starter, waiter = new_connection(bus), new_connection(bus)
        conns += [starter, waiter]
        name = starter.get_unique_name()
        proxy.hold_all(BusProxy.PRESENCE)
        job = starter.call_sync("org.ldmd1", pack, IFACE_PACK, "Recover", None, None, Gio.DBusCallFlags.NONE,
                                10000, None).unpack()[0]
        wait_until(lambda: proxy.held_count() > 0, 10, "ldmd's question about the starter to be held back")
        assert proxy.held_names() == [name], proxy.held_names()
        # The loop is free while the answer is out: other clients are answered.
        hr, pc = bus.call(job, IFACE_JOB, "QueryStatus", timeout=5000)
        assert hr == VDS_E_OPERATION_PENDING and pc <= 99, (hr, pc)
        # A Wait() stalls nothing either: the call sent after it on the same connection is
        # answered while the Wait is pending.
        results = []

        def answered(conn, res):
            results.append(conn.call_finish(res).unpack())
        waiter.call("org.ldmd1", job, IFACE_JOB, "Wait", None, None, Gio.DBusCallFlags.NONE, 120000, None,
                    answered)
        hr, _ = waiter.call_sync("org.ldmd1", job, IFACE_JOB, "QueryStatus", None, None, Gio.DBusCallFlags.NONE,
                                 5000, None).unpack()
        assert hr == VDS_E_OPERATION_PENDING and not results, (hr, results)
        # The starter leaves while the answer about it is still held: the job runs on, and
        # once it ends (lifetime 0) nothing keeps it.
        starter.close_sync(None)
        wait_until(lambda: bus.name_owner(name) is None, 10, "the bus to see the starter leave")
        assert bus.prop(job, IFACE_JOB, "State") == "running"
        assert bus.call(job, IFACE_JOB, "Cancel") == ()
        wait_until(lambda: results, 30, "the Wait to be answered")
        assert results[0][0] == VDS_E_OPERATION_CANCELED, results
        wait_until(lambda: bus.call(MANAGER, IFACE_MANAGER, "ListJobs") == ([],), 10, "the job to go")
        proxy.release()  # the stale answer: the starter was there
        assert bus.call(MANAGER, IFACE_MANAGER, "ListJobs") == ([],)
        assert d.alive()
    finally:
        ctx.stop(d)
        for c in conns:
            if not c.is_closed():
                c.close_sync(None)
        proxy.close()


@tap.test
def starter_gone_before_its_watch_is_found_gone(ctx):
    """A job's starter that leaves before ldmd's watch on it reaches the bus daemon (the relay
    holds back ldmd's messages from that AddMatch on, the Verify reply among them, until the
    bus has seen the starter leave) is found gone by the presence check that follows it
    (GetNameOwner: NameHasNoOwner): its finished job goes once its lifetime is over, as for
    any starter that left. Without the check no NameOwnerChanged would ever come for it, and
    the job would stay as if its starter were still there."""
    imgs, _ = ctx.copy_2008("starter-gone")
    proxy = BusProxy(ctx.bus, ctx.workdir("proxy-starter-gone"))
    d = ctx.start(imgs, extra=["--bus=" + proxy.address], conf="FinishedJobLifetimeSec=1\n")
    c = None
    try:
        bus = ctx.bus
        pack = pack_of(bus, X.PACK_2008["name"])
        sigs = []
        sub = bus.subscribe(sigs)
        c = new_connection(bus)
        name = c.get_unique_name()
        # The first watch on it is the authorisation's, while it is identified (root needs
        # no polkitd); the second is the job's.
        proxy.hold_outgoing_from("AddMatch", name, 2)
        c.call("org.ldmd1", pack, IFACE_PACK, "Verify", None, None, Gio.DBusCallFlags.NONE, 10000, None,
               None)
        wait_until(lambda: proxy.outgoing_held() > 0, 10, "ldmd's watch on the starter to be held back")
        c.close_sync(None)
        wait_until(lambda: bus.name_owner(name) is None, 10, "the bus to see the starter leave")
        proxy.release_outgoing()
        (job,) = wait_until(lambda: [s[3][0] for s in sigs if s[2] == "JobNew"], 10, "JobNew")
        removed = wait_until(lambda: [s[3] for s in sigs if s[2] == "JobRemoved"], 30,
                             "the finished job to go, its starter gone")
        assert removed == [(job, S_OK)], removed
        assert bus.call(MANAGER, IFACE_MANAGER, "ListJobs") == ([],)
        assert "The starter of %s left the bus." % job in d.output(), d.output()
        bus.conn.signal_unsubscribe(sub)
        assert d.alive()
    finally:
        ctx.stop(d)
        if c and not c.is_closed():
            c.close_sync(None)
        proxy.close()


@tap.test
def waiters_beyond_the_match_limit_keep_the_daemon(ctx):
    """The bus daemon limits the match rules a connection may add (512 per connection on a
    system bus), and ldmd adds one for each caller it watches (a job's starter, each Wait()
    caller, each pending polkit check), which anyone can make it do. On a bus whose limit
    those callers exceed, ldmd logs that it cannot watch a caller and serves on: every waiter
    gets the job's result. (sd-bus took the refused AddMatch for a broken connection and
    closed it, and ldmd exited, taking every client's pending call with it.)"""
    bus = PrivateBus(ctx.workdir("match-limit-bus"), limits={"max_match_rules_per_connection": 8})
    imgs, _ = ctx.big_pack("match-limit")
    break_big_mirror(imgs)
    log = os.path.join(ctx.dir, "ldmd-match-limit.log")
    d = Ldmd(bus, ["--no-udev", "--config=/dev/null", "--state-dir=" + ctx.workdir("match-limit-state")] +
             ["--image=" + i for i in imgs], log)
    conns = []
    try:
        pack = bus.call(MANAGER, IFACE_MANAGER, "GetPackByName", ("Big-Dg0",), "(s)")[0]
        (job,) = bus.call(pack, IFACE_PACK, "Recover")
        results = []

        def answered(conn, res):
            try:
                results.append(conn.call_finish(res).unpack())
            except GLib.Error as e:
                results.append(Gio.DBusError.get_remote_error(e) or e.message)
        for _ in range(16):
            c = new_connection(bus)
            conns.append(c)
            c.call("org.ldmd1", job, IFACE_JOB, "Wait", None, None, Gio.DBusCallFlags.NONE, 120000, None,
                   answered)
            # In order on c: its Wait was handled before this is answered.
            c.call_sync("org.ldmd1", job, IFACE_JOB, "QueryStatus", None, None, Gio.DBusCallFlags.NONE,
                        10000, None)
        wait_until(lambda: "Cannot watch" in d.output() or not d.alive(), 10, "an AddMatch to be refused")
        assert d.alive(), d.output()
        assert bus.call(job, IFACE_JOB, "Cancel") == ()
        wait_until(lambda: len(results) == 16, 60, "every Wait to be answered")
        assert all(r[0] == VDS_E_OPERATION_CANCELED for r in results), results
        d.stop()
    finally:
        if d.alive():
            d.stop()
        for c in conns:
            c.close_sync(None)
        bus.stop()


@tap.test
def cancel_of_a_queued_job_ends_it_at_once(ctx):
    """With one worker busy on another pack, a queued job that is cancelled ends at once,
    cancelled, instead of when the worker is free (its pack stayed Busy until then)."""
    imgs, gold = ctx.big_pack("big-queue")
    break_big_mirror(imgs)
    imgs_2008, _ = ctx.copy_2008("queue")
    d = ctx.start(imgs + imgs_2008, conf="RepairRateLimitMiB=8\nWorkerThreads=1\n")
    try:
        bus = ctx.bus
        big, slow = start_big_recover(ctx, d, imgs)
        pack = pack_of(bus, X.PACK_2008["name"])
        (queued,) = bus.call(pack, IFACE_PACK, "Verify")
        assert bus.prop(queued, IFACE_JOB, "State") == "queued"
        bus.call(queued, IFACE_JOB, "Cancel")
        hr, _ = job_wait(bus, queued, timeout=10)
        assert hr == VDS_E_OPERATION_CANCELED, "0x%08x" % hr
        assert bus.prop(queued, IFACE_JOB, "Message") == "Cancelled before it started"
        assert bus.prop(slow, IFACE_JOB, "State") == "running", "the other job ended first: no test"
        assert bus.prop(pack, IFACE_PACK, "ActiveJob") == "/"
        hr, out = job_wait(bus, slow)
        assert hr == S_OK, out
        assert_healthy(bus, big, imgs, gold)
    finally:
        ctx.stop(d)


HANG_PRELOAD = os.environ.get("LDM_HANG_PRELOAD") or os.path.join(BUILD_ROOT, "tests", "daemon", "hang-preload.so")


@tap.test
def job_ends_when_the_rescan_hangs(ctx):
    """The scan after a job never comes back (a disk of another pack stops answering): the
    job still ends, with its own result, about 10 s later, and says why in the log."""
    if not os.path.exists(HANG_PRELOAD):
        raise Skip("%s not built" % HANG_PRELOAD)
    imgs, _ = ctx.copy_2008("hang")
    stuck = os.path.join(ctx.workdir("hang-other"), "other-pack.hang")
    copy_sparse(os.path.join(ctx.images, "ldm-2003r2-simple-1.img"), stuck)
    gate = os.path.join(ctx.dir, "hang-gate")
    # verify_asan_link_order: an ASan build of ldmd tolerates the shim in front of it.
    env = {"LD_PRELOAD": HANG_PRELOAD, "LDM_HANG_SUFFIX": ".hang", "LDM_HANG_GATE": gate,
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
    d = ctx.start(imgs + [stuck], env=env)
    try:
        bus = ctx.bus
        pack = pack_of(bus, X.PACK_2008["name"])
        open(gate, "w").close()
        t0 = time.monotonic()
        (job,) = bus.call(pack, IFACE_PACK, "Verify")
        # While the pack's state is refreshed the work is over and its result stands.
        wait_until(lambda: bus.prop(job, IFACE_JOB, "Message") == "Refreshing the pack's state", 30,
                   "the refresh")
        assert bus.prop(job, IFACE_JOB, "Cancelable") is False
        assert bus.call_error(job, IFACE_JOB, "Cancel")[0] == "org.ldmd1.Error.CancelTooLate"
        hr, out = job_wait(bus, job, timeout=60)
        waited = time.monotonic() - t0
        assert hr == S_OK and out["mirror_mismatches"] == 0, "0x%08x %s" % (hr, out)
        assert waited >= 9, "the job ended after %.1fs: the scan did not hang?" % waited
        j = bus.props(job, IFACE_JOB)
        assert j["State"] == "done" and j["Percent"] == 100, j
        assert j["Message"].startswith("Verified pack"), j
        assert "was not published within 10 s" in d.output(), d.output()[-2000:]
        # The disk answers again: the pending scan completes and the daemon carries on.
        os.unlink(gate)
        bus.call(MANAGER, IFACE_MANAGER, "Rescan", timeout=30000)
        (job2,) = bus.call(pack, IFACE_PACK, "Verify")
        hr, _ = job_wait(bus, job2)
        assert hr == S_OK, "0x%08x" % hr
    finally:
        if os.path.exists(gate):
            os.unlink(gate)
        ctx.stop(d)


@tap.test
def job_introspection_matches_xml(ctx):
    imgs, _ = ctx.copy_2008("introspect")
    d = ctx.start(imgs)
    try:
        bus = ctx.bus
        pack = pack_of(bus, X.PACK_2008["name"])
        (job,) = bus.call(pack, IFACE_PACK, "Verify")
        job_wait(bus, job)
        for iface, path in ((IFACE_JOB, job), (IFACE_PACK, pack)):
            with open(os.path.join(SOURCE_ROOT, "dbus", iface + ".xml")) as f:
                want = interface_signature(f.read(), iface)
            got = interface_signature(bus.introspect(path), iface)
            assert got == want, "%s differs from dbus/%s.xml:\nonly live: %s\nonly xml: %s" % (
                path, iface, sorted(got - want), sorted(want - got))
        assert '<node name="job"/>' in bus.introspect(MANAGER)
        objs = bus.managed_objects()
        assert objs[job][IFACE_JOB]["State"] == "done", objs[job]
    finally:
        ctx.stop(d)


@tap.test
def auto_recover_when_disk_returns(ctx):
    imgs, _ = ctx.copy_2008("auto")
    d = ctx.start(imgs, conf="AutoRecover=yes\n")
    try:
        bus = ctx.bus
        assert bus.prop(MANAGER, IFACE_MANAGER, "AutoRecover") is True
        pack = pack_of(bus, X.PACK_2008["name"])
        away = [i for i in imgs if i.endswith("mirrored-2.img")][0]
        os.rename(away, away + ".away")
        bus.call(MANAGER, IFACE_MANAGER, "Rescan")
        # The pack changes while the disk is away: its copy and plex fall behind.
        damage("touch", *[i for i in imgs if i != away])
        bus.call(MANAGER, IFACE_MANAGER, "Rescan")
        assert bus.prop(MANAGER, IFACE_MANAGER, "Jobs") == []
        sigs = []
        sub = bus.subscribe(sigs)
        os.rename(away + ".away", away)
        bus.call(MANAGER, IFACE_MANAGER, "Rescan")
        new = wait_until(lambda: [s for s in sigs if s[2] == "JobNew"], 10, "an auto-recover job")
        job = new[0][3][0]
        assert new[0][3][1] == pack, new
        assert bus.prop(job, IFACE_JOB, "Operation") == "auto-recover"
        hr, out = job_wait(bus, job)
        assert hr == S_OK, "0x%08x %s" % (hr, out)
        assert out["disks_synced"] >= 1, out
        assert_healthy(bus, pack, imgs, GOLD_2008)
        bus.conn.signal_unsubscribe(sub)
    finally:
        ctx.stop(d)


# Names as a disk may hold them (LDM stores bytes; only NUL is excluded), and as ldmd
# publishes and logs them: invalid UTF-8 and control characters become \xNN.
RAW_GROUP, GROUP = b"Bad\xff\n<0>Dg", "Bad\\xff\\x0a<0>Dg"
RAW_VOLUME, VOLUME = b"Vol\xff\nume1", "Vol\\xff\\x0aume1"
RAW_DISK, DISK = b"Disk\x1b[1m1", "Disk\\x1b[1m1"


def pack_listed(images):
    """ldm-testtool list, as bytes ("pack NAME GUID\n" first: NAME may hold a newline)."""
    return subprocess.run([DAMAGE_TOOL, "list"] + images, capture_output=True, check=True).stdout


@tap.test
def names_from_disk_are_escaped(ctx):
    if not os.access(ctx.mkldm, os.X_OK):
        raise Skip("tools/mkldm not built")
    w = ctx.workdir("names")
    imgs = [os.path.join(w, "n%d.img" % i) for i in (1, 2, 3)]
    r = subprocess.run([ctx.mkldm, "--name", "Name-Dg0", "--create", "64M", "--volume", "mirror:8M",
                        "--volume", "raid5:8M"] + imgs, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    for old, new in (("Name-Dg0", RAW_GROUP), ("Volume1", RAW_VOLUME), ("Disk1", RAW_DISK)):
        damage("rename", old, os.fsdecode(new), *imgs)
    assert pack_listed(imgs).startswith(b"pack " + RAW_GROUP + b" ")
    d = ctx.start(imgs, journal=True)
    try:
        bus = ctx.bus
        # One bad name used to fail GetManagedObjects for every client.
        objs = bus.managed_objects()
        pack = pack_of(bus, GROUP)
        assert objs[pack][IFACE_PACK]["Name"] == GROUP, objs[pack]
        assert bus.prop(pack, IFACE_PACK, "Name") == GROUP
        names = {p[IFACE_VOLUME]["Name"] for p in objs.values() if IFACE_VOLUME in p}
        assert names == {VOLUME, "Volume2"}, names
        names = {p[IFACE_DISK]["Name"] for p in objs.values() if IFACE_DISK in p}
        assert names == {DISK, "Disk2", "Disk3"}, names
        sigs = []
        sub = bus.subscribe(sigs, iface=IFACE_JOB, member="Completed")
        for method, want in (("Verify", "Verified pack %s: " % GROUP),
                             ("Recover", "Pack %s recovered: " % GROUP)):
            (job,) = bus.call(pack, IFACE_PACK, method)
            # Wait used to be dropped, unanswered, when its reply could not be built.
            hr, out = job_wait(bus, job, timeout=60)
            assert hr == S_OK and out["message"].startswith(want), "0x%08x %s" % (hr, out)
            assert bus.prop(job, IFACE_JOB, "Message") == out["message"]
            done = wait_until(lambda: [s for s in sigs if s[0] == job], 5, "Completed of " + method)
            assert done[0][3] == (S_OK, out["message"]), done
        bus.conn.signal_unsubscribe(sub)
        assert bus.prop(pack, IFACE_PACK, "Name") == GROUP
    finally:
        ctx.stop(d)
    # On disk the names are still the bytes they were.
    assert pack_listed(imgs).startswith(b"pack " + RAW_GROUP + b" "), pack_listed(imgs)
    # One message, one line: no name starts a line of its own, nor forges a priority.
    with open(d.log_path, encoding="utf-8") as f:
        log = f.read()
    lines = log.splitlines()
    assert lines and all(re.match(r"<[1-7]>", line) for line in lines), log
    assert "recover of pack %s (" % GROUP in log, log


def busctl_nobody(ctx, *argv):
    return run_as_nobody(["busctl", "--address=" + ctx.bus.address] + list(argv))


def nobody_call(ctx, path, iface, method):
    r = busctl_nobody(ctx, "call", "org.ldmd1", path, iface, method)
    if r.returncode == 0:
        return r.stdout.split()[-1].strip('"') if r.stdout.strip() else "", None
    return None, r.stderr.strip()


@tap.test
def polkit_decides_for_unprivileged_callers(ctx):
    require_root()  # setpriv needs it to become nobody
    require_program("setpriv")
    imgs, _ = ctx.copy_2008("polkit")
    polkitd = Mock(ctx.bus, "polkitd", os.path.join(ctx.dir, "polkitd.log"))
    # Slow jobs, so that there is time to cancel them.
    d = ctx.start(imgs, conf="RepairRateLimitMiB=1\n")
    bus = ctx.bus
    pack = pack_of(bus, X.PACK_2008["name"])
    mock = ("/org/freedesktop/PolicyKit1/Authority", "org.freedesktop.DBus.Mock")

    def allow(*actions):
        polkitd.call(*mock, "SetAllowed", (list(actions),), "(as)")
    try:
        # polkit says no: refused, naming the action and the pack.
        job, err = nobody_call(ctx, pack, IFACE_PACK, "Verify")
        assert job is None and "org.ldmd1.recover" in err and X.PACK_2008["name"] in err, err
        job, err = nobody_call(ctx, MANAGER, IFACE_MANAGER, "Rescan")
        assert job is None and "org.ldmd1.manage" in err, err
        assert bus.call(MANAGER, IFACE_MANAGER, "ListJobs") == ([],)
        # Root needs no polkit.
        (root_job,) = bus.call(pack, IFACE_PACK, "Verify")
        assert bus.prop(root_job, IFACE_JOB, "StartedByUID") == 0
        # Another user's job: cancel-other.
        allow("org.ldmd1.recover")
        _, err = nobody_call(ctx, root_job, IFACE_JOB, "Cancel")
        assert err and "org.ldmd1.cancel-other" in err, err
        allow("org.ldmd1.recover", "org.ldmd1.cancel-other")
        _, err = nobody_call(ctx, root_job, IFACE_JOB, "Cancel")
        assert err is None, err
        hr, _ = job_wait(bus, root_job)
        assert hr == VDS_E_OPERATION_CANCELED, "0x%08x" % hr
        # polkit says yes: nobody starts a job, and may always cancel its own.
        allow("org.ldmd1.recover")
        job, err = nobody_call(ctx, pack, IFACE_PACK, "Verify")
        assert err is None and job.startswith("/org/ldmd1/job/_"), err
        assert bus.prop(job, IFACE_JOB, "StartedByUID") == 65534
        r = busctl_nobody(ctx, "get-property", "org.ldmd1", job, IFACE_JOB, "State")
        assert r.returncode == 0 and r.stdout.split()[-1].strip('"') in ("queued", "running"), r
        allow()
        _, err = nobody_call(ctx, job, IFACE_JOB, "Cancel")
        assert err is None, err
        hr, _ = job_wait(bus, job)
        assert hr == VDS_E_OPERATION_CANCELED, "0x%08x" % hr
        allow("org.ldmd1.manage")
        _, err = nobody_call(ctx, MANAGER, IFACE_MANAGER, "Rescan")
        assert err is None, err
        # polkitd hangs: the daemon keeps serving everyone else meanwhile (the check is
        # asynchronous), and the call goes on when the answer comes.
        allow("org.ldmd1.manage")
        polkitd.call(*mock, "SimulateHang", (True,), "(b)")
        hung = subprocess.Popen(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "busctl",
                                 "--address=" + ctx.bus.address, "call", "org.ldmd1", MANAGER, IFACE_MANAGER,
                                 "Rescan"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until(lambda: polkitd.call(*mock, "HaveHangingCalls")[0], 10, "the hanging CheckAuthorization")
        t = time.monotonic()
        assert pack_of(bus, X.PACK_2008["name"]) == pack
        assert time.monotonic() - t < 2
        assert hung.poll() is None
        polkitd.call(*mock, "ReleaseHangingCalls")
        out, err = hung.communicate(timeout=20)
        assert hung.returncode == 0, err
        polkitd.call(*mock, "SimulateHang", (False,), "(b)")
        # No polkitd on the bus: only root.
        polkitd.stop()
        polkitd = None
        job, err = nobody_call(ctx, pack, IFACE_PACK, "Verify")
        assert job is None and "org.ldmd1.recover" in err and "polkit is not available" in err, err
        (root_job,) = bus.call(pack, IFACE_PACK, "Verify")
        bus.call(root_job, IFACE_JOB, "Cancel")
        job_wait(bus, root_job)
        assert d.alive()
    finally:
        ctx.stop(d)
        if polkitd:
            polkitd.stop()


def nobody_gdbus(ctx, path, method):
    """gdbus call as nobody, started, not waited for (its errors name the D-Bus error)."""
    return subprocess.Popen(NOBODY + ["gdbus", "call", "--address", ctx.bus.address, "--dest", "org.ldmd1",
                                      "--object-path", path, "--method", method, "--timeout", "60"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def start_behind_proxy(ctx, tag, rate_mib):
    """For tests whose unprivileged caller is `nobody` (gdbus): a copy of the 2008 R2 pack, a
    polkitd mock, and ldmd talking to the bus through a BusProxy that can hold back the bus
    daemon's answers about callers, its repairs limited to rate_mib MiB/s."""
    require_root()  # setpriv needs it to become nobody
    require_program("setpriv")
    require_program("gdbus")
    imgs, _ = ctx.copy_2008(tag)
    polkitd = Mock(ctx.bus, "polkitd", os.path.join(ctx.dir, "polkitd-%s.log" % tag))
    proxy = BusProxy(ctx.bus, ctx.workdir("proxy-" + tag))
    d = ctx.start(imgs, extra=["--bus=" + proxy.address], conf="RepairRateLimitMiB=%d\n" % rate_mib)
    return polkitd, proxy, d


def stop_behind_proxy(ctx, polkitd, proxy, d, callers):
    """Undoes start_behind_proxy(), killing the callers (gdbus processes) still running."""
    ctx.stop(d)
    for p in callers:
        if p and p.poll() is None:
            p.kill()
            p.wait()
    proxy.close()
    polkitd.stop()


@tap.test
def polkit_checks_do_not_stall_the_daemon(ctx):
    """Who an unprivileged caller of Recover, Verify, Rescan or Cancel is, is asked of the bus
    daemon without blocking ldmd's loop. ldmd talks to the bus through a relay that holds back
    those answers: meanwhile other clients are answered and nothing starts; once released,
    the call ends as it always did (polkit's no: NotAuthorized; yes: a job started by nobody,
    who may cancel it without polkit); ldmd stopped with a question outstanding exits 0. (It
    used to ask synchronously, twice per call: each such call stalled every client.)"""
    # Slow jobs, so that there is time to cancel them.
    polkitd, proxy, d = start_behind_proxy(ctx, "polkit-nostall", 1)
    bus = ctx.bus
    name = X.PACK_2008["name"]
    calls = []

    def allow(*actions):
        polkitd.call("/org/freedesktop/PolicyKit1/Authority", "org.freedesktop.DBus.Mock", "SetAllowed",
                     (list(actions),), "(as)")

    def held_call(path, method):
        """nobody calls; returns the process once ldmd's question about its caller is held."""
        n = proxy.held_count()
        proxy.hold_all()  # gdbus's unique name is not known here
        p = nobody_gdbus(ctx, path, method)
        calls.append(p)
        wait_until(lambda: proxy.held_count() > n or p.poll() is not None, 30,
                   "ldmd's question about the caller of %s to be held back" % method)
        assert p.poll() is None, p.communicate()
        # The loop is free while the answer is out: other clients are answered.
        assert pack_of(bus, name) == pack
        assert bus.prop(pack, IFACE_PACK, "Name") == name
        return p

    def finish(p, ok):
        proxy.release()
        out, err = p.communicate(timeout=30)
        assert (p.returncode == 0) == ok, (p.returncode, out, err)
        return out.strip(), err.strip()

    try:
        pack = pack_of(bus, name)
        # polkit says no: the same NotAuthorized as ever, and no job.
        p = held_call(pack, IFACE_PACK + ".Recover")
        assert bus.call(MANAGER, IFACE_MANAGER, "ListJobs") == ([],)
        _, err = finish(p, False)
        assert "org.ldmd1.Error.NotAuthorized" in err and "org.ldmd1.recover" in err and name in err, err
        p = held_call(MANAGER, IFACE_MANAGER + ".Rescan")
        _, err = finish(p, False)
        assert "org.ldmd1.Error.NotAuthorized" in err and "org.ldmd1.manage" in err, err
        # A caller that leaves while the question about it is out: ldmd carries on.
        p = held_call(pack, IFACE_PACK + ".Recover")
        p.kill()
        p.wait()
        proxy.release()
        assert pack_of(bus, name) == pack
        assert bus.call(MANAGER, IFACE_MANAGER, "ListJobs") == ([],)

        # polkit says yes: the job is nobody's (the uid came with the verdict).
        allow("org.ldmd1.recover")
        p = held_call(pack, IFACE_PACK + ".Verify")
        assert bus.call(MANAGER, IFACE_MANAGER, "ListJobs") == ([],)
        out, _ = finish(p, True)
        job = out.split("'")[1]
        assert job.startswith("/org/ldmd1/job/_"), out
        assert bus.prop(job, IFACE_JOB, "StartedByUID") == 65534
        # The starter cancels its own job, polkit or not, once the bus has said who it is.
        allow()
        p = held_call(job, IFACE_JOB + ".Cancel")
        assert bus.prop(job, IFACE_JOB, "State") in ("queued", "running")
        finish(p, True)
        hr, _ = job_wait(bus, job)
        assert hr == VDS_E_OPERATION_CANCELED, "0x%08x" % hr

        # Stopped with a question outstanding: exit status 0 (ASan: no leak).
        held_call(MANAGER, IFACE_MANAGER + ".Rescan")
        assert d.alive()
    finally:
        stop_behind_proxy(ctx, polkitd, proxy, d, calls)


@tap.test
def caller_gone_while_polkit_decides_starts_nothing(ctx):
    """An unprivileged Recover whose caller leaves the bus while polkitd decides (its verdict
    held back by the relay) starts nothing when the verdict comes, even a yes: nobody asked
    for the job any more, and nobody would be told of it. ldmd forgets the check as soon as
    the bus says the caller has left. (polkitd's yes used to start the job all the same, or
    fail it with an error in the log.)"""
    polkitd, proxy, d = start_behind_proxy(ctx, "polkit-gone", 4)
    bus = ctx.bus
    p = None
    try:
        polkitd.call("/org/freedesktop/PolicyKit1/Authority", "org.freedesktop.DBus.Mock", "SetAllowed",
                     (["org.ldmd1.recover"],), "(as)")
        pack = pack_of(bus, X.PACK_2008["name"])
        proxy.hold_all(BusProxy.POLKIT)
        p = nobody_gdbus(ctx, pack, IFACE_PACK + ".Recover")
        wait_until(lambda: proxy.held_count() > 0 or p.poll() is not None, 30,
                   "polkitd's verdict on the caller of Recover to be held back")
        assert p.poll() is None, p.communicate()
        (caller,) = proxy.held_names()
        p.kill()
        p.wait()
        wait_until(lambda: bus.name_owner(caller) is None, 10, "the bus to see the caller leave")
        # The bus told ldmd (through the relay, in order) before it answers this call.
        assert bus.call(MANAGER, IFACE_MANAGER, "ListJobs") == ([],)
        proxy.release()  # polkitd's yes, for a caller that is gone
        assert bus.call(MANAGER, IFACE_MANAGER, "ListJobs") == ([],)
        assert bus.prop(pack, IFACE_PACK, "ActiveJob") == "/"
        assert "Failed to start a job" not in d.output(), d.output()
        assert "left the bus while its org.ldmd1.recover check was pending" in d.output(), d.output()
        # The check was forgotten, not left to count against the limits: a new caller's
        # Recover is decided and runs.
        (job,) = bus.call(pack, IFACE_PACK, "Recover")
        bus.call(job, IFACE_JOB, "Cancel")
        job_wait(bus, job)
        assert d.alive()
    finally:
        stop_behind_proxy(ctx, polkitd, proxy, d, [p])


@tap.test
def cancel_held_up_while_the_job_ends_is_too_late(ctx):
    """Another user's Cancel whose caller is still being identified (the bus daemon's answer
    held back by the relay) while the job ends on its own: once the answer comes (and polkit
    allows cancel-other), the call gets CancelTooLate, and the job's result stands: S_OK,
    100 %, not cancelled."""
    # A Verify that lasts a few seconds: still running when nobody's Cancel comes.
    polkitd, proxy, d = start_behind_proxy(ctx, "cancel-late", 4)
    bus = ctx.bus
    p = None
    try:
        polkitd.call("/org/freedesktop/PolicyKit1/Authority", "org.freedesktop.DBus.Mock", "SetAllowed",
                     (["org.ldmd1.recover", "org.ldmd1.cancel-other"],), "(as)")
        pack = pack_of(bus, X.PACK_2008["name"])
        (job,) = bus.call(pack, IFACE_PACK, "Verify")
        assert bus.prop(job, IFACE_JOB, "StartedByUID") == 0
        proxy.hold_all()  # gdbus's unique name is not known here
        p = nobody_gdbus(ctx, job, IFACE_JOB + ".Cancel")
        wait_until(lambda: proxy.held_count() > 0 or p.poll() is not None, 30,
                   "ldmd's question about the caller of Cancel to be held back")
        # Held: the Cancel got past the "already finished" check, so the job was not over.
        assert p.poll() is None, ("the job ended before the test: slow it down", p.communicate())
        # The job ends on its own meanwhile (QueryStatus and State ask nobody who the caller is).
        wait_until(lambda: bus.call(job, IFACE_JOB, "QueryStatus")[0] != VDS_E_OPERATION_PENDING, 120,
                   "the job to end")
        assert bus.call(job, IFACE_JOB, "QueryStatus") == (S_OK, 100)
        assert bus.prop(job, IFACE_JOB, "State") == "done"
        assert p.poll() is None, p.communicate()  # its answer is still held back
        assert proxy.held_count() == 1
        proxy.release()
        out, err = p.communicate(timeout=30)
        assert p.returncode != 0 and "org.ldmd1.Error.CancelTooLate" in err, (p.returncode, out, err)
        # The result stands.
        hr, res = job_wait(bus, job)
        assert hr == S_OK and res["mirror_mismatches"] == 0 and res["parity_mismatches"] == 0, \
            "0x%08x %s" % (hr, res)
        assert bus.call(job, IFACE_JOB, "QueryStatus") == (S_OK, 100)
        assert bus.prop(job, IFACE_JOB, "HResult") == S_OK
        assert "cancelled by" not in d.output()
        assert d.alive()
    finally:
        stop_behind_proxy(ctx, polkitd, proxy, d, [p])


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
