# SPDX-License-Identifier: LGPL-2.1-or-later
"""ldmdtest: what the daemon's bus tests share (run with /usr/bin/python3, which has GLib's
Gio bindings): TAP output, the real Windows images unpacked into a private directory, a
private *system-type* dbus-daemon whose configuration includes our real D-Bus policy, ldmd
started on it, and clients as root (Gio) or as nobody (setpriv + busctl/python); for the job
tests also python3-dbusmock's polkitd and logind on that bus, ldm-testtool to break packs,
and the independent judge ldmcheck."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import xml.etree.ElementTree as ET

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

SOURCE_ROOT = os.environ.get("LDM_SOURCE_ROOT") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD_ROOT = os.environ.get("LDM_BUILD_ROOT") or os.path.join(SOURCE_ROOT, "build")
SHARED_DIR = os.environ.get("LDM_SHARED_DIR") or os.path.join(SOURCE_ROOT, "..", "shared")
LDMD = os.environ.get("LDMD") or os.path.join(BUILD_ROOT, "daemon", "ldmd")
# tests/lib/ldm-testtool (fill, sha256, stale, scribble, touch, list, …): breaks packs.
DAMAGE_TOOL = os.environ.get("LDM_DAMAGE_TOOL") or os.path.join(BUILD_ROOT, "tests", "ldm-testtool")
LDMCHECK = os.path.join(SHARED_DIR, "tools", "ldmcheck")
POLICY = os.path.join(SOURCE_ROOT, "data", "org.ldmd1.conf")
IN_CI = os.environ.get("CI") == "true"

BUS_NAME = "org.ldmd1"
MANAGER = "/org/ldmd1"
IFACE_MANAGER = "org.ldmd1.Manager"
IFACE_PACK = "org.ldmd1.Pack"
IFACE_DISK = "org.ldmd1.Disk"
IFACE_VOLUME = "org.ldmd1.Volume"
IFACE_JOB = "org.ldmd1.Job"

# VDS numbers ([MS-VDS] §2.2), as ldm/vds.h has them.
VDS_DS_ONLINE, VDS_DS_MISSING = 1, 6
VDS_H_HEALTHY, VDS_H_FAILED_REDUNDANCY, VDS_H_FAILED = 1, 6, 8
VDS_VT = {"simple": 10, "spanned": 11, "striped": 12, "mirrored": 13, "raid5": 14}
# HRESULTs ([MS-VDS] §2.2.3) and VDS_ASYNCOUT_RECOVERPACK (§2.2.1.2.x).
S_OK = 0
VDS_E_OPERATION_PENDING = 0x80042409
VDS_E_CANCEL_TOO_LATE = 0x8004240C
VDS_E_OPERATION_CANCELED = 0x8004240D
VDS_E_VOLUME_NOT_HEALTHY = 0x8004243E
VDS_ASYNCOUT_RECOVERPACK = 8

NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


class Skip(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# TAP

class Tap:
    """Runs test functions and prints TAP; a test raising Skip is reported as skipped."""

    def __init__(self):
        self.tests = []

    def test(self, fn):
        self.tests.append(fn)
        return fn

    def run(self, *args):
        only = os.environ.get("LDMD_TEST_ONLY")  # comma-separated test names, for debugging
        if only:
            self.tests = [t for t in self.tests if t.__name__ in only.split(",")]
        print("1..%d" % len(self.tests), flush=True)
        failed = 0
        for i, fn in enumerate(self.tests, 1):
            name = fn.__name__
            try:
                fn(*args)
                print("ok %d - %s" % (i, name), flush=True)
            except Skip as e:
                print("ok %d - %s # SKIP %s" % (i, name, e), flush=True)
            except Exception:  # noqa: BLE001 - every failure is reported
                failed += 1
                print("not ok %d - %s" % (i, name), flush=True)
                for line in traceback.format_exc().splitlines():
                    print("# " + line, flush=True)
        return 1 if failed else 0


def diag(msg):
    for line in str(msg).splitlines():
        print("# " + line, flush=True)


def require_root():
    if os.geteuid() == 0:
        return
    if IN_CI:
        raise AssertionError("this test needs root, and CI runs as root")
    raise Skip("needs root (runs in CI)")


def require_program(prog):
    if shutil.which(prog) or os.path.exists(prog):
        return
    if IN_CI:
        raise AssertionError("%s is missing: .ci/run must install it" % prog)
    raise Skip("%s not installed" % prog)


def wait_until(pred, timeout=10.0, what="condition"):
    """Iterates the GLib main context (signals arrive) until pred() is true."""
    ctx = GLib.MainContext.default()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        while ctx.pending():
            ctx.iteration(False)
        v = pred()
        if v:
            return v
        ctx.iteration(False)
        time.sleep(0.01)
    raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))


# ---------------------------------------------------------------------------------------------
# Files

def tmpdir():
    """A fresh directory, world-readable so that nobody can reach the bus socket in it."""
    d = tempfile.mkdtemp(prefix="ldmd-test-")
    os.chmod(d, 0o755)
    return d


def unpack_real_images(dest):
    tarball = os.path.join(SHARED_DIR, "testdata", "ldm-real", "ldm-data.tar.xz")
    os.makedirs(dest, exist_ok=True)
    subprocess.run(["tar", "-SJxf", tarball, "-C", dest], check=True)
    return dest


def copy_sparse(src, dst):
    subprocess.run(["cp", "--sparse=always", src, dst], check=True)


def zero_sector(path, sector):
    with open(path, "r+b") as f:
        f.seek(sector * 512)
        f.write(b"\0" * 512)


# ---------------------------------------------------------------------------------------------
# Private bus

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Peer"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus" send_member="UpdateActivationEnvironment"/>
  </policy>
  <!-- What polkit's and logind's own policy files allow on a real system bus, for the mocks. -->
  <policy user="root">
    <allow own="org.freedesktop.PolicyKit1"/>
    <allow own="org.freedesktop.login1"/>
  </policy>
  <policy context="default">
    <allow send_destination="org.freedesktop.PolicyKit1"/>
    <allow send_destination="org.freedesktop.login1"/>
  </policy>
  <include>{policy}</include>
{limits}
</busconfig>
"""


