/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-escape: the escaped form of names read from disk (basic/utf8.h) — valid names kept,
 * control characters and invalid UTF-8 as "\xNN", truncation only at whole characters — and
 * sd-bus itself as the judge: whatever bytes go in, sd-bus accepts what comes out, and a
 * string it accepts without control characters comes out unchanged. Also: one log message
 * is one line, whatever it quotes. */

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

/* The daemon's headers first: GLib redefines MIN/MAX after them without complaint. */
#include "log.h"
#include "utf8.h"

#include <glib.h>

#include "test-util.h"

static char *escape(const char *s) {
        char *e = utf8_escape(s);
        g_assert_nonnull(e);
        return e;
}

#define assert_escape(in, want)                         \
        do {                                            \
                g_autofree char *e_ = escape(in);       \
                g_assert_cmpstr(e_, ==, (want));        \
        } while (0)

static void test_valid_kept(void) {
        assert_escape("", "");
        assert_escape("WIN-ERRDJSBDAVF-Dg0", "WIN-ERRDJSBDAVF-Dg0");
        assert_escape("Données ✓ 𝄞 ß", "Données ✓ 𝄞 ß");
        assert_escape("a\\xff", "a\\xff"); /* a backslash is kept: the form is not reversible */
        assert_escape("\xef\xbf\xbd", "\xef\xbf\xbd"); /* U+FFFD */
        assert_escape("\xf4\x8f\xbf\xbd", "\xf4\x8f\xbf\xbd"); /* U+10FFFD */
}

static void test_controls(void) {
        assert_escape("bad\nname", "bad\\x0aname");
        assert_escape("\n<0>forged", "\\x0a<0>forged");
        assert_escape("\t\r\x1b[31m\x7f", "\\x09\\x0d\\x1b[31m\\x7f");
}

static void test_invalid(void) {
        assert_escape("bad\xff", "bad\\xff");
        assert_escape("\xc3", "\\xc3");                         /* cut short */
        assert_escape("\xc3(", "\\xc3(");                       /* no continuation */
        assert_escape("\x80\xbf", "\\x80\\xbf");                /* continuations alone */
        assert_escape("\xc0\x80", "\\xc0\\x80");                /* overlong NUL */
        assert_escape("\xe0\x80\xaf", "\\xe0\\x80\\xaf");       /* overlong '/' */
        assert_escape("\xed\xa0\x80", "\\xed\\xa0\\x80");       /* surrogate U+D800 */
        assert_escape("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* U+110000 */
        assert_escape("\xef\xbf\xbe", "\\xef\\xbf\\xbe");       /* U+FFFE */
        assert_escape("\xef\xb7\x90", "\\xef\\xb7\\x90");       /* U+FDD0 */
        assert_escape("\xf8\x88\x80\x80\x80", "\\xf8\\x88\\x80\\x80\\x80");
        /* A broken sequence costs only its own bytes: the next character is kept. */
        assert_escape("\xe2\x82Ü", "\\xe2\\x82Ü");
}

static void test_bounded(void) {
        char buf[8];
        g_autofree char *all = NULL;
        char name[256];

        /* Never half an escape nor half a character. */
        g_assert_cmpstr(utf8_escape_buf("ab\xff", buf, 6), ==, "ab");
        g_assert_cmpstr(utf8_escape_buf("ab\xff", buf, 7), ==, "ab\\xff");
        g_assert_cmpstr(utf8_escape_buf("aé", buf, 3), ==, "a");
        g_assert_cmpstr(utf8_escape_buf("aé", buf, 4), ==, "aé");
        g_assert_cmpstr(utf8_escape_buf("abc", buf, 1), ==, "");
        /* The longest name LDM can hold, every byte escaped: 4 × 255 + 1 bytes. */
        memset(name, 0xff, 255);
        name[255] = '\0';
        all = escape(name);
        g_assert_cmpuint(strlen(all), ==, 255 * UTF8_ESCAPE_GROWTH);
}

/* sd-bus, before any peer has answered, builds messages: it is the judge of what it sends. */
static sd_bus *judge(void) {
        sd_bus *bus = NULL;
        int fds[2];

        g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds), ==, 0);
        g_assert_cmpint(sd_bus_new(&bus), >=, 0);
        g_assert_cmpint(sd_bus_set_fd(bus, fds[0], fds[0]), >=, 0);
        g_assert_cmpint(sd_bus_start(bus), >=, 0);
        close(fds[1]);
        return bus;
}

