/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* mkldm: makes a new Windows LDM ("dynamic disk") pack on block devices or image files:
 *   mkldm [--gpt] [--name GROUP] [--create SIZE] [--force] [--json]
 *         --volume TYPE:SIZE[:NAME][@I,J,...] [--volume ...] DEVICE|IMAGE...
 * Scripts and tests depend on this command line and on the --json document. */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "create.h"
#include "io.h"
#include "writer.h"

#define PROBE_HEAD (68u * 1024u)   /* partition tables, superblocks up to btrfs' at 64 KiB */
#define PROBE_TAIL (1024u * 1024u) /* backup GPT, md 0.90, an LDM private region */

static const char *const type_names[_LDM_VOLUME_TYPE_MAX] = {
        [LDM_VOLUME_SIMPLE] = "simple",
        [LDM_VOLUME_SPAN] = "span",
        [LDM_VOLUME_STRIPE] = "stripe",
        [LDM_VOLUME_MIRROR] = "mirror",
        [LDM_VOLUME_RAID5] = "raid5",
};

typedef struct Args {
        bool gpt, force, json;
        const char *name;
        uint64_t create_size;
        char **volume_specs;
        size_t n_volumes;
        char **paths;
        size_t n_paths;
} Args;

static void help(void) {
        printf("Usage: mkldm [--gpt] [--name GROUP] [--create SIZE] [--force] [--json]\n"
               "             --volume TYPE:SIZE[:NAME][@I,J,...] [--volume ...] DEVICE|IMAGE...\n\n"
               "Makes a new Windows LDM (dynamic disk) pack on the given disks.\n\n"
               "  --gpt             GPT disks (default: MBR)\n"
               "  --name GROUP      disk group name (default: <hostname>-Dg0)\n"
               "  --create SIZE     create missing image files, sparse, of SIZE\n"
               "  --force           write even over disks that hold data\n"
               "  --json            print the result as JSON\n"
               "  --volume SPEC     TYPE simple|span|stripe|mirror|raid5, SIZE with K/M/G/T,\n"
               "                    @I,J disk positions (1-based) in column order\n");
}

/* "64M", "1G", "4096", "1.5G" is not accepted: sizes are whole units. */
static int parse_size(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;
        unsigned shift = 0;

        if (!isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0)
                return -ERANGE;
        switch (toupper((unsigned char) *end)) {
        case '\0': break;
        case 'K': shift = 10; end++; break;
        case 'M': shift = 20; end++; break;
        case 'G': shift = 30; end++; break;
        case 'T': shift = 40; end++; break;
        default: return -EINVAL;
        }
        if (strcasecmp(end, "iB") == 0 || strcasecmp(end, "B") == 0)
                end += strlen(end);
        if (*end != '\0')
                return -EINVAL;
        if (shift && v > (UINT64_MAX >> shift))
                return -ERANGE;
        *ret = (uint64_t) v << shift;
        return 0;
}

static int parse_type(const char *s, LdmVolumeType *ret) {
        for (LdmVolumeType t = 0; t < _LDM_VOLUME_TYPE_MAX; t++)
                if (strcmp(s, type_names[t]) == 0) {
                        *ret = t;
                        return 0;
                }
        return -EINVAL;
}

