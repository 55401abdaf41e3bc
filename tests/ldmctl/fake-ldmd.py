#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A scripted stand-in for ldmd's *job* side, for testing how ldmctl follows jobs when the
timing must be known: packs whose Recover/Verify jobs progress at a fixed pace, fail, or take
long enough to be cancelled or interrupted. It speaks dbus-api.md (Manager, ObjectManager,
Pack.Recover/Verify, Job with Cancel/Wait/QueryStatus, PropertiesChanged, Completed, JobNew,
JobRemoved). Not a model of LDM: the real daemon's tests cover that.

  fake-ldmd.py --bus=ADDRESS     (prints "ready" on stdout once it owns org.ldmd1)

Packs: Quick (10 % per 100 ms; two disks, one with a stale database copy), Slow (1 % per 100 ms), Bad (fails at 30 % with
VDS_E_DMADMIN_METHOD_CALL_FAILED; the job leaves the bus 300 ms later), Auth (like Quick,
but refuses callers that do not allow interactive authorisation)."""

import sys
import time

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

S_OK = 0x00000000
E_PENDING = 0x80042409
E_CANCELED = 0x8004240D
E_DMADMIN = 0x80042420

XML = """
<node>
 <interface name="org.ldmd1.Manager">
  <method name="Rescan"/>
  <method name="GetPackByName"><arg name="name" type="s"/><arg name="pack" type="o" direction="out"/></method>
  <method name="GetPackById"><arg name="guid" type="s"/><arg name="pack" type="o" direction="out"/></method>
  <method name="ListJobs"><arg name="jobs" type="ao" direction="out"/></method>
  <signal name="JobNew"><arg name="job" type="o"/><arg name="object" type="o"/></signal>
  <signal name="JobRemoved"><arg name="job" type="o"/><arg name="hresult" type="u"/></signal>
 </interface>
 <interface name="org.freedesktop.DBus.ObjectManager">
  <method name="GetManagedObjects"><arg name="objects" type="a{oa{sa{sv}}}" direction="out"/></method>
 </interface>
 <interface name="org.ldmd1.Pack">
  <method name="Recover"><arg name="job" type="o" direction="out"/></method>
  <method name="Verify"><arg name="job" type="o" direction="out"/></method>
  <property name="Id" type="s" access="read"/>
  <property name="Name" type="s" access="read"/>
  <property name="Status" type="u" access="read"/>
  <property name="Flags" type="u" access="read"/>
  <property name="Health" type="u" access="read"/>
  <property name="Disks" type="ao" access="read"/>
  <property name="Volumes" type="ao" access="read"/>
  <property name="CommittedSequence" type="t" access="read"/>
  <property name="ActiveJob" type="o" access="read"/>
 </interface>
 <interface name="org.ldmd1.Job">
  <method name="Cancel"/>
  <method name="Wait"><arg name="hresult" type="u" direction="out"/><arg name="output" type="a{sv}" direction="out"/></method>
  <method name="QueryStatus"><arg name="hresult" type="u" direction="out"/><arg name="percent" type="u" direction="out"/></method>
  <signal name="Completed"><arg name="hresult" type="u"/><arg name="message" type="s"/></signal>
  <property name="Operation" type="s" access="read"/>
  <property name="Object" type="o" access="read"/>
  <property name="State" type="s" access="read"/>
  <property name="Percent" type="u" access="read"/>
  <property name="BytesDone" type="t" access="read"/>
  <property name="BytesTotal" type="t" access="read"/>
  <property name="Rate" type="t" access="read"/>
  <property name="StartTime" type="t" access="read"/>
  <property name="ExpectedEndTime" type="t" access="read"/>
  <property name="StartedByUID" type="u" access="read"/>
  <property name="Cancelable" type="b" access="read"/>
  <property name="HResult" type="u" access="read"/>
  <property name="Message" type="s" access="read"/>
 </interface>