static bool sd_bus_accepts(sd_bus *bus, const char *s) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;

        g_assert_cmpint(sd_bus_message_new_signal(bus, &m, "/t", "org.ldmd1.Test", "T"), >=, 0);
        return sd_bus_message_append(m, "s", s) >= 0;
}

static bool has_control(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

/* Random names made of pieces that probe every rule: valid characters of each length,
 * lead bytes alone, stray continuations, controls, surrogates, noncharacters. */
static void random_name(GRand *rand, char *buf, size_t size) {
        static const char *const pieces[] = {
                "a", "Z", "\\", " ", "\n", "\x01", "\x7f", "é", "✓", "𝄞", "\xc3", "\xe2\x82",
                "\xf0\x9d", "\x80", "\xbf", "\xff", "\xfe", "\xc0\xaf", "\xed\xbf\xbf",
                "\xef\xbf\xbf", "\xef\xb7\xaf", "\xf4\x90\x80\x80", "\xf0\x8f\xbf\xbf",
                "\xf3\xbf\xbf\xbe", "\xc2\x80",
        };
        size_t n = 0, k = (size_t) g_rand_int_range(rand, 0, 24);

        buf[0] = '\0';
        for (size_t i = 0; i < k; i++) {
                const char *p = pieces[g_rand_int_range(rand, 0, G_N_ELEMENTS(pieces))];
                if (n + strlen(p) >= size)
                        break;
                strcpy(buf + n, p);
                n += strlen(p);
        }
}

static void test_sd_bus_judges(void) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = judge();
        g_autoptr(GRand) rand = g_rand_new_with_seed(4242);
        unsigned kept = 0, changed = 0;
        char name[128];

        g_assert_false(sd_bus_accepts(bus, "bad\xff"));
        for (unsigned i = 0; i < 20000; i++) {
                g_autofree char *e = NULL;

                random_name(rand, name, sizeof name);
                e = escape(name);
                g_assert_true(sd_bus_accepts(bus, e));
                g_assert_false(has_control(e));
                /* Unchanged exactly when sd-bus takes it as it is and it has no control. */
                g_assert_cmpint(strcmp(e, name) == 0, ==, sd_bus_accepts(bus, name) && !has_control(name));
                if (strcmp(e, name) == 0)
                        kept++;
                else
                        changed++;
        }
        /* The generator reached both sides. */
        g_assert_cmpuint(kept, >, 100);
        g_assert_cmpuint(changed, >, 100);
}

static void test_log_one_line(void) {
        g_autofree char *dir = test_tmpdir();
        g_autofree char *path = g_build_filename(dir, "stderr", NULL);
        g_autofree char *text = NULL;
        int saved = dup(STDERR_FILENO), fd;

        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        g_assert_cmpint(fd, >=, 0);
        dup2(fd, STDERR_FILENO);
        close(fd);
        log_set_max_level(LOG_INFO);
        log_info("Pack %s recovered.", "bad\xff\n<0>forged");
        dup2(saved, STDERR_FILENO);
        close(saved);
        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        g_assert_cmpstr(text, ==, "ldmd: Pack bad\\xff\\x0a<0>forged recovered.\n");
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/daemon/escape/valid-kept", test_valid_kept);
        g_test_add_func("/daemon/escape/controls", test_controls);
        g_test_add_func("/daemon/escape/invalid", test_invalid);
        g_test_add_func("/daemon/escape/bounded", test_bounded);
        g_test_add_func("/daemon/escape/sd-bus-judges", test_sd_bus_judges);
        g_test_add_func("/daemon/escape/log-one-line", test_log_one_line);
        return g_test_run();
}