/* TYPE:SIZE[:NAME][@I,J,...] into *v; name points into the (modified) spec. */
static int parse_volume(char *spec, size_t n_disks, LdmCreateVolume *v) {
        const char *orig = strdupa(spec);
        char *at = strchr(spec, '@'), *size, *name;

        *v = (LdmCreateVolume) {};
        if (at)
                *at++ = '\0';
        size = strchr(spec, ':');
        if (!size) {
                fprintf(stderr, "mkldm: --volume '%s': expected TYPE:SIZE[:NAME][@I,J,...]\n", orig);
                return -EINVAL;
        }
        *size++ = '\0';
        name = strchr(size, ':');
        if (name)
                *name++ = '\0';
        if (parse_type(spec, &v->type) < 0) {
                fprintf(stderr, "mkldm: --volume '%s': unknown type '%s' "
                        "(simple, span, stripe, mirror, raid5)\n", orig, spec);
                return -EINVAL;
        }
        if (parse_size(size, &v->size) < 0 || v->size == 0) {
                fprintf(stderr, "mkldm: --volume '%s': bad size '%s' (a number with K, M, G or T)\n",
                        orig, size);
                return -EINVAL;
        }
        if (name && *name)
                v->name = name;

        if (at) {
                for (char *tok = strtok(at, ","); tok; tok = strtok(NULL, ",")) {
                        char *end;
                        unsigned long d = strtoul(tok, &end, 10);
                        if (*end || d < 1 || d > n_disks) {
                                fprintf(stderr, "mkldm: --volume '%s': disk position '%s' is not "
                                        "1…%zu\n", orig, tok, n_disks);
                                return -EINVAL;
                        }
                        if (v->n_disks >= LDM_CREATE_MAX_EXTENTS) {
                                fprintf(stderr, "mkldm: --volume '%s': too many disks\n", orig);
                                return -EINVAL;
                        }
                        v->disks[v->n_disks++] = (unsigned) d - 1;
                }
                if (v->n_disks == 0) {
                        fprintf(stderr, "mkldm: --volume '%s': empty disk list after '@'\n", orig);
                        return -EINVAL;
                }
        } else {
                size_t n = v->type == LDM_VOLUME_SIMPLE ? 1 :
                           v->type == LDM_VOLUME_MIRROR ? 2 : MIN(n_disks, LDM_CREATE_MAX_EXTENTS);
                if (n > n_disks) {
                        fprintf(stderr, "mkldm: --volume '%s': a mirror needs two disks\n", orig);
                        return -EINVAL;
                }
                for (size_t i = 0; i < n; i++)
                        v->disks[v->n_disks++] = (unsigned) i;
        }
        return 0;
}

static int parse_args(int argc, char **argv, Args *a) {
        static const struct option options[] = {
                { "gpt",     no_argument,       NULL, 'g' },
                { "name",    required_argument, NULL, 'n' },
                { "create",  required_argument, NULL, 'c' },
                { "force",   no_argument,       NULL, 'f' },
                { "json",    no_argument,       NULL, 'j' },
                { "volume",  required_argument, NULL, 'v' },
                { "help",    no_argument,       NULL, 'h' },
                { "version", no_argument,       NULL, 'V' },
                {}
        };
        int c;

        a->volume_specs = calloc(argc, sizeof(char *));
        if (!a->volume_specs)
                return -ENOMEM;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'g': a->gpt = true; break;
                case 'f': a->force = true; break;
                case 'j': a->json = true; break;
                case 'n': a->name = optarg; break;
                case 'v': a->volume_specs[a->n_volumes++] = optarg; break;
                case 'c':
                        if (parse_size(optarg, &a->create_size) < 0 || a->create_size < 512) {
                                fprintf(stderr, "mkldm: --create '%s': bad size (a number with K, M, G or T)\n",
                                        optarg);
                                return -EINVAL;
                        }
                        break;
                case 'h': help(); return 0;
                case 'V': printf("mkldm %s\n", PACKAGE_VERSION); return 0;
                default: return -EINVAL;
                }
        a->paths = argv + optind;
        a->n_paths = (size_t) (argc - optind);
        if (a->n_paths == 0) {
                fprintf(stderr, "mkldm: no DEVICE or IMAGE given (see --help)\n");
                return -EINVAL;
        }
        if (a->n_paths > LDM_CREATE_MAX_DISKS) {
                fprintf(stderr, "mkldm: %zu disks given, at most %u\n", a->n_paths, LDM_CREATE_MAX_DISKS);
                return -EINVAL;
        }
        return 1;
}

static int create_image(const char *path, uint64_t size) {
        _cleanup_close_ int fd = -EBADF;

        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
                return negative_errno();
        if (ftruncate(fd, (off_t) size) < 0)
                return negative_errno();
        return 0;
}

static bool all_zero(const uint8_t *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (p[i])
                        return false;
        return true;
}

/* Refuses a disk holding data unless --force: any non-zero byte where partition tables,
 * filesystem superblocks or RAID/LDM metadata would be. */
static int check_blank(LdmIo *io) {
        _cleanup_free_ uint8_t *buf = malloc(PROBE_TAIL);
        uint64_t size = ldm_io_size(io);
        size_t head = (size_t) MIN((uint64_t) PROBE_HEAD, size);
        size_t tail = (size_t) MIN((uint64_t) PROBE_TAIL, size);
        int r;

        if (!buf)
                return -ENOMEM;
        r = ldm_io_pread(io, buf, head, 0);
        if (r < 0)
                return r;
        if (!all_zero(buf, head))
                return -EEXIST;
        r = ldm_io_pread(io, buf, tail, size - tail);
        if (r < 0)
                return r;
        return all_zero(buf, tail) ? 0 : -EEXIST;
}