class PrivateBus:
    """dbus-daemon configured like the system bus (default deny for method calls and names)
    plus our real policy file: the policy alone decides who owns org.ldmd1."""

    def __init__(self, directory, limits=None):
        """limits: {name: value} of dbus-daemon's <limit>s, e.g. max_match_rules_per_connection."""
        self.dir = directory
        self.socket = os.path.join(directory, "bus")
        self.address = "unix:path=" + self.socket
        conf = os.path.join(directory, "bus.conf")
        with open(conf, "w") as f:
            f.write(BUS_CONFIG.format(socket=self.socket, policy=POLICY, limits="".join(
                '  <limit name="%s">%d</limit>\n' % kv for kv in sorted((limits or {}).items()))))
        self.proc = subprocess.Popen(["dbus-daemon", "--config-file=" + conf, "--nofork",
                                      "--print-address=1"],
                                     stdout=subprocess.PIPE, stderr=sys.stderr)
        line = self.proc.stdout.readline().decode().strip()
        if not line:
            raise AssertionError("dbus-daemon did not start")
        os.chmod(self.socket, 0o777)
        self.conn = Gio.DBusConnection.new_for_address_sync(
            self.address,
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
            None, None)

    def stop(self):
        self.conn.close_sync(None)
        self.proc.terminate()
        self.proc.wait(10)

    # Calls ------------------------------------------------------------------------------------

    def call(self, path, iface, method, args=None, sig=None, timeout=10000, dest=BUS_NAME):
        params = GLib.Variant(sig, args) if sig else None
        r = self.conn.call_sync(dest, path, iface, method, params, None,
                                Gio.DBusCallFlags.NONE, timeout, None)
        return r.unpack() if r is not None else None

    def call_error(self, path, iface, method, args=None, sig=None):
        """Calls and returns the D-Bus error name (asserts that there is one)."""
        try:
            self.call(path, iface, method, args, sig)
        except GLib.Error as e:
            name = Gio.DBusError.get_remote_error(e)
            return name, e.message
        raise AssertionError("%s.%s on %s succeeded, an error was expected" % (iface, method, path))

    def props(self, path, iface):
        return self.call(path, "org.freedesktop.DBus.Properties", "GetAll", (iface,), "(s)")[0]

    def prop(self, path, iface, name):
        return self.call(path, "org.freedesktop.DBus.Properties", "Get", (iface, name), "(ss)")[0]

    def managed_objects(self):
        return self.call(MANAGER, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects")[0]

    def introspect(self, path):
        return self.call(path, "org.freedesktop.DBus.Introspectable", "Introspect")[0]

    def name_owner(self, name=BUS_NAME):
        try:
            return self.call("/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner",
                             (name,), "(s)", dest="org.freedesktop.DBus")[0]
        except GLib.Error:
            return None

    def subscribe(self, sink, iface=None, member=None):
        """Appends (path, interface, member, args) of every signal from ldmd to sink."""
        def cb(conn, sender, path, interface, member_, params):
            sink.append((path, interface, member_, params.unpack()))
        return self.conn.signal_subscribe(None, iface, member, None, None,
                                          Gio.DBusSignalFlags.NONE, cb)


class BusProxy:
    """A relay between one client (ldmd: --bus=proxy.address) and the private bus that can
    hold back the answers to the client's questions about a caller (by default who it is:
    GetConnectionUnixUser, GetConnectionCredentials; also whether it is still there,
    GetNameOwner, or polkitd's verdict on it, CheckAuthorization) for chosen callers. What
    the client does while such an answer is outstanding is then seen without timing
    anything. Bytes are relayed unchanged; messages are only parsed (GDBusMessage) to pick
    the answers held."""

    LOOKUPS = ("GetConnectionUnixUser", "GetConnectionCredentials")
    PRESENCE = ("GetNameOwner",)
    POLKIT = ("CheckAuthorization",)

    def __init__(self, bus, directory):
        self.upstream_path = bus.socket
        self.socket = os.path.join(directory, "proxy")
        self.address = "unix:path=" + self.socket
        self.lock = threading.Lock()
        self.hold_names = {}      # caller -> the questions about it whose answers are held
        self.hold_every = ()      # … the questions about every caller (one whose name the test cannot know)
        self.questions = {}       # serial of the client's question -> (member, the name asked about)
        self.held = []            # raw answers held back
        self.held_about = []      # … the names they are about
        self.out_rule = None      # (member, name): from the client's call of it naming name on…
        self.out_held = []        # … every message the client sends, held back, in order
        self.out_skip = 0         # calls of it to let pass first
        self.client = None
        self.upstream = None
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.socket)
        self.listener.listen(1)
        threading.Thread(target=self._accept, daemon=True).start()

    def hold(self, name, members=LOOKUPS):
        with self.lock:
            self.hold_names[name] = tuple(members)

    def hold_all(self, members=LOOKUPS):
        with self.lock:
            self.hold_every = tuple(members)

    def hold_outgoing_from(self, member, name, nth=1):
        """Holds back the client's messages from its nth call of `member` (to the bus daemon)
        whose arguments name `name` on, that one included, until release_outgoing(): as if
        they were still on their way when `name` left the bus."""
        with self.lock:
            self.out_rule = (member, name)
            self.out_skip = nth - 1

    def outgoing_held(self):
        with self.lock:
            return len(self.out_held)

    def release_outgoing(self):
        """Sends the client's held messages, in order, and holds no more."""
        with self.lock:
            held, self.out_held, self.out_rule = self.out_held, [], None
            for raw in held:
                self.upstream.sendall(raw)

    def held_count(self):
        with self.lock:
            return len(self.held)

    def held_names(self):
        """The callers the answers held are about, in the order they were held."""
        with self.lock:
            return list(self.held_about)

    def release(self):
        """Sends every held answer and holds no more."""
        with self.lock:
            held, self.held, self.held_about = self.held, [], []
            self.hold_names.clear()
            self.hold_every = ()
            for raw in held:
                self.client.sendall(raw)

    def close(self):
        self.listener.close()

    def _accept(self):
        client, _ = self.listener.accept()
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        upstream.connect(self.upstream_path)
        self.client = client
        self.upstream = upstream
        threading.Thread(target=self._relay, args=(client, upstream, True), daemon=True).start()
        threading.Thread(target=self._relay, args=(upstream, client, False), daemon=True).start()

    @staticmethod
    def _split(buf):
        """Complete messages at the head of buf: (list of raw messages, rest)."""
        out = []
        while len(buf) >= 16:
            n = Gio.DBusMessage.bytes_needed(buf[:16])
            if n <= 0 or len(buf) < n:
                break
            out.append(buf[:n])
            buf = buf[n:]
        return out, buf

    def _relay(self, src, dst, from_client):
        buf, authenticated = b"", False
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                buf += data
                if not authenticated:
                    # SASL lines: the client's end with BEGIN; the bus's answers are lines
                    # until the first message ('l' or 'B', its byte order).
                    if from_client:
                        i = buf.find(b"BEGIN\r\n")
                        if i < 0:
                            dst.sendall(buf)
                            buf = b""
                            continue
                        dst.sendall(buf[:i + 7])
                        buf, authenticated = buf[i + 7:], True
                    else:
                        while buf and buf[:1] not in (b"l", b"B") and b"\r\n" in buf:
                            i = buf.index(b"\r\n") + 2
                            with self.lock:
                                dst.sendall(buf[:i])
                            buf = buf[i:]
                        if not buf or buf[:1] not in (b"l", b"B"):
                            continue
                        authenticated = True
                msgs, buf = self._split(buf)
                for raw in msgs:
                    self._pass(raw, dst, from_client)
        except OSError:
            pass
        finally:
            for sk in (src, dst):
                try:
                    sk.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    @classmethod
    def _question(cls, m):
        """(member, name asked about) of a question whose answer may be held, or None."""
        member = m.get_member()
        if m.get_destination() == "org.freedesktop.DBus" and member in cls.LOOKUPS + cls.PRESENCE:
            return member, m.get_body().unpack()[0]
        if m.get_destination() == "org.freedesktop.PolicyKit1" and member in cls.POLKIT:
            kind, details = m.get_body().unpack()[0]
            return (member, details.get("name")) if kind == "system-bus-name" else None
        return None

    @staticmethod
    def _starts_hold(m, member, name):
        return (m.get_message_type() == Gio.DBusMessageType.METHOD_CALL and m.get_member() == member and
                m.get_destination() == "org.freedesktop.DBus" and m.get_body() is not None and
                name in str(m.get_body().unpack()))

    def _pass(self, raw, dst, from_client):
        m = Gio.DBusMessage.new_from_blob(raw, Gio.DBusCapabilityFlags.UNIX_FD_PASSING)
        kind = m.get_message_type()
        if from_client:
            # Noted before it is sent: the answer cannot come first.
            q = self._question(m) if kind == Gio.DBusMessageType.METHOD_CALL else None
            with self.lock:
                if q:
                    self.questions[m.get_serial()] = q
                if not self.out_held and self.out_rule and self._starts_hold(m, *self.out_rule):
                    if self.out_skip == 0:
                        self.out_held.append(raw)
                    else:
                        self.out_skip -= 1
                        dst.sendall(raw)
                elif self.out_held:
                    self.out_held.append(raw)
                else:
                    dst.sendall(raw)
            return
        with self.lock:  # release() writes to the client too
            if kind in (Gio.DBusMessageType.METHOD_RETURN, Gio.DBusMessageType.ERROR):
                member, name = self.questions.pop(m.get_reply_serial(), (None, None))
                if member and (member in self.hold_every or member in self.hold_names.get(name, ())):
                    self.held.append(raw)
                    self.held_about.append(name)
                    return
            dst.sendall(raw)


