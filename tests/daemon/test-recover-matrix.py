#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Recover matrix (issue 4): packs × damage, each repaired by Pack.Recover over D-Bus and
then judged by everything that can read a pack.

Packs: copies of the real Windows 2008 R2 pack (MBR and GPT disks) and 2003 R2 pack (MBR),
and packs made by mkldm (MBR, GPT) and by ldm-testtool mixed-pack (MBR and GPT alternating),
their volumes filled with a pattern and checksummed before any damage. Damage, through
ldm-testtool (tests/lib/ldm-damage.h): one disk's database copy rolled back (and its
redundant data scribbled), one PRIVHEAD / TOCBLOCK / VMDB copy corrupt, a transaction left
in flight before the commit point (rolled back) and after it (rolled forward), a mirror plex
stale and overwritten, a RAID-5 column stale and overwritten, RAID-5 parity stale.

Each case: break the pack's images, Manager.Rescan, Pack.Recover, Job.Wait → S_OK; then
  * the bus: pack, every disk, volume and plex healthy, every disk's copy current, both as
    the job left it and after a Rescan reads the disks afresh;
  * every volume's sha256 (read by our reader) equals the gold value of EXPECTED.md or the
    reference taken before the damage;
  * the config and log regions of all disks are byte-identical (read here from each disk's
    PRIVHEAD and TOCBLOCK, sharing no code with ldmd);
  * ldmcheck --data --strict exits 0 (it also compares mirror plexes byte for byte and checks
    RAID-5 parity on every stripe);
  * Debian's ldmtool sees the pack with every disk, volume and partition where our reader
    puts them;
  * the kernel's own LDM parser (kernel-ldm, qemu) accepts every MBR disk and makes exactly
    our extents its partitions; the recovered MBR images of many cases share a boot
    (≤ 24 images per call) that runs in the background while later cases go on.

One ldmd serves each pack family: every case restores the family's pristine images in place
(cp --sparse=always), breaks them, and asks for a Rescan.

  test-recover-matrix.py [--quick]