static int open_disk(const Args *a, const char *path, LdmIo **ret) {
        struct stat st;
        int r;

        if (stat(path, &st) < 0) {
                if (errno != ENOENT || a->create_size == 0) {
                        fprintf(stderr, "mkldm: %s: %m%s\n", path,
                                errno == ENOENT ? " (use --create SIZE to make an image file)" : "");
                        return -errno;
                }
                r = create_image(path, a->create_size);
                if (r < 0) {
                        fprintf(stderr, "mkldm: %s: cannot create image: %s\n", path, strerror(-r));
                        return r;
                }
        }
        r = ldm_io_open(path, LDM_IO_WRITE, ret);
        if (r == -EBUSY) {
                fprintf(stderr, "mkldm: %s: device is in use (mounted, or held by another "
                        "driver); not touching it\n", path);
                return r;
        }
        if (r < 0) {
                fprintf(stderr, "mkldm: %s: cannot open for writing: %s\n", path, strerror(-r));
                return r;
        }
        if (ldm_io_logical_sector_size(*ret) != 512) {
                fprintf(stderr, "mkldm: %s: logical sector size %u; only 512-byte sectors are "
                        "supported\n", path, ldm_io_logical_sector_size(*ret));
                return -EOPNOTSUPP;
        }
        if (!a->force) {
                r = check_blank(*ret);
                if (r == -EEXIST) {
                        fprintf(stderr, "mkldm: %s: holds data (a partition table, file system "
                                "or RAID signature); use --force to overwrite it\n", path);
                        return r;
                }
                if (r < 0) {
                        fprintf(stderr, "mkldm: %s: cannot read: %s\n", path, strerror(-r));
                        return r;
                }
        }
        return 0;
}

static void json_string(const char *s) {
        putchar('"');
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;
                if (c == '"' || c == '\\')
                        printf("\\%c", c);
                else if (c < 0x20)
                        printf("\\u%04x", c);
                else
                        putchar(c);
        }
        putchar('"');
}

static uint64_t extent_offset(const LdmNewPack *p, const LdmNewExtent *e) {
        return (p->disks[e->disk].privhead.pub_start + e->start) * 512;
}

static void print_json(const LdmNewPack *p, char **paths) {
        printf("{\n  \"group\": { \"name\": ");
        json_string(p->group_name);
        printf(", \"guid\": \"%s\" },\n  \"disks\": [", GUID_TO_STRING(&p->group_guid));
        for (size_t i = 0; i < p->n_disks; i++) {
                const LdmNewDisk *d = &p->disks[i];
                printf("%s\n    { \"path\": ", i ? "," : "");
                json_string(paths[i]);
                printf(", \"name\": \"%s\", \"guid\": \"%s\", \"label\": \"%s\", "
                       "\"size\": %" PRIu64 ", \"public_start\": %" PRIu64 ", \"public_size\": %" PRIu64
                       ", \"private_start\": %" PRIu64 " }",
                       d->name, GUID_TO_STRING(&d->privhead.disk_guid),
                       d->label.type == LDM_LABEL_GPT ? "gpt" : "mbr", d->n_sectors * 512,
                       d->privhead.pub_start, d->privhead.pub_size, d->privhead.priv_start);
        }
        printf("\n  ],\n  \"volumes\": [");
        for (size_t i = 0; i < p->n_volumes; i++) {
                const LdmNewVolume *v = &p->volumes[i];
                printf("%s\n    { \"name\": ", i ? "," : "");
                json_string(v->name);
                printf(", \"guid\": \"%s\", \"type\": \"%s\", \"size\": %" PRIu64 ", \"members\": [",
                       GUID_TO_STRING(&v->guid), type_names[v->type], v->size * 512);
                for (size_t j = 0; j < v->n_extents; j++) {
                        const LdmNewExtent *e = &v->extents[j];
                        printf("%s\n        { \"name\": \"%s\", \"disk\": \"%s\", \"path\": ",
                               j ? "," : "", e->name, p->disks[e->disk].name);
                        json_string(paths[e->disk]);
                        printf(", \"plex\": %u, \"column\": %u, \"start\": %" PRIu64
                               ", \"offset\": %" PRIu64 ", \"length\": %" PRIu64
                               ", \"column_offset\": %" PRIu64 " }",
                               e->plex, e->column, e->start, extent_offset(p, e), e->size * 512,
                               e->offset_in_column * 512);
                }
                printf(" ] }");
        }
        printf("\n  ]\n}\n");
}

