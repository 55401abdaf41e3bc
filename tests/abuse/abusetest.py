# SPDX-License-Identifier: LGPL-2.1-or-later
"""abusetest: what the abuse tests share on top of tests/daemon/ldmdtest.py (the private
system-type bus and ldmd on it): an mkldm pack of sparse image files filled with known data
(ldm-testtool), ldmd started and stopped with the same --state-dir across SIGKILLs, the
judges (ldm-testtool sha256, ldmcheck --data --strict), and ldmd's resident memory."""

import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))

import ldmdtest  # noqa: E402
from ldmdtest import (  # noqa: E402
    BUILD_ROOT, IFACE_MANAGER, IFACE_PACK, IFACE_VOLUME, LDMCHECK, LDMD, MANAGER, VDS_H_HEALTHY,
    Ldmd, Skip, wait_until)

MIB = 1024 * 1024
TESTTOOL = os.environ.get("LDM_TESTTOOL") or os.path.join(BUILD_ROOT, "tests", "ldm-testtool")
MKLDM = os.environ.get("LDM_MKLDM") or os.path.join(BUILD_ROOT, "tools", "mkldm")
ABUSER = os.environ.get("LDM_BUS_ABUSER") or os.path.join(BUILD_ROOT, "tests", "abuse", "bus-abuser")

# The private bus as ldmdtest configures it, but with room for a thousand clients of one user
# (dbus-daemon's built-in default is 256 connections per user; the point here is that all of
# them reach ldmd) and for the 10 MB arguments and replies of the abuse test.
BUS_LIMITS = """  <limit name="max_completed_connections">4096</limit>
  <limit name="max_connections_per_user">4096</limit>
  <limit name="max_incomplete_connections">1024</limit>
  <limit name="max_message_size">67108864</limit>
  <limit name="max_incoming_bytes">268435456</limit>
  <limit name="max_outgoing_bytes">268435456</limit>
  <limit name="max_replies_per_connection">65536</limit>
  <limit name="reply_timeout">600000</limit>
"""
if "max_connections_per_user" not in ldmdtest.BUS_CONFIG:
    ldmdtest.BUS_CONFIG = ldmdtest.BUS_CONFIG.replace("<auth>EXTERNAL</auth>",
                                                      "<auth>EXTERNAL</auth>\n" + BUS_LIMITS)


def testtool(*args):
    r = subprocess.run([TESTTOOL] + [str(a) for a in args], capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("ldm-testtool %s failed (%d): %s" % (" ".join(map(str, args)), r.returncode,
                                                                    r.stderr))
    return r.stdout


def sha256(volume, images):
    return testtool("sha256", volume, *images).split()[0]


def ldmcheck_strict(images):
    r = subprocess.run([LDMCHECK, "--data", "--strict"] + list(images), capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("ldmcheck --data --strict failed (%d):\n%s%s" % (r.returncode, r.stdout, r.stderr))


def make_pack(directory, name, disk_size, mirror_size, raid5_size):
    """Three sparse images with a mirror `Mirror` (disks 1, 2) and a RAID-5 `Parity` (disks
    1-3), both filled with a seeded pattern. Returns (images, {volume: sha256})."""
    if not os.access(MKLDM, os.X_OK) or not os.access(TESTTOOL, os.X_OK):
        raise Skip("mkldm or ldm-testtool not built")
    imgs = [os.path.join(directory, "d%d.img" % i) for i in (1, 2, 3)]
    r = subprocess.run([MKLDM, "--name", name, "--create", disk_size,
                        "--volume", "mirror:%s:Mirror@1,2" % mirror_size,
                        "--volume", "raid5:%s:Parity@1,2,3" % raid5_size] + imgs,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    testtool("fill", "Mirror", 1, *imgs)
    testtool("fill", "Parity", 2, *imgs)
    return imgs, {v: sha256(v, imgs) for v in ("Mirror", "Parity")}


def break_pack(imgs):
    """Plex 2 of Mirror and column 3 of Parity stale and overwritten with garbage."""
    testtool("stale-plex", "Mirror", 1, *imgs)
    testtool("stale-column", "Parity", 2, *imgs)


def assert_whole(bus, pack, imgs, gold):
    """The bus, the volumes' bytes and the independent judge agree the pack is whole."""
    p = bus.props(pack, IFACE_PACK)
    assert p["Health"] == VDS_H_HEALTHY and p["ActiveJob"] == "/", p
    for v in p["Volumes"]:
        vp = bus.props(v, IFACE_VOLUME)
        assert vp["Health"] == VDS_H_HEALTHY, vp
    for name, sha in gold.items():
        got = sha256(name, imgs)
        assert got == sha, "%s: sha256 %s, reference %s" % (name, got, sha)
    ldmcheck_strict(imgs)


class Daemon:
    """Starts ldmd on `bus` with a fixed config and state directory, any number of times."""

    def __init__(self, bus, directory, images, conf="", env=None, wrapper=()):
        self.bus = bus
        self.dir = directory
        self.images = images
        self.state = os.path.join(directory, "state")
        self.conf = os.path.join(directory, "ldmd.conf")
        with open(self.conf, "w") as f:
            f.write("[Daemon]\n" + conf)
        self.env = env
        self.wrapper = list(wrapper)
        self.n = 0
        self.d = None

    def start(self, timeout=20.0):
        self.n += 1
        args = ["--no-udev", "--config=" + self.conf, "--state-dir=" + self.state] + \
            ["--image=" + i for i in self.images]
        log = os.path.join(self.dir, "ldmd-%d.log" % self.n)
        # Like ldmdtest.Ldmd, but with room for a wrapper (valgrind) in front of ldmd.
        d = Ldmd.__new__(Ldmd)
        d.bus, d.log_path, d.log = self.bus, log, open(log, "w")
        env = dict(os.environ)
        env.setdefault("LDMD_LOG_LEVEL", "debug")
        env.update(self.env or {})
        d.proc = subprocess.Popen(self.wrapper + [LDMD, "--bus=" + self.bus.address] + args,
                                  stdout=d.log, stderr=subprocess.STDOUT, env=env)
        self.d = d
        self.d.wait_ready(timeout)
        return self.d

    @property
    def pid(self):
        return self.d.proc.pid

    def kill(self):
        self.d.proc.kill()
        self.d.proc.wait()
        self.d.log.close()
        wait_until(lambda: self.bus.name_owner() is None, 10, "org.ldmd1 to be released")

    def stop(self, timeout=30):
        """SIGTERM; asserts exit status 0 (under ASan with detect_leaks=1 a leak fails it)."""
        self.d.stop(signal.SIGTERM, timeout)
        wait_until(lambda: self.bus.name_owner() is None, 10, "org.ldmd1 to be released")


def pack_of(bus, name):
    return bus.call(MANAGER, IFACE_MANAGER, "GetPackByName", (name,), "(s)")[0]


def rss_kib(pid):
    """Resident anonymous memory (heap, stacks): what a leak grows. File-backed pages (the
    binary, libraries) come and go with the host's page cache and are left out."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    raise AssertionError("no RssAnon for pid %d" % pid)


def timed(fn):
    t = time.monotonic()
    v = fn()
    return v, time.monotonic() - t