--quick (suite daemon): three cases on the real 2008 R2 pack. Without it (suite slow): all
packs × all cases. $LDM_MATRIX_ONLY=family[/case],… limits the run; $LDM_MATRIX_DIR sets where
the images live (default: a fresh directory under $TMPDIR). TAP on stdout."""

import hashlib
import os
import struct
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import expected as X  # noqa: E402
from ldmdtest import (  # noqa: E402
    BUILD_ROOT, IFACE_DISK, IFACE_JOB, IFACE_MANAGER, IFACE_PACK, IFACE_VOLUME, IN_CI, LDMCHECK,
    LDMD, MANAGER, S_OK, SHARED_DIR, SOURCE_ROOT, VDS_ASYNCOUT_RECOVERPACK, VDS_DS_ONLINE,
    VDS_H_HEALTHY, Ldmd, PrivateBus, Skip, Tap, copy_sparse, diag, tmpdir, unpack_real_images,
    wait_until)

TESTTOOL = os.environ.get("LDM_TESTTOOL") or os.path.join(BUILD_ROOT, "tests", "ldm-testtool")
MKLDM = os.path.join(BUILD_ROOT, "tools", "mkldm")
KERNEL_LDM = os.path.join(SHARED_DIR, "tools", "kernel-ldm")
PACK_LINES = os.path.join(SOURCE_ROOT, "tests", "writer", "pack-lines.sh")
KERNEL_BATCH = 24
MIB = 1024 * 1024
VDS_VT_MIRROR, VDS_VT_PARITY = 13, 14  # VDS_VOLUME_TYPE ([MS-VDS] §2.2.2.8.1.1.2)

GOLD_2008 = {
    "Volume1": "8d6b04d858aefa751855f925ab71de5a8203564691fa70b8bc8b250b83629f43",
    "Volume2": "8d106036e1d035e227834cbc1008ce0922fbeeb51048b5e172c39591a921d30d",
    "Volume3": "cd3a7a1c5e851b411390a0d7385e256fc987757e6e8ca4f490d1672d75ddfb2f",
    "Volume4": "0095f2221f15a769887b4dff28e32cb1df79a4406cb36ee54528c2320a5a2dd8",
    "Volume5": "1a757c59a8c9e67916d6564295b4e2db8db6badfa889d06302b46f77bd3730c0",
}
GOLD_2003 = {
    "Volume1": "6b5398dca1f9671f6e483ceb2491a76a74aa33dc2e3f30147efe2720ffe7bb3a",
    "Volume2": "125be910bcd26819400f505323d777d2a7d06d7017237adf61848bafd5c55278",
    "Stripe1": "4d09261ddb47c1ad0625326032b6a1e86f9a24192cecab10c59dc7c4ee673ddb",
    "Volume3": "b0aec653c2eb833d937b58bbf1d52fad836465faa771225e7d5be8f8e542763b",
    "Raid1": "4f9ff1f8e6e7684c6e2f7856ae38c76212f4090eded9c3af8b652be55c718f97",
    "Volume4": "0610313ce7e5c74dc12685195570231838db1bc72c26f07bef246338ef0e4263",
}
# The mkldm families: 4 disks of 64 MiB; disk 2 carries a plex and a column.
MKLDM_VOLUMES = ["mirror:16M:Mirror@1,2", "raid5:24M:Parity@2,3,4", "span:6M:Span@4,1"]

LDM_METADATA_TYPE = uuid.UUID("5808c8aa-7e8f-42e0-85d2-e1e90434cfb3")


# ---------------------------------------------------------------------------------------------
# Tools

def run(argv, what=None, env=None):
    r = subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise AssertionError("%s failed (%d): %s%s" % (what or argv[0], r.returncode, r.stdout[-2000:],
                                                        r.stderr[-2000:]))
    return r.stdout


def testtool(*args):
    return run([TESTTOOL] + list(args), "ldm-testtool %s" % args[0])


def volume_sha256(volume, images):
    return testtool("sha256", volume, *images).split()[0]


def scribble(path, offset, length, seed):
    """Overwrites length bytes at offset with bytes that are surely not what was there."""
    block = hashlib.sha256(b"matrix-%d" % seed).digest() * (MIB // 32)
    with open(path, "r+b") as f:
        f.seek(offset)
        left = length
        while left:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n


# ---------------------------------------------------------------------------------------------
# The database regions, read without ldmd's code (ldm-format.md §2, §4.1, §5)

def _be64(b, off):
    return struct.unpack_from(">Q", b, off)[0]


def privhead_sector(f):
    """LBA of a PRIVHEAD copy: 6 on MBR disks, metadata partition + 1856 on GPT disks."""
    f.seek(0)
    mbr = f.read(512)
    assert mbr[510:512] == b"\x55\xaa", "no MBR signature"
    if mbr[446 + 4] != 0xEE:
        return 6
    f.seek(512)
    hdr = f.read(512)
    assert hdr[:8] == b"EFI PART", "no GPT header"
    entries, count, size = struct.unpack_from("<QII", hdr, 0x48)
    f.seek(entries * 512)
    table = f.read(count * size)
    for i in range(count):
        e = table[i * size:(i + 1) * size]
        if uuid.UUID(bytes_le=bytes(e[:16])) == LDM_METADATA_TYPE:
            return struct.unpack_from("<Q", e, 0x20)[0] + 1856
    raise AssertionError("GPT without an LDM metadata partition")


def database_regions(path):
    """{"config": bytes, "log": bytes} of one disk, as its PRIVHEAD and current TOCBLOCK place
    them."""
    with open(path, "rb") as f:
        f.seek(privhead_sector(f) * 512)
        ph = f.read(512)
        assert ph[:8] == b"PRIVHEAD", "%s: no PRIVHEAD" % path
        priv = _be64(ph, 0x12B)
        f.seek((priv + _be64(ph, 0x13B)) * 512)
        toc = f.read(512)
        assert toc[:8] == b"TOCBLOCK", "%s: no TOCBLOCK at PRIVHEAD 0x13B" % path
        out = {}
        for off in (0x24, 0x46):
            name = toc[off:off + 8].rstrip(b"\0").decode()
            start, size = _be64(toc, off + 0x0A), _be64(toc, off + 0x12)
            f.seek((priv + start) * 512)
            out[name] = f.read(size * 512)
        assert len(out.get("config", b"")) == _be64(ph, 0x153) * 512, "%s: config size" % path
        assert len(out.get("log", b"")) == _be64(ph, 0x15B) * 512, "%s: log size" % path
        return out


def assert_databases_identical(images):
    ref = database_regions(images[0])
    for img in images[1:]:
        other = database_regions(img)
        for name in ("config", "log"):
            if other[name] != ref[name]:
                first = next(i for i, (a, b) in enumerate(zip(ref[name], other[name])) if a != b)
                raise AssertionError("%s region of %s differs from %s's at byte %d" % (
                    name, os.path.basename(img), os.path.basename(images[0]), first))


def is_mbr_disk(path):
    with open(path, "rb") as f:
        return privhead_sector(f) == 6


# ---------------------------------------------------------------------------------------------
# The independent judges

def ldmcheck_strict(images):
    r = subprocess.run([LDMCHECK, "--data", "--strict"] + list(images), capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("ldmcheck --data --strict failed (%d):\n%s%s" % (r.returncode, r.stdout, r.stderr))


def ldmtool_extents(images):
    """What ldmtool sees: (group name, {disk path}, {volume: sectors}, {(path, abs sector,
    sectors)})."""
    env = dict(os.environ)
    env.pop("G_DEBUG", None)
    out = run(["sh", PACK_LINES, "ldmtool"] + list(images), "pack-lines.sh ldmtool", env=env)
    group, disks, volumes, parts = None, {}, {}, set()
    raw_parts = []
    for line in out.splitlines():
        w = line.split()
        if w[0] == "group":
            group = w[1]
        elif w[0] == "disk":
            disks[w[1]] = (w[3], int(w[4]))  # name → (path, data start)
        elif w[0] == "volume":
            volumes[w[1]] = int(w[4])
        elif w[0] == "partition":
            raw_parts.append((w[4], int(w[2]), int(w[3])))
    for disk, start, size in raw_parts:
        assert disk in disks, "ldmtool lists a partition on %s, a disk it does not show:\n%s" % (disk, out)
        path, data_start = disks[disk]
        parts.add((path, data_start + start, size))
    return group, {p for p, _ in disks.values()}, volumes, parts


class KernelJudge:
    """Batches recovered MBR images into kernel-ldm boots (24 images each, the most it takes;
    a case's images may span two boots), one boot at a time in the background, and collects
    what did not match. A disk that does not match is booted once more on its own batch before
    it counts: under heavy load kernel-ldm has once tagged one partition of an accepted disk
    "plain" (a line of the serial console's output garbled), and a real fault repeats."""

    def __init__(self):
        self.pending = []     # (case, image, {expected part lines})
        self.running = None   # (Popen, batch, start time, retry)
        self.retry = []
        self.left = {}        # stage dir → images not judged yet
        self.failures = []
        self.flakes = []
        self.calls = 0
        self.seconds = 0.0
        self.unavailable = None

    def add(self, case, images, want, stage):
        self.left[stage] = len(images)
        for img in images:
            self.pending.append((case, img, {w for w in want if w.split()[1] == img}))
        self._poll(block=False)
        if len(self.pending) >= KERNEL_BATCH:
            self._poll(block=True)
            self._launch()

    def _launch(self, retry=False):
        queue = self.retry if retry else self.pending
        batch = queue[:KERNEL_BATCH]
        del queue[:KERNEL_BATCH]
        if not batch:
            return
        argv = [KERNEL_LDM] + [img for _, img, _ in batch]
        self.running = (subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
                        batch, time.monotonic(), retry)
        self.calls += 1

    def _judged(self, img):
        stage = os.path.dirname(img)
        self.left[stage] -= 1
        if self.left[stage] == 0:
            subprocess.run(["rm", "-rf", stage])

    def _poll(self, block):
        if not self.running:
            return
        proc, batch, t0, retry = self.running
        if not block and proc.poll() is None:
            return
        out, err = proc.communicate()
        self.seconds += time.monotonic() - t0
        self.running = None
        if proc.returncode != 0:
            if proc.returncode == 2:
                self.unavailable = err.strip()
            for case, img, _ in batch:
                self.failures.append("%s: kernel-ldm exited %d: %s" % (case, proc.returncode, err.strip()))
                self._judged(img)
            return
        got = {line for line in out.splitlines() if line.startswith("part ")}
        msgs = "\n".join(line for line in out.splitlines() if line.startswith("msg "))
        for case, img, want in batch:
            mine = {line for line in got if line.split()[1] == img}
            if mine == want:
                if retry:
                    self.flakes.append("%s: %s" % (case, os.path.basename(img)))
                self._judged(img)
            elif not retry:
                self.retry.append((case, img, want))
            else:
                self.failures.append("%s: kernel-ldm made %s, our reader has %s (twice)\n%s%s" % (
                    case, sorted(mine - want), sorted(want - mine), err, msgs))
                self._judged(img)

    def finish(self):
        self._poll(block=True)
        while self.pending or self.retry:
            if self.pending:
                self._launch()
            else:
                self._launch(retry=True)
            self._poll(block=True)


# ---------------------------------------------------------------------------------------------
# Pack families

REAL_2008_IMAGES = [img for _, img in X.PACK_2008["disks"].values()]
REAL_2003_IMAGES = [img for _, img in X.PACK_2003["disks"].values()]

# Where each family's damage goes: a disk of each label where the family has both, and a
# spread over copies, plexes, columns and transaction steps across the families.
FAMILIES = {
    "real2008": dict(
        pack=X.PACK_2008["name"], images=REAL_2008_IMAGES, gold=GOLD_2008,
        rollback="ldm-2008r2-mirrored-1.img",             # MBR, Volume3 plex 0
        privhead=("privhead-lba6", "ldm-2008r2-raid5-1.img"),
        toc=("toc-primary", "ldm-2008r2-striped-2.img"),  # GPT
        vmdb="ldm-2008r2-mirrored-2.img",                 # GPT, Volume3 plex 1
        back=3, fwd=4, mirror=("Volume3", 1), column=("Volume4", 0), parity="Volume4"),
    "real2003": dict(
        pack=X.PACK_2003["name"], images=REAL_2003_IMAGES, gold=GOLD_2003,
        rollback="ldm-2003r2-mirrored-2.img",             # Volume3 plex 1
        privhead=("privhead-1856", "ldm-2003r2-raid5-2.img"),
        toc=("toc-secondary", "ldm-2003r2-spanned-1.img"),
        vmdb="ldm-2003r2-raid5-3.img",                    # Raid1 column 0
        back=1, fwd=5, mirror=("Volume3", 0), column=("Raid1", 2), parity="Raid1"),
    "mkldm-mbr": dict(
        pack="MatrixMBR-Dg0", images=["disk%d.img" % i for i in (1, 2, 3, 4)], gpt=False,
        rollback="disk2.img",                             # Mirror plex 1, Parity column 0
        privhead=("privhead-2047", "disk3.img"),
        toc=("toc-primary", "disk4.img"),
        vmdb="disk1.img",
        back=2, fwd=4, mirror=("Mirror", 0), column=("Parity", 1), parity="Parity"),
    "mkldm-gpt": dict(
        pack="MatrixGPT-Dg0", images=["disk%d.img" % i for i in (1, 2, 3, 4)], gpt=True,
        rollback="disk3.img",                             # Parity column 1
        privhead=("privhead-1856", "disk1.img"),
        toc=("toc-secondary", "disk2.img"),
        vmdb="disk4.img",
        back=3, fwd=5, mirror=("Mirror", 1), column=("Parity", 2), parity="Parity"),
    "mixed": dict(
        pack="MatrixMix-Dg0", images=["disk%d.img" % i for i in (1, 2, 3, 4)], mixed=True,
        rollback="disk1.img",                             # MBR, Mirror plex 0
        privhead=("privhead-lba6", "disk3.img"),          # MBR
        toc=("toc-secondary", "disk1.img"),
        vmdb="disk2.img",                                 # GPT
        back=1, fwd=4, mirror=("Mirror", 1), column=("Parity", 0), parity="Parity"),
}

CASES = ["rollback", "corrupt-privhead", "corrupt-toc", "corrupt-vmdb", "in-flight-back",
         "in-flight-fwd", "mirror-stale", "raid5-column", "raid5-parity"]
QUICK = [("real2008", "rollback"), ("real2008", "corrupt-privhead"), ("real2008", "raid5-parity")]
DATA_CASES = {"rollback", "mirror-stale", "raid5-column", "raid5-parity"}


class Family:
    def __init__(self, ctx, key):
        self.ctx, self.key, self.spec = ctx, key, FAMILIES[key]
        self.name = self.spec["pack"]
        self.dir = os.path.join(ctx.dir, key)
        self.pristine_dir = os.path.join(self.dir, "pristine")
        self.work_dir = os.path.join(self.dir, "work")
        self.state = os.path.join(self.dir, "state")
        for d in (self.pristine_dir, self.work_dir, self.state):
            os.makedirs(d)
        self.pristine = [os.path.join(self.pristine_dir, i) for i in self.spec["images"]]
        self.work = [os.path.join(self.work_dir, i) for i in self.spec["images"]]
        self.ldmd = None
        self.gold = self.spec.get("gold")
        self.extents = None  # {(path, abs sector, sectors)} of the healthy pack, our reader's

    def path(self, image):
        return os.path.join(self.work_dir, image)

    def make_pristine(self):
        if self.key.startswith("real"):
            for src, dst in zip(self.spec["images"], self.pristine):
                copy_sparse(os.path.join(self.ctx.images, src), dst)
            return
        if self.spec.get("mixed"):
            testtool("mixed-pack", self.name, 64, *self.pristine)
        else:
            if not os.access(MKLDM, os.X_OK):
                raise Skip("tools/mkldm not built")
            argv = [MKLDM, "--name", self.name, "--create", "64M"]
            if self.spec["gpt"]:
                argv.append("--gpt")
            for v in MKLDM_VOLUMES:
                argv += ["--volume", v]
            run(argv + self.pristine, "mkldm")
        self.gold = {}
        for seed, v in enumerate(("Mirror", "Parity", "Span"), 1):
            testtool("fill", v, seed, *self.pristine)
            self.gold[v] = volume_sha256(v, self.pristine)
        # The reference itself is healthy, so whatever a case finds is the case's doing.
        ldmcheck_strict(self.pristine)

    def restore(self):
        for src, dst in zip(self.pristine, self.work):
            copy_sparse(src, dst)
        for f in os.listdir(self.state):
            subprocess.run(["rm", "-rf", os.path.join(self.state, f)])

    def start(self):
        self.make_pristine()
        self.restore()
        ctx = self.ctx
        conf = os.path.join(self.dir, "ldmd.conf")
        with open(conf, "w") as f:
            f.write("[Daemon]\n")
        args = ["--no-udev", "--config=" + conf, "--state-dir=" + self.state] + ["--image=" + i for i in self.work]
        self.ldmd = Ldmd(ctx.bus, args, os.path.join(self.dir, "ldmd.log"))
        model = bus_model(ctx.bus, self.pack())
        assert model["health"] == VDS_H_HEALTHY, model
        self.extents = model["extents"]
        self.volumes = model["volumes"]
        self.disk_paths = {d: props["Device"] for d, props in model["disks"].items()}
        if self.key.startswith("real"):
            # Our reader's extents are where EXPECTED.md measured them.
            packx = X.PACK_2008 if self.key == "real2008" else X.PACK_2003
            want = set()
            for (_, _, _, plexes) in packx["volumes"].values():
                for plex in plexes:
                    for disk, start, size in plex:
                        want.add((self.path(packx["disks"][disk][1]), start, size))
            assert self.extents == want, (sorted(self.extents ^ want))

    def stop(self):
        if self.ldmd:
            self.ldmd.stop()
            wait_until(lambda: self.ctx.bus.name_owner() is None, 10, "org.ldmd1 to be released")
            self.ldmd = None

    def pack(self):
        return self.ctx.bus.call(MANAGER, IFACE_MANAGER, "GetPackByName", (self.name,), "(s)")[0]

    # Damage ----------------------------------------------------------------------------------

    def damage(self, case):
        s, imgs = self.spec, self.work
        if case == "rollback":
            disk = self.path(s["rollback"])
            testtool("rollback", disk, *imgs)
            # The disk that missed the transaction may have missed writes to its redundant
            # extents too: 1 MiB of them is scribbled (the gold sums prove it was rebuilt).
            member = next((p, off, size) for (p, off, size, redundant) in self.members()
                          if p == disk and redundant)
            scribble(disk, member[1] * 512 + MIB, MIB, 1)
            return "%s rolled back" % s["rollback"]
        if case in ("corrupt-privhead", "corrupt-toc"):
            what, img = s["privhead" if case == "corrupt-privhead" else "toc"]
            testtool("corrupt", what, self.path(img))
            return "%s of %s" % (what, img)
        if case == "corrupt-vmdb":
            testtool("corrupt", "vmdb", self.path(s["vmdb"]))
            return "vmdb of %s" % s["vmdb"]
        if case in ("in-flight-back", "in-flight-fwd"):
            step = s["back" if case == "in-flight-back" else "fwd"]
            testtool("in-flight", step, *imgs)
            return "stopped after step %d" % step
        if case == "mirror-stale":
            vol, plex = s["mirror"]
            testtool("stale-plex", vol, plex, *imgs)
            return "%s plex %d" % (vol, plex)
        if case == "raid5-column":
            vol, col = s["column"]
            testtool("stale-column", vol, col, *imgs)
            return "%s column %d" % (vol, col)
        if case == "raid5-parity":
            testtool("stale-parity", s["parity"], 1 << 20, *imgs)
            return "%s parity on every row" % s["parity"]
        raise AssertionError("unknown case " + case)

    def members(self):
        """(path, abs sector, sectors, redundant) of every extent of the healthy pack."""
        out = []
        for vol in self.volumes.values():
            redundant = vol["Type"] in (VDS_VT_MIRROR, VDS_VT_PARITY)
            for plex in vol["Plexes"]:
                for disk, off, length in plex[3]:
                    out.append((self.disk_paths[disk], off // 512, length // 512, redundant))
        return out


def bus_model(bus, pack):
    """The pack as ldmd publishes it: health, disks, volumes and every extent as (device path,
    absolute sector, sectors)."""
    p = bus.props(pack, IFACE_PACK)
    disks = {d: bus.props(d, IFACE_DISK) for d in p["Disks"]}
    vols = {}
    extents = set()
    for v in p["Volumes"]:
        vp = bus.props(v, IFACE_VOLUME)
        vols[vp["Name"]] = vp
        for plex in vp["Plexes"]:
            for disk, off, length in plex[3]:
                extents.add((disks[disk]["Device"], off // 512, length // 512))
    return {"props": p, "health": p["Health"], "disks": disks, "volumes": vols, "extents": extents}


# ---------------------------------------------------------------------------------------------
# One case

def assert_bus_healthy(fam, model):
    p = model["props"]
    assert p["Health"] == VDS_H_HEALTHY and p["Flags"] == 0 and p["ActiveJob"] == "/", p
    assert len(model["disks"]) == len(fam.work), model["disks"]
    for d, dp in model["disks"].items():
        assert dp["Status"] == VDS_DS_ONLINE and dp["Health"] == VDS_H_HEALTHY, (d, dp)
        assert not dp["DatabaseStale"] and dp["DatabaseSequence"] == p["CommittedSequence"], (d, dp, p)
        assert dp["Device"] in fam.work, dp
    assert set(model["volumes"]) == set(fam.gold), sorted(model["volumes"])
    for name, vp in model["volumes"].items():
        assert vp["Health"] == VDS_H_HEALTHY, vp
        for plex in vp["Plexes"]:
            assert plex[1] == VDS_H_HEALTHY, (name, plex)
    assert model["extents"] == fam.extents, sorted(model["extents"] ^ fam.extents)
    packs = fam.ctx.bus.prop(MANAGER, IFACE_MANAGER, "Packs")
    assert "/org/ldmd1/pack/invalid" not in packs, packs


def run_case(fam, case):
    ctx, bus = fam.ctx, fam.ctx.bus
    t = [time.monotonic()]
    fam.restore()
    what = fam.damage(case)
    t.append(time.monotonic())
    bus.call(MANAGER, IFACE_MANAGER, "Rescan", timeout=60000)
    pack = fam.pack()
    before = bus.prop(pack, IFACE_PACK, "Health")
    (job,) = bus.call(pack, IFACE_PACK, "Recover")
    hr, out = bus.call(job, IFACE_JOB, "Wait", timeout=300000)
    t.append(time.monotonic())
    assert hr == S_OK, "Recover ended 0x%08x %s\n%s" % (hr, out, fam.ldmd.output()[-3000:])
    assert out["type"] == VDS_ASYNCOUT_RECOVERPACK, out
    if case in DATA_CASES:
        assert out["bytes_repaired"] > 0, out

    # The judges: ldmcheck in the background (it is the slowest) while the others run.
    check = subprocess.Popen([LDMCHECK, "--data", "--strict"] + fam.work, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    try:
        # What ldmd published when the job ended, and what it reads from the disks afresh.
        assert_bus_healthy(fam, bus_model(bus, pack))
        bus.call(MANAGER, IFACE_MANAGER, "Rescan", timeout=60000)
        model = bus_model(bus, fam.pack())
        assert_bus_healthy(fam, model)
        for vol, sha in sorted(fam.gold.items()):
            assert volume_sha256(vol, fam.work) == sha, "%s differs from its reference" % vol
        assert_databases_identical(fam.work)
        group, disks, volumes, parts = ldmtool_extents(fam.work)
        assert group == fam.name, group
        assert disks == set(fam.work), sorted(disks)
        assert volumes == {n: v["Size"] // 512 for n, v in model["volumes"].items()}, volumes
        assert parts == fam.extents, ("ldmtool and our reader disagree", sorted(parts ^ fam.extents))
    finally:
        report = check.communicate()[0]
    assert check.returncode == 0, "ldmcheck --data --strict failed (%d):\n%s" % (check.returncode, report)
    t.append(time.monotonic())

    # The recovered MBR disks go to the kernel, many cases per boot.
    mbr = [i for i in fam.work if is_mbr_disk(i)]
    if mbr:
        stage = os.path.join(ctx.kernel_dir, "%s-%s" % (fam.key, case))
        os.makedirs(stage)
        staged, want = [], set()
        for img in mbr:
            dst = os.path.join(stage, os.path.basename(img))
            copy_sparse(img, dst)
            staged.append(dst)
            mine = sorted((s, n) for (p, s, n) in fam.extents if p == img)
            want |= {"part %s %d %d %d ldm" % (dst, k, s, n) for k, (s, n) in enumerate(mine, 1)}
        ctx.kernel.add("%s/%s" % (fam.key, case), staged, want, stage)
    ctx.timings.append((fam.key, case, t[1] - t[0], t[2] - t[1], t[3] - t[2]))
    diag("%s/%s (%s): health before %d; break %.1fs, recover %.1fs, judges %.1fs; %s" % (
        fam.key, case, what, before, t[1] - t[0], t[2] - t[1], t[3] - t[2],
        {k: out[k] for k in ("bytes_repaired", "volumes_touched", "disks_synced", "database_committed")
         if k in out}))


# ---------------------------------------------------------------------------------------------
# Driver

class Ctx:
    def __init__(self):
        base = os.environ.get("LDM_MATRIX_DIR")
        if base:
            import tempfile
            self.dir = tempfile.mkdtemp(prefix="ldmd-matrix-", dir=base)
            os.chmod(self.dir, 0o755)
        else:
            self.dir = tmpdir()
        self.images = unpack_real_images(os.path.join(self.dir, "real"))
        self.kernel_dir = os.path.join(self.dir, "kernel")
        os.makedirs(self.kernel_dir)
        self.bus = PrivateBus(self.dir)
        self.kernel = KernelJudge()
        self.timings = []
        self.family = None

    def close(self):
        try:
            if self.family:
                self.family.stop()
        finally:
            self.bus.stop()
            subprocess.run(["rm", "-rf", self.dir])


def plan(quick):
    cases = QUICK if quick else [(f, c) for f in FAMILIES for c in CASES]
    only = os.environ.get("LDM_MATRIX_ONLY")
    if only:
        keep = only.split(",")
        cases = [(f, c) for f, c in cases if f in keep or "%s/%s" % (f, c) in keep]
    tests = []
    families = {}

    def setup(key):
        def fn(ctx):
            if ctx.family:
                ctx.family.stop()
                ctx.family = None
            fam = Family(ctx, key)
            ctx.family = fam
            families[key] = fam
            fam.start()
        fn.__name__ = "%s/start" % key
        return fn

    def case_fn(key, case):
        def fn(ctx):
            fam = families.get(key)
            if not fam or not fam.ldmd:
                raise AssertionError("the %s family did not start" % key)
            run_case(fam, case)
        fn.__name__ = "%s/%s" % (key, case)
        return fn

    current = None
    for key, case in cases:
        if key != current:
            tests.append(setup(key))
            current = key
        tests.append(case_fn(key, case))

    def kernel(ctx):
        if ctx.family:
            ctx.family.stop()
            ctx.family = None
        t0 = time.monotonic()
        ctx.kernel.finish()
        diag("kernel-ldm: %d boots, %.1fs in all (%.1fs waited for at the end)" % (
            ctx.kernel.calls, ctx.kernel.seconds, time.monotonic() - t0))
        if ctx.kernel.flakes:
            diag("kernel-ldm disagreed once, then agreed: %s" % ", ".join(ctx.kernel.flakes))
        if ctx.kernel.unavailable and not IN_CI:
            raise Skip("kernel-ldm cannot run here: %s" % ctx.kernel.unavailable)
        assert not ctx.kernel.failures, "\n".join(ctx.kernel.failures)
    kernel.__name__ = "kernel-ldm"
    tests.append(kernel)
    return tests


def main():
    quick = "--quick" in sys.argv[1:]
    for prog in (LDMD, TESTTOOL):
        if not os.access(prog, os.X_OK):
            print("1..0 # SKIP %s not built" % prog)
            return 0
    if not os.path.exists("/usr/bin/ldmtool"):
        if IN_CI:
            print("Bail out! ldmtool is missing: .ci/run must install it")
            return 1
        print("1..0 # SKIP ldmtool not installed")
        return 0
    tap = Tap()
    for fn in plan(quick):
        tap.test(fn)
    t0 = time.monotonic()
    ctx = Ctx()
    try:
        rc = tap.run(ctx)
    finally:
        ctx.close()
    n = len(ctx.timings)
    if n:
        diag("%d cases recovered and judged in %.0fs; per case on average: break %.1fs, recover %.1fs, "
             "judges %.1fs" % (n, time.monotonic() - t0, sum(t[2] for t in ctx.timings) / n,
                               sum(t[3] for t in ctx.timings) / n, sum(t[4] for t in ctx.timings) / n))
    return rc


if __name__ == "__main__":
    sys.exit(main())
