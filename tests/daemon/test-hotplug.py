#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Hot-plug with the real systemd-udevd and loop devices (suite root): ldmd watches block
devices; the disks of a pack are attached one by one and appear ONLINE; one leg of a mirror
is detached and, within 1 s of udev's event, the disk is MISSING and the volume's Health
FAILED_REDUNDANCY; re-attached, everything is healthy again. TAP on stdout."""

import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import expected as X  # noqa: E402
from ldmdtest import (  # noqa: E402
    IFACE_DISK, IFACE_MANAGER, IFACE_PACK, IFACE_VOLUME, LDMD, MANAGER, VDS_DS_MISSING,
    VDS_DS_ONLINE, VDS_H_FAILED_REDUNDANCY, VDS_H_HEALTHY, VDS_VT, Ldmd, PrivateBus, Skip, Tap,
    copy_sparse, diag, disk_path, pack_path, require_program, require_root, tmpdir,
    unpack_real_images, volume_path, wait_until)

UDEVD = "/lib/systemd/systemd-udevd"
MAX_LATENCY = 1.0
tap = Tap()


class UdevMonitor:
    """`udevadm monitor` in the background: CLOCK_MONOTONIC time of each udev event."""

    LINE = re.compile(r"^UDEV\s+\[(\d+\.\d+)\]\s+(\w+)\s+(\S+)")

    def __init__(self):
        self.events = []
        self.proc = subprocess.Popen(["stdbuf", "-oL", "udevadm", "monitor", "--udev",
                                      "--subsystem-match=block"],
                                     stdout=subprocess.PIPE, text=True)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        time.sleep(0.2)  # let it subscribe before anything happens

    def _read(self):
        for line in self.proc.stdout:
            m = self.LINE.match(line)
            if m:
                self.events.append((float(m.group(1)), m.group(2), m.group(3)))

    def find(self, action, sysname, after):
        for t, a, dev in self.events:
            if a == action and dev.endswith("/" + sysname) and t >= after:
                return t
        return None

    def stop(self):
        self.proc.terminate()
        self.proc.wait(5)


def udevd_running():
    return subprocess.run(["udevadm", "control", "--ping"], capture_output=True).returncode == 0


def losetup(image):
    return subprocess.run(["losetup", "-f", "--show", image], check=True, capture_output=True,
                          text=True).stdout.strip()


def detach(dev):
    subprocess.run(["losetup", "-d", dev], check=True)


@tap.test
def hotplug_mirror_leg():
    require_root()
    for p in ("losetup", "udevadm", "stdbuf", UDEVD):
        require_program(p)
    if not os.access(LDMD, os.X_OK):
        raise Skip("ldmd not built")

    started_udevd = None
    loops = []
    d = bus = mon = None
    work = tmpdir()
    try:
        if not udevd_running():
            started_udevd = subprocess.Popen([UDEVD], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_until(udevd_running, 10, "systemd-udevd to answer")
        # A private copy of the 2008 R2 pack (MBR and GPT disks, mirror, RAID-5).
        images = unpack_real_images(os.path.join(work, "real"))
        imgs = []
        for name, (_, img) in X.PACK_2008["disks"].items():
            copy_sparse(os.path.join(images, img), os.path.join(work, img))
            imgs.append(os.path.join(work, img))
        for line in subprocess.run(["losetup", "-a"], capture_output=True, text=True).stdout.splitlines():
            if "ldm-2008r2-" in line:
                raise Skip("another loop device already carries a copy of the 2008 pack: %s" % line)

        bus = PrivateBus(work)
        d = Ldmd(bus, ["--config=/dev/null"], os.path.join(work, "ldmd.log"))
        sigs = []
        bus.subscribe(sigs)
        mon = UdevMonitor()

        # Attach one by one; each disk shows up ONLINE with its loop device.
        for name, (guid, img) in X.PACK_2008["disks"].items():
            dev = losetup(os.path.join(work, img))
            loops.append(dev)
            path = disk_path(guid)

            def online(path=path, dev=dev):
                try:
                    p = bus.props(path, IFACE_DISK)
                except Exception:  # noqa: BLE001 - not there yet
                    return False
                return p["Device"] == dev and p["Status"] == VDS_DS_ONLINE
            wait_until(online, 10, "%s on %s to be ONLINE" % (name, dev))
        pack = pack_path(X.PACK_2008["guid"])
        assert pack in bus.prop(MANAGER, IFACE_MANAGER, "Packs")
        assert bus.prop(pack, IFACE_PACK, "Name") == X.PACK_2008["name"]
        for vname, (vguid, vtype, size, _) in X.PACK_2008["volumes"].items():
            v = bus.props(volume_path(vguid), IFACE_VOLUME)
            assert v["Health"] == VDS_H_HEALTHY and v["Type"] == VDS_VT[vtype], (vname, v)
        added = {s[3][0] for s in sigs if s[2] == "InterfacesAdded"}
        assert pack in added and volume_path(X.PACK_2008["volumes"]["Volume3"][0]) in added, added

        # Detach the second leg of the mirror (Disk6, GPT).
        vol = volume_path(X.PACK_2008["volumes"]["Volume3"][0])
        leg = list(X.PACK_2008["disks"]).index("Disk6")
        dev = loops[leg]
        del sigs[:]
        t0 = time.monotonic()
        detach(dev)
        loops[leg] = None

        def degraded():
            return [time.monotonic() for s in sigs if s[0] == vol and s[2] == "PropertiesChanged"
                    and s[3][1].get("Health") == VDS_H_FAILED_REDUNDANCY]
        t_sig = wait_until(degraded, 5, "Volume3 to lose redundancy")[0]
        t_ev = wait_until(lambda: mon.find("change", os.path.basename(dev), t0) or
                          mon.find("remove", os.path.basename(dev), t0), 5, "udev's event for " + dev)
        diag("detach %s: udev event after %.3fs, Health signal %.3fs after the event"
             % (dev, t_ev - t0, t_sig - t_ev))
        assert t_sig - t_ev <= MAX_LATENCY, "%.3fs from udev event to signal" % (t_sig - t_ev)
        disk6 = bus.props(disk_path(X.PACK_2008["disks"]["Disk6"][0]), IFACE_DISK)
        assert disk6["Status"] == VDS_DS_MISSING and disk6["Device"] == "", disk6
        assert bus.prop(vol, IFACE_VOLUME, "Health") == VDS_H_FAILED_REDUNDANCY
        # The objects stayed: no InterfacesRemoved for anything of this pack. (Other tests may
        # attach and detach loop devices of other packs at the same time: those may come and go.)
        ours = {pack, disk_path(X.PACK_2008["disks"]["Disk6"][0])}
        ours |= {volume_path(v[0]) for v in X.PACK_2008["volumes"].values()}
        assert not [s for s in sigs if s[2] == "InterfacesRemoved" and s[3][0] in ours], sigs

        # Re-attach: ONLINE again, healthy again.
        del sigs[:]
        dev = losetup(os.path.join(work, X.PACK_2008["disks"]["Disk6"][1]))
        loops[leg] = dev

        def healed():
            return [s for s in sigs if s[0] == vol and s[2] == "PropertiesChanged"
                    and s[3][1].get("Health") == VDS_H_HEALTHY]
        wait_until(healed, 5, "Volume3 to be healthy again")
        disk6 = bus.props(disk_path(X.PACK_2008["disks"]["Disk6"][0]), IFACE_DISK)
        assert disk6["Status"] == VDS_DS_ONLINE and disk6["Device"] == dev, disk6
        assert d.alive(), d.output()
    finally:
        for dev in loops:
            if dev:
                subprocess.run(["losetup", "-d", dev])
        if mon:
            mon.stop()
        if d:
            d.stop()
        if bus:
            bus.stop()
        if started_udevd:
            started_udevd.terminate()
            started_udevd.wait(10)
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(tap.run())
