#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""ldmd on a private system-type bus with the real Windows images as --image disks: what it
publishes (EXPECTED.md), degraded and corrupt packs, the bus policy (root vs nobody), the
introspection contract (dbus/*.xml), errors for bad calls, change signals, configuration
and clean shutdown. TAP on stdout."""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import expected as X  # noqa: E402
from ldmdtest import (  # noqa: E402
    BUILD_ROOT, IFACE_DISK, IFACE_MANAGER, IFACE_PACK, IFACE_VOLUME, LDMD, MANAGER,
    SOURCE_ROOT, VDS_DS_MISSING, VDS_DS_ONLINE, VDS_H_FAILED_REDUNDANCY, VDS_H_HEALTHY, VDS_VT,
    GLib, Ldmd, PrivateBus, Skip, Tap, copy_sparse, diag, disk_path, interface_signature,
    pack_path, require_program, require_root, run_as_nobody, tmpdir, unpack_real_images, volume_path,
    wait_until, zero_sector)

tap = Tap()


class Ctx:
    """One private bus for the whole run; daemons come and go on it."""

    def __init__(self):
        self.dir = tmpdir()
        self.images = unpack_real_images(os.path.join(self.dir, "images"))
        self.bus = PrivateBus(self.dir)
        self.full = None
        self.n = 0

    def image(self, name):
        return os.path.join(self.images, name)

    def start(self, images, extra=(), **kw):
        """A daemon on the given images (paths), with --no-udev."""
        self.n += 1
        args = ["--no-udev", "--config=/dev/null"] + ["--image=" + i for i in images] + list(extra)
        return Ldmd(self.bus, args, os.path.join(self.dir, "ldmd-%d.log" % self.n), **kw)

    def stop(self, d):
        d.stop()
        wait_until(lambda: self.bus.name_owner() is None, 10, "org.ldmd1 to be released")

    def full_daemon(self):
        """The daemon on all 19 images, shared by the read-only tests."""
        if not self.full:
            self.full = self.start([self.image(i) for i in X.all_images()])
        return self.full

    def mkldm_workdir(self, name):
        """For a test of its own packs: mkldm's path and a fresh directory, with the shared
        daemon stopped (one daemon at a time owns org.ldmd1 on the bus)."""
        mkldm = os.path.join(BUILD_ROOT, "tools", "mkldm")
        if not os.access(mkldm, os.X_OK):
            raise Skip("tools/mkldm not built")
        self.stop_full()
        work = os.path.join(self.dir, name)
        os.makedirs(work, exist_ok=True)
        return mkldm, work

    def stop_full(self):
        if self.full:
            self.stop(self.full)
            self.full = None

    def close(self):
        self.stop_full()
        self.bus.stop()
        subprocess.run(["rm", "-rf", self.dir])


# ---------------------------------------------------------------------------------------------

def check_pack(ctx, exp, images_dir, health=VDS_H_HEALTHY):
    bus = ctx.bus
    p = bus.props(pack_path(exp["guid"]), IFACE_PACK)
    assert p["Id"] == exp["guid"], p
    assert p["Name"] == exp["name"], p
    assert p["ActiveJob"] == "/", p
    assert p["Health"] == health, "pack %s health %d" % (exp["name"], p["Health"])
    assert p["CommittedSequence"] > 0, p
    assert sorted(p["Disks"]) == sorted(disk_path(g) for g, _ in exp["disks"].values()), p["Disks"]
    assert sorted(p["Volumes"]) == sorted(volume_path(v[0]) for v in exp["volumes"].values()), p["Volumes"]

    for name, (guid, img) in exp["disks"].items():
        d = bus.props(disk_path(guid), IFACE_DISK)
        assert d["Id"] == guid and d["Name"] == name, d
        assert d["Pack"] == pack_path(exp["guid"]), d
        assert d["Device"] == os.path.join(images_dir, img), d
        assert d["Status"] == VDS_DS_ONLINE, "%s status %d" % (name, d["Status"])
        assert d["Health"] == VDS_H_HEALTHY, "%s health %d" % (name, d["Health"])
        assert d["Size"] == X.IMAGE_SECTORS * X.S, d
        assert d["DatabaseSequence"] == p["CommittedSequence"], d
        assert d["DatabaseStale"] is False, d

    disk_of = {name: disk_path(g) for name, (g, _) in exp["disks"].items()}
    for name, (guid, vtype, size, plexes) in exp["volumes"].items():
        v = bus.props(volume_path(guid), IFACE_VOLUME)
        assert v["Id"] == guid and v["Name"] == name, v
        assert v["Pack"] == pack_path(exp["guid"]), v
        assert v["Type"] == VDS_VT[vtype], "%s type %d" % (name, v["Type"])
        assert v["Size"] == size * X.S, "%s size %d" % (name, v["Size"])
        assert v["Status"] == 1, "%s status %d" % (name, v["Status"])
        assert v["Health"] == VDS_H_HEALTHY, "%s health %d" % (name, v["Health"])
        assert [pl[0] for pl in v["Plexes"]] == list(range(len(plexes))), v["Plexes"]
        got = sorted([list(m) for m in pl[3]] for pl in v["Plexes"])
        want = sorted([[disk_of[dn], sect * X.S, n * X.S] for dn, sect, n in pl] for pl in plexes)
        assert got == want, "%s plexes\n got %s\nwant %s" % (name, got, want)
        for pl in v["Plexes"]:
            assert pl[1] == VDS_H_HEALTHY and pl[2] == 1, "%s plex %s" % (name, pl[:3])


@tap.test
def real_packs_published(ctx):
    ctx.full_daemon()
    m = ctx.bus.props(MANAGER, IFACE_MANAGER)
    assert sorted(m["Packs"]) == sorted(pack_path(p["guid"]) for p in X.PACKS), m["Packs"]
    assert len(m["Disks"]) == 19, m["Disks"]
    assert m["Jobs"] == [], m
    assert m["Version"], m
    assert m["AutoRecover"] is False, m
    for exp in X.PACKS:
        check_pack(ctx, exp, ctx.images)


@tap.test
def object_manager_lists_everything(ctx):
    ctx.full_daemon()
    objs = ctx.bus.managed_objects()
    packs = [p for p, i in objs.items() if IFACE_PACK in i]
    disks = [p for p, i in objs.items() if IFACE_DISK in i]
    vols = [p for p, i in objs.items() if IFACE_VOLUME in i]
    assert len(packs) == 2 and len(disks) == 19 and len(vols) == 11, (packs, disks, vols)
    v = objs[volume_path(X.PACK_2008["volumes"]["Volume3"][0])][IFACE_VOLUME]
    assert v["Name"] == "Volume3" and v["Type"] == VDS_VT["mirrored"], v


@tap.test
def introspection_matches_xml(ctx):
    ctx.full_daemon()
    objects = {
        IFACE_MANAGER: MANAGER,
        IFACE_PACK: pack_path(X.PACK_2003["guid"]),
        IFACE_DISK: disk_path(X.PACK_2003["disks"]["Disk1"][0]),
        IFACE_VOLUME: volume_path(X.PACK_2003["volumes"]["Raid1"][0]),
    }
    for iface, path in objects.items():
        with open(os.path.join(SOURCE_ROOT, "dbus", iface + ".xml")) as f:
            want = interface_signature(f.read(), iface)
        live = ctx.bus.introspect(path)
        got = interface_signature(live, iface)
        assert want is not None, "dbus/%s.xml lacks the interface" % iface
        assert got is not None, "%s does not implement %s:\n%s" % (path, iface, live)
        assert got == want, "%s differs from dbus/%s.xml:\nonly live: %s\nonly xml: %s" % (
            path, iface, sorted(got - want), sorted(want - got))
    # The tree: the manager's children are the three classes.
    root = ctx.bus.introspect(MANAGER)
    for node in ("pack", "disk", "volume"):
        assert '<node name="%s"/>' % node in root, root


@tap.test
def lookups(ctx):
    ctx.full_daemon()
    bus = ctx.bus
    for exp in X.PACKS:
        (path,) = bus.call(MANAGER, IFACE_MANAGER, "GetPackByName", (exp["name"],), "(s)")
        assert path == pack_path(exp["guid"]), path
        (path,) = bus.call(MANAGER, IFACE_MANAGER, "GetPackById", (exp["guid"].upper(),), "(s)")
        assert path == pack_path(exp["guid"]), path
    name, msg = bus.call_error(MANAGER, IFACE_MANAGER, "GetPackByName", ("no-such-pack",), "(s)")
    assert name == "org.ldmd1.Error.NotFound" and "no-such-pack" in msg, (name, msg)
    name, msg = bus.call_error(MANAGER, IFACE_MANAGER, "GetPackById",
                               ("00000000-1111-2222-3333-444444444444",), "(s)")
    assert name == "org.ldmd1.Error.NotFound" and "00000000-1111" in msg, (name, msg)
    name, msg = bus.call_error(MANAGER, IFACE_MANAGER, "GetPackById", ("not-a-guid",), "(s)")
    assert name == "org.freedesktop.DBus.Error.InvalidArgs" and "not-a-guid" in msg, (name, msg)
    assert bus.call(MANAGER, IFACE_MANAGER, "ListJobs") == ([],)


@tap.test
def bad_calls_get_errors(ctx):
    d = ctx.full_daemon()
    bus = ctx.bus
    cases = [
        # wrong argument types and counts
        ((MANAGER, IFACE_MANAGER, "GetPackByName", (7,), "(u)"), "org.freedesktop.DBus.Error.InvalidArgs"),
        ((MANAGER, IFACE_MANAGER, "GetPackByName", None, None), "org.freedesktop.DBus.Error.InvalidArgs"),
        ((MANAGER, IFACE_MANAGER, "GetPackById", ("a", "b"), "(ss)"), "org.freedesktop.DBus.Error.InvalidArgs"),
        ((MANAGER, IFACE_MANAGER, "Rescan", ("x",), "(s)"), "org.freedesktop.DBus.Error.InvalidArgs"),
        # unknown objects, interfaces, methods, properties
        (("/org/ldmd1/pack/nothing", IFACE_PACK, "Recover", None, None), "org.freedesktop.DBus.Error.UnknownObject"),
        (("/org/ldmd1/nothing", "org.freedesktop.DBus.Properties", "GetAll", (IFACE_PACK,), "(s)"),
         "org.freedesktop.DBus.Error.UnknownObject"),
        ((MANAGER, IFACE_MANAGER, "Frobnicate", None, None), "org.freedesktop.DBus.Error.UnknownMethod"),
        ((MANAGER, "org.ldmd1.Nothing", "Frobnicate", None, None), "org.freedesktop.DBus.Error.UnknownMethod"),
        ((MANAGER, "org.freedesktop.DBus.Properties", "Get", (IFACE_MANAGER, "Nothing"), "(ss)"),
         "org.freedesktop.DBus.Error.UnknownProperty"),
        ((MANAGER, "org.freedesktop.DBus.Properties", "Set",
          (IFACE_MANAGER, "AutoRecover", GLib.Variant("b", True)), "(ssv)"),
         "org.freedesktop.DBus.Error.PropertyReadOnly"),
        ((pack_path(X.PACK_2003["guid"]), "org.freedesktop.DBus.Properties", "Get",
          (IFACE_DISK, "Name"), "(ss)"), "org.freedesktop.DBus.Error.UnknownProperty"),
    ]
    for (args, want) in cases:
        name, msg = bus.call_error(*args)
        assert name == want, "%s: got %s (%s), want %s" % (args[:3], name, msg, want)
    # Garbage: arbitrary bodies and paths through busctl.
    for argv in (["call", "org.ldmd1", "/org/ldmd1", IFACE_MANAGER, "GetPackByName", "ay", "3", "1", "2", "3"],
                 ["call", "org.ldmd1", "/org/ldmd1/volume/_", IFACE_VOLUME, "X"],
                 ["call", "org.ldmd1", "/", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects"],
                 ["get-property", "org.ldmd1", "/org/ldmd1/disk/x", IFACE_DISK, "Name"]):
        r = subprocess.run(["busctl", "--address=" + bus.address] + argv, capture_output=True, text=True)
        assert r.returncode != 0, (argv, r.stdout)
    assert d.alive(), d.output()
    assert bus.call(MANAGER, "org.freedesktop.DBus.Peer", "Ping") == ()
    assert bus.prop(MANAGER, IFACE_MANAGER, "Version")


@tap.test
def unprivileged_client(ctx):
    require_root()  # setpriv needs it to become nobody
    require_program("setpriv")
    ctx.full_daemon()
    addr = "--address=" + ctx.bus.address
    r = run_as_nobody(["busctl", addr, "get-property", "org.ldmd1", MANAGER, IFACE_MANAGER, "Packs"])
    assert r.returncode == 0 and pack_path(X.PACK_2008["guid"]) in r.stdout, (r.stdout, r.stderr)
    vol = volume_path(X.PACK_2008["volumes"]["Volume4"][0])
    r = run_as_nobody(["busctl", addr, "--json=short", "get-property", "org.ldmd1", vol, IFACE_VOLUME, "Health"])
    assert r.returncode == 0 and '"data":1' in r.stdout.replace(" ", ""), (r.stdout, r.stderr)
    r = run_as_nobody(["busctl", addr, "call", "org.ldmd1", MANAGER, IFACE_MANAGER, "GetPackByName",
                       "s", X.PACK_2003["name"]])
    assert r.returncode == 0 and pack_path(X.PACK_2003["guid"]) in r.stdout, (r.stdout, r.stderr)
    r = run_as_nobody(["busctl", addr, "call", "org.ldmd1", MANAGER,
                       "org.freedesktop.DBus.ObjectManager", "GetManagedObjects"])
    assert r.returncode == 0, r.stderr
    # A mutation needs org.ldmd1.manage: root only for now.
    r = run_as_nobody(["busctl", addr, "call", "org.ldmd1", MANAGER, IFACE_MANAGER, "Rescan"])
    assert r.returncode != 0 and "org.ldmd1.manage" in r.stderr, (r.stdout, r.stderr)
    # The policy: nobody may not own the name (nor may it while ldmd owns it as root).
    code = ("import gi; gi.require_version('Gio','2.0'); from gi.repository import Gio;"
            "c = Gio.DBusConnection.new_for_address_sync('%s', Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT"
            " | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None);"
            "from gi.repository import GLib;\n"
            "try:\n"
            "    print(c.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',"
            " 'RequestName', GLib.Variant('(su)', ('org.ldmd1', 4)), None, 0, 5000, None).unpack())\n"
            "except GLib.Error as e:\n"
            "    print('ERROR', Gio.DBusError.get_remote_error(e))\n") % ctx.bus.address
    r = run_as_nobody(["/usr/bin/python3", "-c", code])
    assert "ERROR org.freedesktop.DBus.Error.AccessDenied" in r.stdout, (r.stdout, r.stderr)
    # ... and the daemon, running as root, still owns it.
    assert ctx.bus.name_owner()


@tap.test
def root_rescan(ctx):
    ctx.full_daemon()
    before = ctx.bus.managed_objects()
    t = time.monotonic()
    assert ctx.bus.call(MANAGER, IFACE_MANAGER, "Rescan") == ()
    diag("Rescan of 19 images took %.3fs" % (time.monotonic() - t))
    assert ctx.bus.managed_objects() == before


@tap.test
def missing_raid5_disk(ctx):
    ctx.stop_full()
    left_out = "ldm-2003r2-raid5-2.img"
    d = ctx.start([ctx.image(i) for i in X.all_images() if i != left_out])
    try:
        bus = ctx.bus
        guid = X.PACK_2003["disks"]["Disk9"][0]
        disk = bus.props(disk_path(guid), IFACE_DISK)
        assert disk["Status"] == VDS_DS_MISSING, disk
        assert disk["Device"] == "" and disk["Name"] == "Disk9", disk
        assert disk["Pack"] == pack_path(X.PACK_2003["guid"]), disk
        raid = bus.props(volume_path(X.PACK_2003["volumes"]["Raid1"][0]), IFACE_VOLUME)
        assert raid["Health"] == VDS_H_FAILED_REDUNDANCY, raid
        members = [m for pl in raid["Plexes"] for m in pl[3]]
        assert (disk_path(guid), 2**64 - 1, 96256 * 512) in members, members
        # The other volumes of the pack and the other pack are untouched.
        v1 = bus.props(volume_path(X.PACK_2003["volumes"]["Volume1"][0]), IFACE_VOLUME)
        assert v1["Health"] == VDS_H_HEALTHY, v1
        check_pack(ctx, X.PACK_2008, ctx.images)
        assert len(bus.prop(MANAGER, IFACE_MANAGER, "Disks")) == 19
    finally:
        ctx.stop(d)


@tap.test
def unreadable_gpt_is_named_in_the_log(ctx):
    """A GPT disk whose primary and backup headers are both gone cannot be read, and the
    journal says why (structure, disk, offset), not just "Bad message"."""
    mkldm, work = ctx.mkldm_workdir("gpt-gone")
    imgs = [os.path.join(work, "g%d.img" % i) for i in (1, 2)]
    r = subprocess.run([mkldm, "--gpt", "--name", "GptGone", "--create", "64M", "--volume", "mirror:8M"] + imgs,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    zero_sector(imgs[0], 1)
    zero_sector(imgs[0], 64 * 1024 * 1024 // 512 - 1)
    d = ctx.start(imgs)
    try:
        wait_until(lambda: "Failed to probe %s" % imgs[0] in d.output(), 10, "the probe failure in the log")
        line = [ln for ln in d.output().splitlines() if "Failed to probe %s" % imgs[0] in ln][0]
        assert "GPT at %s+0x" % imgs[0] in line and "bad too" in line, line
    finally:
        ctx.stop(d)


@tap.test
def corrupt_database(ctx):
    ctx.stop_full()
    work = os.path.join(ctx.dir, "corrupt")
    os.makedirs(work, exist_ok=True)
    imgs = []
    for _, img in X.PACK_2008["disks"].values():
        copy_sparse(ctx.image(img), os.path.join(work, img))
        imgs.append(os.path.join(work, img))
    victim = os.path.join(work, "ldm-2008r2-mirrored-1.img")
    zero_sector(victim, X.MBR_VMDB_SECTOR)
    d = ctx.start(imgs)
    try:
        bus = ctx.bus
        guid = X.PACK_2008["disks"]["Disk5"][0]
        disk = bus.props(disk_path(guid), IFACE_DISK)
        diag("corrupt disk: %s" % disk)
        assert disk["Device"] == victim, disk
        packs = bus.prop(MANAGER, IFACE_MANAGER, "Packs")
        if disk["Pack"] == "/org/ldmd1/pack/invalid":
            assert "/org/ldmd1/pack/invalid" in packs, packs
            inv = bus.props("/org/ldmd1/pack/invalid", IFACE_PACK)
            assert inv["Name"] == "INVALID" and disk_path(guid) in inv["Disks"], inv
        else:
            assert disk["Health"] != VDS_H_HEALTHY or disk["DatabaseStale"], disk
        # The pack itself lives on from the other eight disks.
        p = bus.props(pack_path(X.PACK_2008["guid"]), IFACE_PACK)
        assert p["Name"] == X.PACK_2008["name"] and disk_path(guid) in p["Disks"], p
        other = bus.props(disk_path(X.PACK_2008["disks"]["Disk6"][0]), IFACE_DISK)
        assert other["Status"] == VDS_DS_ONLINE, other
        mirror = bus.props(volume_path(X.PACK_2008["volumes"]["Volume3"][0]), IFACE_VOLUME)
        diag("mirror with the corrupt disk: health %d" % mirror["Health"])
    finally:
        ctx.stop(d)


@tap.test
def image_removed_and_back_signals(ctx):
    """Without udev, Rescan() notices a vanished image: the disk turns MISSING, the mirror
    loses redundancy, and the signals say so; the image's return heals it."""
    ctx.stop_full()
    work = os.path.join(ctx.dir, "vanish")
    os.makedirs(work, exist_ok=True)
    imgs = []
    for _, img in X.PACK_2008["disks"].values():
        copy_sparse(ctx.image(img), os.path.join(work, img))
        imgs.append(os.path.join(work, img))
    d = ctx.start(imgs)
    try:
        bus = ctx.bus
        sigs = []
        sub = bus.subscribe(sigs)
        vol = volume_path(X.PACK_2008["volumes"]["Volume3"][0])
        disk = disk_path(X.PACK_2008["disks"]["Disk6"][0])
        gone = os.path.join(work, "ldm-2008r2-mirrored-2.img")
        os.rename(gone, gone + ".away")
        bus.call(MANAGER, IFACE_MANAGER, "Rescan")

        def changed(path, iface, prop):
            return [s[3][1][prop] for s in sigs if s[0] == path and s[2] == "PropertiesChanged"
                    and s[3][0] == iface and prop in s[3][1]]
        wait_until(lambda: changed(vol, IFACE_VOLUME, "Health"), 5, "Volume3 Health change")
        assert changed(vol, IFACE_VOLUME, "Health")[-1] == VDS_H_FAILED_REDUNDANCY, sigs
        assert changed(disk, IFACE_DISK, "Status")[-1] == VDS_DS_MISSING, sigs
        assert changed(disk, IFACE_DISK, "Device")[-1] == "", sigs
        assert bus.prop(vol, IFACE_VOLUME, "Health") == VDS_H_FAILED_REDUNDANCY
        # Coalesced: one PropertiesChanged per object and interface for this change.
        n = len([s for s in sigs if s[0] == vol and s[2] == "PropertiesChanged"])
        assert n == 1, sigs

        del sigs[:]
        os.rename(gone + ".away", gone)
        bus.call(MANAGER, IFACE_MANAGER, "Rescan")
        wait_until(lambda: changed(vol, IFACE_VOLUME, "Health"), 5, "Volume3 to heal")
        assert changed(vol, IFACE_VOLUME, "Health")[-1] == VDS_H_HEALTHY, sigs
        assert changed(disk, IFACE_DISK, "Status")[-1] == VDS_DS_ONLINE, sigs
        assert bus.prop(disk, IFACE_DISK, "Device") == gone

        # All images gone: the pack and its objects are removed (InterfacesRemoved).
        del sigs[:]
        for i in imgs:
            os.rename(i, i + ".away")
        bus.call(MANAGER, IFACE_MANAGER, "Rescan")
        wait_until(lambda: [s for s in sigs if s[2] == "InterfacesRemoved" and s[3][0] == pack_path(X.PACK_2008["guid"])],
                   5, "the pack to be removed")
        removed = {s[3][0] for s in sigs if s[2] == "InterfacesRemoved"}
        assert len(removed) == 1 + 9 + 5, removed
        assert bus.prop(MANAGER, IFACE_MANAGER, "Packs") == []
        for i in imgs:
            os.rename(i + ".away", i)
        del sigs[:]
        bus.call(MANAGER, IFACE_MANAGER, "Rescan")
        wait_until(lambda: len({s[3][0] for s in sigs if s[2] == "InterfacesAdded"}) == 15, 5,
                   "the pack to come back")
        added = [s for s in sigs if s[2] == "InterfacesAdded" and s[3][0] == vol]
        assert added[0][3][1][IFACE_VOLUME]["Name"] == "Volume3", added
        bus.conn.signal_unsubscribe(sub)
    finally:
        ctx.stop(d)


@tap.test
def ambiguous_pack_name(ctx):
    mkldm, work = ctx.mkldm_workdir("ambiguous")
    imgs = []
    for i in (1, 2):
        a, b = os.path.join(work, "p%d-a.img" % i), os.path.join(work, "p%d-b.img" % i)
        r = subprocess.run([mkldm, "--name", "Twin-Dg0", "--create", "32M", "--volume", "mirror:8M",
                            a, b], capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError("mkldm failed: %s%s" % (r.stdout, r.stderr))
        imgs += [a, b]
    d = ctx.start(imgs)
    try:
        packs = ctx.bus.prop(MANAGER, IFACE_MANAGER, "Packs")
        assert len(packs) == 2, packs
        ids = [ctx.bus.prop(p, IFACE_PACK, "Id") for p in packs]
        name, msg = ctx.bus.call_error(MANAGER, IFACE_MANAGER, "GetPackByName", ("Twin-Dg0",), "(s)")
        assert name == "org.ldmd1.Error.Ambiguous", (name, msg)
        assert all(i in msg for i in ids), (msg, ids)
        for p, i in zip(packs, ids):
            assert ctx.bus.call(MANAGER, IFACE_MANAGER, "GetPackById", (i,), "(s)") == (p,)
    finally:
        ctx.stop(d)


@tap.test
def configuration(ctx):
    ctx.stop_full()
    conf = os.path.join(ctx.dir, "ldmd.conf")
    with open(conf, "w") as f:
        f.write("# test\n[Daemon]\nAutoRecover=yes\nWorkerThreads=4\nSomethingNew=1\n")
    d = ctx.start([ctx.image("ldm-2003r2-simple-1.img")], ["--config=" + conf])
    try:
        assert ctx.bus.prop(MANAGER, IFACE_MANAGER, "AutoRecover") is True
        assert "%s:5: unknown key SomethingNew=" % conf in d.output(), d.output()
    finally:
        ctx.stop(d)
    with open(conf, "w") as f:
        f.write("[Daemon]\n\nWorkerThreads=lots\n")
    r = subprocess.run([LDMD, "--bus=" + ctx.bus.address, "--no-udev", "--config=" + conf],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode != 0 and "%s:3:" % conf in r.stderr and "WorkerThreads" in r.stderr, r.stderr
    r = subprocess.run([LDMD, "--no-udev", "--config=" + conf + ".missing"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode != 0 and ".missing" in r.stderr, r.stderr
    r = subprocess.run([LDMD, "--frobnicate"], capture_output=True, text=True, timeout=10)
    assert r.returncode != 0, r
    r = subprocess.run([LDMD, "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and "--image=PATH" in r.stdout, r


@tap.test
def no_disks_and_sigint(ctx):
    ctx.stop_full()
    d = ctx.start([])
    try:
        assert ctx.bus.prop(MANAGER, IFACE_MANAGER, "Packs") == []
        assert ctx.bus.prop(MANAGER, IFACE_MANAGER, "Disks") == []
    finally:
        d.stop(signal.SIGINT)
    wait_until(lambda: ctx.bus.name_owner() is None, 10, "org.ldmd1 to be released")
    # A non-LDM file is ignored quietly.
    junk = os.path.join(ctx.dir, "junk.img")
    with open(junk, "wb") as f:
        f.truncate(4 * 1024 * 1024)
    d = ctx.start([junk])
    try:
        assert ctx.bus.prop(MANAGER, IFACE_MANAGER, "Disks") == []
    finally:
        ctx.stop(d)


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
