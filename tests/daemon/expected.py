# SPDX-License-Identifier: LGPL-2.1-or-later
"""The two real Windows packs as /work/shared/testdata/ldm-real/EXPECTED.md measures them
(§3.2, §3.3): names, GUIDs, disks with their images, volumes with type, size and members.
Members are (disk name, absolute sector on that disk, sectors); plexes list their members in
column order (spanned: by volume offset)."""

S = 512
IMAGE_SECTORS = 102400

PACK_2003 = {
    "name": "Red-nzv8x6obywgDg0",
    "guid": "03c0c4fc-8b6f-402b-9431-4be2e5823b1c",
    "disks": {
        "Disk1": ("d17c2c04-6afc-46c3-84b7-cdc2f3956c5c", "ldm-2003r2-simple-1.img"),
        "Disk2": ("c85a6ce4-edb3-4dbc-a3b9-7fba4b6e6f75", "ldm-2003r2-spanned-1.img"),
        "Disk3": ("004c32fa-91e1-41ac-83b3-bc1baff2dc93", "ldm-2003r2-spanned-2.img"),
        "Disk4": ("6c7ca470-6934-4dfd-9269-c3102b9ae158", "ldm-2003r2-striped-1.img"),
        "Disk5": ("ce97d979-fabb-4e9b-b44c-7d9580ae1f53", "ldm-2003r2-striped-2.img"),
        "Disk6": ("bfcb718c-3809-44b7-ae62-c94a3bd6b057", "ldm-2003r2-mirrored-1.img"),
        "Disk7": ("47980158-abc7-46e3-a95f-7c00f8539073", "ldm-2003r2-mirrored-2.img"),
        "Disk8": ("ce3fd206-854c-4207-985b-9e0125885f20", "ldm-2003r2-raid5-1.img"),
        "Disk9": ("fa21d8d9-e087-4585-9761-5710b88e4c92", "ldm-2003r2-raid5-2.img"),
        "Disk10": ("bb1570c9-aa66-47df-a8f1-4c89db3e0704", "ldm-2003r2-raid5-3.img"),
    },
    "volumes": {
        "Volume1": ("6e30daae-8e42-40fb-9af0-807416c3fede", "simple", 96256,
                    [[("Disk1", 63, 96256)]]),
        "Volume2": ("fad18ad4-5054-4dea-8fe3-ca433d5fe1d1", "spanned", 192512,
                    [[("Disk3", 63, 96256), ("Disk2", 63, 96256)]]),
        "Stripe1": ("e5396ff0-7477-4b1a-91e8-476b9b5c6fb5", "striped", 122880,
                    [[("Disk4", 63, 61440), ("Disk5", 63, 61440)]]),
        "Volume3": ("1010eeb7-09e4-4a6d-9c43-6753ec9d3af2", "mirrored", 96256,
                    [[("Disk6", 63, 96256)], [("Disk7", 63, 96256)]]),
        "Raid1": ("f8528b30-cbe8-4ce0-9188-e60e39afcc72", "raid5", 192512,
                  [[("Disk10", 63, 96256), ("Disk9", 63, 96256), ("Disk8", 63, 96256)]]),
        "Volume4": ("782ff9fb-f2f6-465e-9f13-935a20458f00", "spanned", 69632,
                    [[("Disk4", 61503, 34816), ("Disk5", 61503, 34816)]]),
    },
}

_G = "-fbfd-11e1-8cf9-52540061f5db"
PACK_2008 = {
    "name": "WIN-ERRDJSBDAVF-Dg0",
    "guid": "06495a84" + _G,
    "disks": {
        "Disk1": ("06495a85" + _G, "ldm-2008r2-spanned-1.img"),
        "Disk2": ("06495a89" + _G, "ldm-2008r2-spanned-2.img"),
        "Disk3": ("06495a94" + _G, "ldm-2008r2-striped-1.img"),
        "Disk4": ("06495a98" + _G, "ldm-2008r2-striped-2.img"),
        "Disk5": ("06495aa3" + _G, "ldm-2008r2-mirrored-1.img"),
        "Disk6": ("06495aa7" + _G, "ldm-2008r2-mirrored-2.img"),
        "Disk7": ("06495ab2" + _G, "ldm-2008r2-raid5-1.img"),
        "Disk8": ("06495ab6" + _G, "ldm-2008r2-raid5-2.img"),
        "Disk9": ("06495abb" + _G, "ldm-2008r2-raid5-3.img"),
    },
    "volumes": {
        "Volume1": ("06495a8d" + _G, "spanned", 129024,
                    [[("Disk1", 128, 96256), ("Disk2", 65664, 32768)]]),
        "Volume2": ("06495a9c" + _G, "striped", 65536,
                    [[("Disk3", 128, 32768), ("Disk4", 65664, 32768)]]),
        "Volume3": ("06495aab" + _G, "mirrored", 32768,
                    [[("Disk5", 128, 32768)], [("Disk6", 65664, 32768)]]),
        "Volume4": ("06495ac0" + _G, "raid5", 65536,
                    [[("Disk7", 128, 32768), ("Disk8", 65664, 32768), ("Disk9", 65664, 32768)]]),
        "Volume5": ("06495ac6" + _G, "spanned", 190464,
                    [[("Disk7", 32896, 63488), ("Disk3", 32896, 63488), ("Disk5", 32896, 63488)]]),
    },
}

PACKS = [PACK_2003, PACK_2008]

# The VMDB of an MBR disk: config start (priv_start 100 352) + 17.
MBR_VMDB_SECTOR = 100352 + 17


def all_images():
    return [img for p in PACKS for (_, img) in p["disks"].values()]