</node>
"""
NODE = Gio.DBusNodeInfo.new_for_xml(XML)
IFACE = {i.name: i for i in NODE.interfaces}
TOTAL = 100 * 1024 * 1024

PACKS = {  # name: (guid, percent per tick, fail at percent or None)
    "Quick": ("11111111-1111-1111-1111-111111111111", 10, None),
    "Slow": ("22222222-2222-2222-2222-222222222222", 1, None),
    "Bad": ("33333333-3333-3333-3333-333333333333", 10, 30),
    "Auth": ("44444444-4444-4444-4444-444444444444", 10, None),
    # Not in GetManagedObjects (as a pack whose disks went away since its job started), but
    # its object still answers.
    "Gone": ("55555555-5555-5555-5555-555555555555", 10, None),
}
UNLISTED = ("Gone",)


# Pack Quick has two disks: one up to date, one whose database copy is stale (sequence 6 of 7).
_QUICK = "/org/ldmd1/pack/11111111_2d1111_2d1111_2d1111_2d111111111111"
DISKS = {
    "/org/ldmd1/disk/d" + str(i): {
        "Id": GLib.Variant("s", "d%d" % i), "Name": GLib.Variant("s", "Disk%d" % i),
        "Pack": GLib.Variant("o", _QUICK), "Device": GLib.Variant("s", "/dev/fake%d" % i),
        "Status": GLib.Variant("u", 1), "Health": GLib.Variant("u", 1 if i == 1 else 3),
        "Size": GLib.Variant("t", 1 << 30), "DatabaseSequence": GLib.Variant("t", 8 - i),
        "DatabaseStale": GLib.Variant("b", i == 2)} for i in (1, 2)}


def now_us():
    return int(time.time() * 1000000)


class Pack:
    def __init__(self, name, guid, step, fail_at):
        self.name, self.guid, self.step, self.fail_at = name, guid, step, fail_at
        self.path = "/org/ldmd1/pack/" + guid.replace("-", "_2d")
        self.active = "/"

    def props(self):
        disks = sorted(DISKS) if self.name == "Quick" else []
        return {"Id": GLib.Variant("s", self.guid), "Name": GLib.Variant("s", self.name),
                "Status": GLib.Variant("u", 1), "Flags": GLib.Variant("u", 0),
                "Health": GLib.Variant("u", 1), "Disks": GLib.Variant("ao", disks),
                "Volumes": GLib.Variant("ao", []), "CommittedSequence": GLib.Variant("t", 7),
                "ActiveJob": GLib.Variant("o", self.active)}


class Job:
    def __init__(self, fake, n, pack, operation, uid):
        self.fake, self.pack, self.op = fake, pack, operation
        self.path = "/org/ldmd1/job/_%d" % n
        self.state, self.percent, self.hr, self.msg = "queued", 0, E_PENDING, ""
        self.start = now_us()
        self.uid = uid
        self.waiters = []
        self.cancel = False

    def props(self):
        done = self.percent * TOTAL // 100
        rate = TOTAL * self.pack.step // 10      # bytes per second at this pace
        end = self.start + (100 * 100000 // self.pack.step) if self.state != "done" else now_us()
        return {"Operation": GLib.Variant("s", self.op), "Object": GLib.Variant("o", self.pack.path),
                "State": GLib.Variant("s", self.state),
                "Percent": GLib.Variant("u", self.percent if self.state != "done" else
                                        (100 if self.hr == S_OK else 0)),
                "BytesDone": GLib.Variant("t", done), "BytesTotal": GLib.Variant("t", TOTAL),
                "Rate": GLib.Variant("t", rate), "StartTime": GLib.Variant("t", self.start),
                "ExpectedEndTime": GLib.Variant("t", end), "StartedByUID": GLib.Variant("u", self.uid),
                "Cancelable": GLib.Variant("b", self.state != "done"), "HResult": GLib.Variant("u", self.hr),
                "Message": GLib.Variant("s", self.msg)}

    def changed(self, names):
        p = self.props()
        self.fake.emit(self.path, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                       GLib.Variant("(sa{sv}as)", ("org.ldmd1.Job", {n: p[n] for n in names}, [])))

    def output(self):
        return {"type": GLib.Variant("u", 8),
                "bytes_repaired": GLib.Variant("t", self.percent * TOTAL // 100)}

    def tick(self):
        if self.state == "queued":
            self.state = "running"
            self.changed(["State"])
            return True
        if self.cancel:
            return self.finish(E_CANCELED, "cancelled at %d %%" % self.percent)
        self.percent = min(self.percent + self.pack.step, 99)
        self.changed(["Percent", "BytesDone", "Rate", "ExpectedEndTime"])
        if self.pack.fail_at is not None and self.percent >= self.pack.fail_at:
            return self.finish(E_DMADMIN, "I/O error on Disk2 at byte 1048576")
        if self.percent >= 99:
            self.percent = 100
            return self.finish(S_OK, "")
        return True

    def finish(self, hr, msg):
        self.state, self.hr, self.msg = "done", hr, msg
        self.changed(["State", "Percent", "BytesDone", "HResult", "Message", "Cancelable"])
        self.fake.emit(self.path, "org.ldmd1.Job", "Completed", GLib.Variant("(us)", (hr, msg)))
        for inv in self.waiters:
            inv.return_value(GLib.Variant("(ua{sv})", (hr, self.output())))
        self.waiters = []
        self.pack.active = "/"
        if self.pack.fail_at is not None:       # Bad's jobs leave the bus soon after they end
            GLib.timeout_add(300, self.fake.remove_job, self)
        return False


class Fake:
    def __init__(self, address):
        self.conn = Gio.DBusConnection.new_for_address_sync(
            address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        self.packs = {n: Pack(n, *v) for n, v in PACKS.items()}
        self.jobs = {}
        self.n = 0
        reg = self.conn.register_object
        reg("/org/ldmd1", IFACE["org.ldmd1.Manager"], self.manager_call, None, None)
        reg("/org/ldmd1", IFACE["org.freedesktop.DBus.ObjectManager"], self.om_call, None, None)
        for p in self.packs.values():
            reg(p.path, IFACE["org.ldmd1.Pack"], self.pack_call, self.pack_get, None)

    def remove_job(self, j):
        self.conn.unregister_object(j.reg_id)
        del self.jobs[j.path]
        self.emit("/org/ldmd1", "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved",
                  GLib.Variant("(oas)", (j.path, ["org.ldmd1.Job"])))
        self.emit("/org/ldmd1", "org.ldmd1.Manager", "JobRemoved", GLib.Variant("(ou)", (j.path, j.hr)))
        return False

    def emit(self, path, iface, member, params):
        self.conn.emit_signal(None, path, iface, member, params)

    def uid_of(self, sender):
        r = self.conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                "GetConnectionUnixUser", GLib.Variant("(s)", (sender,)), None,
                                Gio.DBusCallFlags.NONE, -1, None)
        return r.unpack()[0]

    def manager_call(self, conn, sender, path, iface, method, params, inv):
        args = params.unpack()
        if method in ("GetPackByName", "GetPackById"):
            key = 0 if method == "GetPackByName" else 1
            for p in self.packs.values():
                if (p.name, p.guid)[key] == args[0]:
                    return inv.return_value(GLib.Variant("(o)", (p.path,)))
            return inv.return_dbus_error("org.ldmd1.Error.NotFound", "No pack %s" % args[0])
        if method == "ListJobs":
            return inv.return_value(GLib.Variant("(ao)", (sorted(self.jobs),)))
        return inv.return_value(None)

    def om_call(self, conn, sender, path, iface, method, params, inv):
        objs = {p.path: {"org.ldmd1.Pack": p.props()} for p in self.packs.values() if p.name not in UNLISTED}
        objs.update({d: {"org.ldmd1.Disk": props} for d, props in DISKS.items()})
        objs.update({j.path: {"org.ldmd1.Job": j.props()} for j in self.jobs.values()})
        inv.return_value(GLib.Variant("(a{oa{sa{sv}}})", (objs,)))

    def pack_get(self, conn, sender, path, iface, prop):
        p = next(p for p in self.packs.values() if p.path == path)
        return p.props()[prop]

    def pack_call(self, conn, sender, path, iface, method, params, inv):
        p = next(p for p in self.packs.values() if p.path == path)
        uid = self.uid_of(sender)
        if uid != 0:
            return inv.return_dbus_error("org.ldmd1.Error.NotAuthorized", "Not allowed to recover %s" % p.name)
        flags = inv.get_message().get_flags()
        if p.name == "Auth" and not flags & Gio.DBusMessageFlags.ALLOW_INTERACTIVE_AUTHORIZATION:
            # as polkit would for auth_admin without an agent to ask through
            return inv.return_dbus_error("org.freedesktop.DBus.Error.InteractiveAuthorizationRequired",
                                         "Authentication is required to recover %s" % p.name)
        if p.active != "/":
            return inv.return_dbus_error("org.ldmd1.Error.Busy", "Job %s runs on pack %s" % (p.active, p.name))
        self.n += 1
        j = Job(self, self.n, p, method.lower(), uid)
        self.jobs[j.path] = j
        p.active = j.path
        j.reg_id = self.conn.register_object(j.path, IFACE["org.ldmd1.Job"], self.job_call, self.job_get, None)
        inv.return_value(GLib.Variant("(o)", (j.path,)))
        self.emit("/org/ldmd1", "org.freedesktop.DBus.ObjectManager", "InterfacesAdded",
                  GLib.Variant("(oa{sa{sv}})", (j.path, {"org.ldmd1.Job": j.props()})))
        self.emit("/org/ldmd1", "org.ldmd1.Manager", "JobNew", GLib.Variant("(oo)", (j.path, p.path)))
        GLib.timeout_add(100, j.tick)

    def job_get(self, conn, sender, path, iface, prop):
        return self.jobs[path].props()[prop]

    def job_call(self, conn, sender, path, iface, method, params, inv):
        j = self.jobs[path]
        if method == "Cancel":
            if j.state == "done":
                return inv.return_dbus_error("org.ldmd1.Error.CancelTooLate", "Job %s already finished" % path)
            j.cancel = True
            j.state = "cancelling"
            j.changed(["State"])
            return inv.return_value(None)
        if method == "Wait":
            if j.state == "done":
                return inv.return_value(GLib.Variant("(ua{sv})", (j.hr, j.output())))
            j.waiters.append(inv)
            return None
        if method == "QueryStatus":
            p = j.props()
            return inv.return_value(GLib.Variant("(uu)", (p["HResult"].unpack(), p["Percent"].unpack())))
        return inv.return_value(None)


def main():
    address = next(a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--bus="))
    fake = Fake(address)
    loop = GLib.MainLoop()

    def acquired(conn, name):
        print("ready", flush=True)

    Gio.bus_own_name_on_connection(fake.conn, "org.ldmd1", Gio.BusNameOwnerFlags.NONE, acquired,
                                   lambda c, n: loop.quit())
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 15, loop.quit)
    loop.run()


if __name__ == "__main__":
    main()