# ---------------------------------------------------------------------------------------------
# The daemon

class Ldmd:
    """ldmd on a private bus; ready when it owns org.ldmd1."""

    def __init__(self, bus, args, log_path, wait=True, env=None):
        self.bus = bus
        self.log_path = log_path
        self.log = open(log_path, "w")
        e = dict(os.environ)
        e.setdefault("LDMD_LOG_LEVEL", "debug")
        e.update(env or {})
        self.proc = subprocess.Popen([LDMD, "--bus=" + bus.address] + list(args),
                                     stdout=self.log, stderr=subprocess.STDOUT, env=e)
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout=20.0):
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("ldmd exited with %s:\n%s" % (self.proc.returncode, self.output()))
            return self.bus.name_owner() is not None
        wait_until(ready, timeout, "ldmd to own org.ldmd1")

    def output(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stops ldmd; asserts that it exits cleanly (status 0)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("ldmd did not exit within %ss of signal %d" % (timeout, sig))
        self.log.close()
        if self.proc.returncode != 0:
            raise AssertionError("ldmd exited with %d:\n%s" % (self.proc.returncode, self.output()))


def damage(cmd, *args):
    """Runs ldm-testtool CMD ARGS...; returns its stdout. The last arguments are the images."""
    r = subprocess.run([DAMAGE_TOOL, cmd] + [str(a) for a in args], capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("ldm-testtool %s failed (%d): %s" % (cmd, r.returncode, r.stderr))
    return r.stdout


def volume_sha256(volume, images):
    """The sha256 (hex) of a volume as our reader sees it."""
    return damage("sha256", volume, *images).split()[0]


def ldmcheck_strict(images):
    """The independent judge: pack rules and data (mirrors equal, parity right)."""
    r = subprocess.run([LDMCHECK, "--data", "--strict"] + list(images),
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("ldmcheck --data --strict failed (%d):\n%s%s" % (r.returncode, r.stdout, r.stderr))


class Mock:
    """python3-dbusmock with a template (polkitd, logind) on the private bus."""

    def __init__(self, bus, template, log_path):
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus.address)
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(["/usr/bin/python3", "-m", "dbusmock", "--system", "--template", template],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self.bus = bus
        self.name = {"polkitd": "org.freedesktop.PolicyKit1", "logind": "org.freedesktop.login1"}[template]
        wait_until(lambda: self.proc.poll() is not None or bus.name_owner(self.name), 20,
                   "%s mock to start" % template)
        if self.proc.poll() is not None:
            raise AssertionError("dbusmock %s exited: %s" % (template, open(log_path).read()))

    def call(self, path, iface, method, args=None, sig=None):
        return self.bus.call(path, iface, method, args, sig, dest=self.name)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()
        wait_until(lambda: self.bus.name_owner(self.name) is None, 10, "%s to leave" % self.name)


def run_as_nobody(argv, check=False):
    return subprocess.run(NOBODY + list(argv), capture_output=True, text=True, check=check)


# ---------------------------------------------------------------------------------------------
# Model helpers

def path_encode(prefix, label):
    """sd_bus_path_encode(): [A-Za-z0-9] stay, except a leading digit; the rest become _xx."""
    out = []
    for i, c in enumerate(label):
        if c.isascii() and (c.isalpha() or (c.isdigit() and i > 0)):
            out.append(c)
        else:
            out.append("_%02x" % ord(c))
    return prefix + "/" + "".join(out)


def disk_path(guid):
    return path_encode("/org/ldmd1/disk", guid)


def pack_path(guid):
    return path_encode("/org/ldmd1/pack", guid)


def volume_path(guid):
    return path_encode("/org/ldmd1/volume", guid)


def interface_signature(xml_text, iface):
    """The comparable contents of one interface in introspection XML: methods with their
    arguments, signals, properties with type, access and annotations."""
    root = ET.fromstring(xml_text)
    for i in root.findall("interface"):
        if i.get("name") != iface:
            continue
        out = set()
        for m in i.findall("method"):
            args = tuple((a.get("name"), a.get("type"), a.get("direction", "in"))
                         for a in m.findall("arg"))
            out.add(("method", m.get("name"), args))
        for s in i.findall("signal"):
            args = tuple((a.get("name"), a.get("type")) for a in s.findall("arg"))
            out.add(("signal", s.get("name"), args))
        for p in i.findall("property"):
            ann = tuple(sorted((a.get("name"), a.get("value")) for a in p.findall("annotation")))
            out.add(("property", p.get("name"), p.get("type"), p.get("access"), ann))
        for a in i.findall("annotation"):
            out.add(("annotation", a.get("name"), a.get("value")))
        return out
    return None
