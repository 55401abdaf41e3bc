#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""systemd/ldmd.service: hardened enough (systemd-analyze security --offline=yes exposure
≤ 2.0) and valid (systemd-analyze verify); the polkit policy and activation file are sane."""

import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ldmdtest import LDMD, SOURCE_ROOT, Tap, require_program  # noqa: E402

UNIT = os.path.join(SOURCE_ROOT, "systemd", "ldmd.service")
MAX_EXPOSURE = 2.0
tap = Tap()


@tap.test
def security_exposure():
    require_program("systemd-analyze")
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager", UNIT],
                       capture_output=True, text=True)
    m = re.search(r"Overall exposure level for ldmd.service: ([0-9.]+)", r.stdout)
    assert m, r.stdout + r.stderr
    exposure = float(m.group(1))
    print("# exposure %.1f (limit %.1f)" % (exposure, MAX_EXPOSURE))
    assert exposure <= MAX_EXPOSURE, r.stdout


@tap.test
def scheduling_calls_allowed():
    # The filter denies @resources; the calls the daemon makes to lower its workers' priority
    # and shorten its bus thread's slices must come back after that line, or they fail with
    # EPERM under the unit (and only there: nothing else would notice).
    with open(UNIT) as f:
        lines = [ln.split("=", 1)[1].split() for ln in f.read().splitlines()
                 if ln.startswith("SystemCallFilter=")]
    deny = max(i for i, words in enumerate(lines)
               if words[0].startswith("~") and "@resources" in (w.lstrip("~") for w in words))
    allowed = {w for words in lines[deny + 1:] if not words[0].startswith("~") for w in words}
    for call in ("setpriority", "ioprio_set", "sched_setattr"):
        assert call in allowed, "SystemCallFilter= denies %s after @resources" % call


@tap.test
def verify():
    require_program("systemd-analyze")
    with open(UNIT) as f:
        text = f.read()
    assert "ExecStart=/usr/libexec/ldmd\n" in text
    assert re.search(r"^Type=dbus$", text, re.M) and re.search(r"^BusName=org.ldmd1$", text, re.M)
    assert re.search(r"^StateDirectory=ldmd$", text, re.M)
    with tempfile.TemporaryDirectory() as d:
        # verify insists that ExecStart= exists: point it at the build.
        unit = os.path.join(d, "ldmd.service")
        with open(unit, "w") as f:
            f.write(text.replace("ExecStart=/usr/libexec/ldmd", "ExecStart=" + os.path.abspath(LDMD)))
        r = subprocess.run(["systemd-analyze", "verify", "--man=no", unit], capture_output=True, text=True)
        assert r.returncode == 0 and not r.stderr.strip(), r.stdout + r.stderr


@tap.test
def activation_file():
    with open(os.path.join(SOURCE_ROOT, "data", "org.ldmd1.service")) as f:
        text = f.read()
    for line in ("[D-BUS Service]", "Name=org.ldmd1", "SystemdService=ldmd.service", "User=root"):
        assert line + "\n" in text, text


@tap.test
def polkit_actions():
    root = ET.parse(os.path.join(SOURCE_ROOT, "polkit", "org.ldmd1.policy")).getroot()
    actions = {a.get("id"): {d.tag: d.text for d in a.find("defaults")} for a in root.findall("action")}
    assert set(actions) == {"org.ldmd1.recover", "org.ldmd1.cancel-other", "org.ldmd1.manage"}, actions
    assert actions["org.ldmd1.recover"]["allow_active"] == "auth_admin_keep"
    assert actions["org.ldmd1.recover"]["allow_any"] == "auth_admin"
    assert set(actions["org.ldmd1.cancel-other"].values()) == {"auth_admin"}
    assert actions["org.ldmd1.manage"]["allow_active"] == "auth_admin_keep"


if __name__ == "__main__":
    sys.exit(tap.run())