static void print_human(const LdmNewPack *p, char **paths) {
        printf("Disk group %s (%s), %zu disk%s:\n", p->group_name, GUID_TO_STRING(&p->group_guid),
               p->n_disks, p->n_disks == 1 ? "" : "s");
        for (size_t i = 0; i < p->n_disks; i++) {
                const LdmNewDisk *d = &p->disks[i];
                printf("  %-7s %s  %s  %s, %" PRIu64 " MiB, data %" PRIu64 "+%" PRIu64 "\n",
                       d->name, paths[i], GUID_TO_STRING(&d->privhead.disk_guid),
                       d->label.type == LDM_LABEL_GPT ? "GPT" : "MBR", d->n_sectors / 2048,
                       d->privhead.pub_start, d->privhead.pub_size);
        }
        for (size_t i = 0; i < p->n_volumes; i++) {
                const LdmNewVolume *v = &p->volumes[i];
                printf("Volume %s (%s): %s, %" PRIu64 " MiB\n", v->name, GUID_TO_STRING(&v->guid),
                       type_names[v->type], v->size / 2048);
                for (size_t j = 0; j < v->n_extents; j++) {
                        const LdmNewExtent *e = &v->extents[j];
                        printf("  %-9s plex %u column %u  %s at byte %" PRIu64 ", %" PRIu64 " MiB\n",
                               e->name, e->plex, e->column, paths[e->disk], extent_offset(p, e),
                               e->size / 2048);
                }
        }
}

int main(int argc, char **argv) {
        Args a = {};
        LdmIo **ios = NULL;
        LdmCreateDisk *disks = NULL;
        LdmCreateVolume *vols = NULL;
        _cleanup_(ldm_new_pack_freep) LdmNewPack *pack = NULL;
        LdmDiag err = {};
        char buf[512];
        int r, ret = EXIT_FAILURE;

        r = parse_args(argc, argv, &a);
        if (r <= 0) {
                free(a.volume_specs);
                return r == 0 ? EXIT_SUCCESS : 2;
        }

        ios = calloc(a.n_paths, sizeof(LdmIo *));
        disks = calloc(a.n_paths, sizeof(LdmCreateDisk));
        vols = calloc(MAX(a.n_volumes, 1u), sizeof(LdmCreateVolume));
        if (!ios || !disks || !vols) {
                fprintf(stderr, "mkldm: out of memory\n");
                goto finish;
        }
        for (size_t i = 0; i < a.n_volumes; i++)
                if (parse_volume(a.volume_specs[i], a.n_paths, &vols[i]) < 0) {
                        ret = 2;
                        goto finish;
                }

        for (size_t i = 0; i < a.n_paths; i++) {
                if (open_disk(&a, a.paths[i], &ios[i]) < 0)
                        goto finish;
                disks[i] = (LdmCreateDisk) {
                        .size = ldm_io_size(ios[i]),
                        .label = a.gpt ? LDM_LABEL_GPT : LDM_LABEL_MBR,
                };
        }

        r = ldm_create_pack(&(LdmCreateRequest) {
                                .group_name = a.name,
                                .disks = disks, .n_disks = a.n_paths,
                                .volumes = vols, .n_volumes = a.n_volumes,
                            }, &pack, &err);
        if (r < 0) {
                fprintf(stderr, "mkldm: %s\n", err.message[0] ? err.message : strerror(-r));
                goto finish;
        }
        r = ldm_writer_write_new(pack, ios, a.n_paths, &err);
        if (r < 0) {
                fprintf(stderr, "mkldm: %s\n",
                        err.message[0] ? ldm_diag_format(&err, buf, sizeof(buf)) : strerror(-r));
                goto finish;
        }

        if (a.json)
                print_json(pack, a.paths);
        else
                print_human(pack, a.paths);
        ret = EXIT_SUCCESS;
finish:
        for (size_t i = 0; ios && i < a.n_paths; i++)
                ldm_io_close(ios[i]);
        free(ios);
        free(disks);
        free(vols);
        free(a.volume_specs);
        return ret;
}
