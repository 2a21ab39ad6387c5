/*  zch_config: defaults, ZPL file, flags; help, print, reload.             */
#include "zch_config.h"
#include "zch_config_sections.h"
#include "zch_log.h"
#include "zch_service.h"

#include <getopt.h>
#include <czmq.h>

#define CONFIG_PARTS_MAX    12
#define CONFIG_TARGETS_MAX  4
#define CONFIG_FILE_MAX     (1024 * 1024)
#define CONFIG_FLAG_BASE    1000

//  Meta flags, handled here rather than by any table
enum { FLAG_CONFIG = 1, FLAG_PRINT, FLAG_HELP, FLAG_VERSION };

typedef struct {
    char name [96];             //  without the leading dashes
    int count;
    int part [CONFIG_TARGETS_MAX];
    const zch_option_t *option [CONFIG_TARGETS_MAX];
} flag_t;

struct zch_config_t {
    const char *program;
    const char *usage;
    bool run;
    size_t part_count;
    zch_config_part_t parts [CONFIG_PARTS_MAX];
    flag_t *flags;
    size_t flag_count;
    struct option *options;     //  for getopt_long: the flags, then the meta flags
    int argc;
    char **argv;
    const char *file;           //  --config FILE, or NULL
    zlist_t *trees;             //  every zconfig_t read, kept: values point into them
};

//  True when the option belongs in this program.
static bool
s_offered (zch_config_t *self, const zch_option_t *option)
{
    return !(self->run && (option->flags & ZCH_OPT_NO_RUN));
}

//  Adds a target to the flag called name, making the flag if needed.
static int
s_flag_add (zch_config_t *self, const char *name, int part, const zch_option_t *option)
{
    flag_t *flag = NULL;
    for (size_t i = 0; i < self->flag_count; i++)
        if (streq (self->flags [i].name, name))
            flag = &self->flags [i];
    if (!flag) {
        flag_t *grown = realloc (self->flags, (self->flag_count + 1) * sizeof *grown);
        if (!grown)
            return -1;
        self->flags = grown;
        flag = &self->flags [self->flag_count++];
        memset (flag, 0, sizeof *flag);
        snprintf (flag->name, sizeof flag->name, "%s", name);
    }
    assert (flag->count < CONFIG_TARGETS_MAX);
    flag->part [flag->count] = part;
    flag->option [flag->count] = option;
    flag->count++;
    return 0;
}

//  Builds the flag list and getopt's option array from the tables.
static int
s_build_flags (zch_config_t *self)
{
    char name [96];
    for (size_t p = 0; p < self->part_count; p++)
        for (const zch_option_t *option = self->parts [p].table; option->name; option++)
            if (s_offered (self, option)) {
                snprintf (name, sizeof name, "%s%s", self->parts [p].prefix, option->name);
                if (s_flag_add (self, name, (int) p, option))
                    return -1;
            }
    if (self->run)
        for (size_t p = 0; p < self->part_count; p++)
            if (*self->parts [p].prefix)
                for (const zch_option_t *option = self->parts [p].table; option->name; option++)
                    if ((option->flags & ZCH_OPT_SHARED) && s_offered (self, option)
                    &&  s_flag_add (self, option->name, (int) p, option))
                        return -1;
    self->options = calloc (self->flag_count + 5, sizeof (struct option));
    if (!self->options)
        return -1;
    size_t i;
    for (i = 0; i < self->flag_count; i++) {
        bool boolean = self->flags [i].option [0]->type == ZCH_OPT_BOOL;
        self->options [i] = (struct option) {
            self->flags [i].name, boolean? optional_argument: required_argument,
            NULL, CONFIG_FLAG_BASE + (int) i
        };
    }
    self->options [i++] = (struct option) { "config", required_argument, NULL, FLAG_CONFIG };
    self->options [i++] = (struct option) { "print-config", no_argument, NULL, FLAG_PRINT };
    self->options [i++] = (struct option) { "help", no_argument, NULL, FLAG_HELP };
    self->options [i++] = (struct option) { "version", no_argument, NULL, FLAG_VERSION };
    return 0;
}

zch_config_t *
zch_config_new (const char *program, const char *usage,
                const zch_config_part_t *parts, size_t count, bool run)
{
    assert (count <= CONFIG_PARTS_MAX);
    zch_config_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->program = program;
    self->usage = usage;
    self->run = run;
    self->part_count = count;
    memcpy (self->parts, parts, count * sizeof *parts);
    self->trees = zlist_new ();
    if (!self->trees || s_build_flags (self)) {
        zch_config_destroy (&self);
        return NULL;
    }
    for (size_t p = 0; p < count; p++)
        zch_option_defaults (parts [p].table, parts [p].base);
    return self;
}

void
zch_config_destroy (zch_config_t **self_p)
{
    zch_config_t *self = *self_p;
    if (!self)
        return;
    if (self->trees) {
        zconfig_t *tree;
        while ((tree = zlist_pop (self->trees)))
            zconfig_destroy (&tree);
        zlist_destroy (&self->trees);
    }
    free (self->flags);
    free (self->options);
    free (self);
    *self_p = NULL;
}

//  Reports an error: to stderr at start-up, to the log at reload.
static void
s_report (zch_config_t *self, bool reloading, const char *format, ...)
{
    char text [1024];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    if (reloading)
        zch_error ("config: reload failed, keeping the running settings: %s", text);
    else
        fprintf (stderr, "%s: %s\n", self->program, text);
}

//  Finds the line of a section header (key NULL) or of the nth (from 0)
//  occurrence of a key inside a section in ZPL text, for error messages.
//  Returns 0 when not found.
static int
s_line_of (const char *text, const char *section, const char *key, int nth)
{
    int line = 1;
    bool in_section = false;
    for (const char *cursor = text; *cursor; line++) {
        const char *end = strchr (cursor, '\n');
        size_t len = end? (size_t) (end - cursor): strlen (cursor);
        size_t indent = strspn (cursor, " \t");
        const char *name = cursor + indent;
        size_t name_len = strcspn (name, " \t=\r\n#");
        if (indent < len && name_len > 0 && *name != '#') {
            bool top = indent == 0;
            if (top)
                in_section = strlen (section) == name_len && strncmp (name, section, name_len) == 0;
            if (in_section && (top? key == NULL:
                               key && strlen (key) == name_len && strncmp (name, key, name_len) == 0)
            &&  nth-- == 0)
                return line;
        }
        if (!end)
            break;
        cursor = end + 1;
    }
    return 0;
}

//  Parses ZPL text with zconfig, which prints syntax errors on stdout:
//  they are captured and returned in reason as "<line>: <reason>".
static zconfig_t *
s_parse_zpl (const char *text, char *reason, size_t reason_size)
{
    fflush (stdout);
    int saved = dup (STDOUT_FILENO);
    FILE *capture = tmpfile ();
    if (saved >= 0 && capture)
        dup2 (fileno (capture), STDOUT_FILENO);
    zconfig_t *tree = zconfig_str_load (text);
    fflush (stdout);
    if (saved >= 0 && capture)
        dup2 (saved, STDOUT_FILENO);
    if (saved >= 0)
        close (saved);
    snprintf (reason, reason_size, "syntax error");
    if (capture) {
        char said [512] = "";
        rewind (capture);
        size_t got = fread (said, 1, sizeof said - 1, capture);
        said [got] = 0;
        int line;
        char what [400];
        char *mark = strstr (said, "(zconfig): (");
        if (mark && sscanf (mark, "(zconfig): (%d) %399[^\n]", &line, what) == 2)
            snprintf (reason, reason_size, "%d: syntax error: %s", line, what);
        fclose (capture);
    }
    return tree;
}

//  Reads the whole file. Returns a string to free, or NULL with a reason.
static char *
s_read_file (const char *path, char *reason, size_t reason_size)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        snprintf (reason, reason_size, "%s: cannot read: %s", path, strerror (errno));
        return NULL;
    }
    char *text = malloc (CONFIG_FILE_MAX + 1);
    size_t got = text? fread (text, 1, CONFIG_FILE_MAX + 1, file): 0;
    bool failed = !text || ferror (file);
    fclose (file);
    if (failed || got > CONFIG_FILE_MAX) {
        snprintf (reason, reason_size, "%s: cannot read: %s", path,
                  failed? strerror (errno): "larger than 1 MiB");
        free (text);
        return NULL;
    }
    text [got] = 0;
    return text;
}

//  True when text has nothing but blank lines and comments.
static bool
s_blank (const char *text)
{
    for (const char *cursor = text; *cursor; ) {
        cursor += strspn (cursor, " \t\r\n");
        if (*cursor == '#')
            cursor += strcspn (cursor, "\n");
        else
        if (*cursor)
            return false;
    }
    return true;
}

//  Every program's sections, as the roles registered them at build time
//  (zch_config_section in CMake): a file any program reads may hold them all.
static const char *const s_sections [] = { ZCH_CONFIG_SECTIONS };

//  True when name is a section of some zchannel program.
static bool
s_known_section (const char *name)
{
    for (size_t i = 0; i < sizeof s_sections / sizeof s_sections [0]; i++)
        if (streq (name, s_sections [i]))
            return true;
    return false;
}

//  The known sections as "a, b, c" for an error message.
static const char *
s_known_sections (char *text, size_t size)
{
    size_t used = 0;
    text [0] = 0;
    for (size_t i = 0; i < sizeof s_sections / sizeof s_sections [0] && used < size; i++)
        used += (size_t) snprintf (text + used, size - used, "%s%s", i? ", ": "", s_sections [i]);
    return text;
}

//  Finds the option called key among the parts bound to section.
static const zch_option_t *
s_find (zch_config_t *self, const char *section, const char *key, size_t *part)
{
    for (size_t p = 0; p < self->part_count; p++)
        if (streq (self->parts [p].section, section)) {
            const zch_option_t *option = zch_option_find (self->parts [p].table, key);
            if (option && s_offered (self, option)) {
                *part = p;
                return option;
            }
        }
    return NULL;
}

//  In zchannel run, a key of a role's section that only the role's own
//  daemon takes: a daemon's process settings (run has its own, in run/) or
//  an option run leaves out (its front-ends reach the broker in-process).
//  Returns the option, or NULL; size is what a scratch struct for it needs.
static const zch_option_t *
s_daemon_only (zch_config_t *self, const char *section, const char *key, size_t *size)
{
    if (!self->run || streq (section, "run"))
        return NULL;
    const zch_option_t *option = zch_option_find (zch_process_options, key);
    *size = sizeof (zch_process_config_t);
    for (size_t p = 0; !option && p < self->part_count; p++)
        if (streq (self->parts [p].section, section)) {
            option = zch_option_find (self->parts [p].table, key);
            *size = self->parts [p].size;
        }
    return option;
}

//  Checks the value of a key this program skips, so that a file one
//  program accepts is valid for every program. Returns 0 or -1 (reason).
static int
s_check_skipped (const zch_option_t *option, size_t size, const char *value,
                 char *reason, size_t reason_size)
{
    if (option->type == ZCH_OPT_LIST)
        return 0;               //  a list parsed into scratch would leak; its items are free text
    void *scratch = calloc (1, size);
    if (!scratch) {
        snprintf (reason, reason_size, "out of memory");
        return -1;
    }
    int rc = zch_option_parse (option, scratch, value, reason, reason_size);
    free (scratch);
    return rc;
}

//  Applies one section of the tree to the parts bound to it. Returns 0 or
//  -1 (reported).
static int
s_apply_section (zch_config_t *self, bool reloading, const char *text,
                 zconfig_t *section, void **bases)
{
    const char *name = zconfig_name (section);
    for (zconfig_t *item = zconfig_child (section); item; item = zconfig_next (item)) {
        const char *key = zconfig_name (item);
        int nth = 0;            //  earlier items with this key (a list's repeated key)
        for (zconfig_t *before = zconfig_child (section); before != item; before = zconfig_next (before))
            nth += streq (zconfig_name (before), key);
        int line = s_line_of (text, name, key, nth);
        size_t part, size;
        char reason [512];
        const char *value = zconfig_value (item);
        const zch_option_t *option = s_find (self, name, key, &part);
        const zch_option_t *skipped = option? NULL: s_daemon_only (self, name, key, &size);
        if (skipped) {
            if (!zconfig_child (item)
            &&  s_check_skipped (skipped, size, value? value: "", reason, sizeof reason) == 0)
                continue;       //  the daemon's, valid: not ours
            s_report (self, reloading, "%s:%d: %s %s", self->file, line, key,
                      zconfig_child (item)? "takes a value, not a section": reason);
            return -1;
        }
        if (!option) {
            s_report (self, reloading, "%s:%d: unknown key '%s' in section '%s' (see --help)",
                      self->file, line, key, name);
            return -1;
        }
        if (zconfig_child (item)) {
            s_report (self, reloading, "%s:%d: '%s' takes a value, not a section",
                      self->file, line, key);
            return -1;
        }
        //  A list the file names replaces its default (one broker's endpoint)
        if (option->type == ZCH_OPT_LIST && nth == 0)
            zch_option_clear (option, bases [part]);
        if (zch_option_parse (option, bases [part], value? value: "", reason, sizeof reason)) {
            s_report (self, reloading, "%s:%d: %s %s", self->file, line, key, reason);
            return -1;
        }
    }
    return 0;
}

//  True when this program binds section.
static bool
s_bound (zch_config_t *self, const char *section)
{
    for (size_t p = 0; p < self->part_count; p++)
        if (streq (self->parts [p].section, section))
            return true;
    return false;
}

//  Applies the file to bases. Returns 0 or -1 (reported).
static int
s_apply_file (zch_config_t *self, bool reloading, void **bases)
{
    char reason [600];
    char *text = s_read_file (self->file, reason, sizeof reason);
    if (!text) {
        s_report (self, reloading, "%s", reason);
        return -1;
    }
    if (s_blank (text)) {
        free (text);
        return 0;
    }
    zconfig_t *tree = s_parse_zpl (text, reason, sizeof reason);
    if (!tree) {
        s_report (self, reloading, "%s:%s", self->file, reason);
        free (text);
        return -1;
    }
    zlist_append (self->trees, tree);
    int rc = 0;
    for (zconfig_t *section = zconfig_child (tree); section && rc == 0;
         section = zconfig_next (section)) {
        const char *name = zconfig_name (section);
        int line = s_line_of (text, name, NULL, 0);
        const char *value = zconfig_value (section);
        if (!s_known_section (name)) {
            char known [256];
            s_report (self, reloading, "%s:%d: unknown section '%s' (known: %s)",
                      self->file, line, name, s_known_sections (known, sizeof known));
            rc = -1;
        }
        else
        if (value && *value) {
            s_report (self, reloading, "%s:%d: section '%s' takes keys, not a value",
                      self->file, line, name);
            rc = -1;
        }
        else
        if (s_bound (self, name))
            rc = s_apply_section (self, reloading, text, section, bases);
        //  Sections of other programs are theirs to check
    }
    free (text);
    return rc;
}

//  Lists that flags have started replacing in one s_fill, so that flags
//  replace what the file gave instead of adding to it.
typedef struct {
    const void *list [CONFIG_PARTS_MAX * 4];
    size_t count;
} replaced_t;

//  Empties a list target the first time a flag sets it.
static void
s_replace_list (replaced_t *replaced, const zch_option_t *option, void *base)
{
    const void *list = (const char *) base + option->offset;
    for (size_t i = 0; i < replaced->count; i++)
        if (replaced->list [i] == list)
            return;
    zch_option_clear (option, base);
    if (replaced->count < sizeof replaced->list / sizeof replaced->list [0])
        replaced->list [replaced->count++] = list;
}

//  Applies one flag's value to every target. Returns 0 or -1 (reported).
static int
s_apply_flag (zch_config_t *self, bool reloading, const flag_t *flag, const char *value,
              void **bases, replaced_t *replaced)
{
    if (!value)
        value = "true";         //  a bare boolean flag
    for (int t = 0; t < flag->count; t++) {
        char reason [512];
        if (flag->option [t]->type == ZCH_OPT_LIST)
            s_replace_list (replaced, flag->option [t], bases [flag->part [t]]);
        if (zch_option_parse (flag->option [t], bases [flag->part [t]], value, reason, sizeof reason)) {
            s_report (self, reloading, "--%s %s", flag->name, reason);
            return -1;
        }
    }
    return 0;
}

//  Fills bases: defaults, then the file, then the flags. Returns 0 or -1.
static int
s_fill (zch_config_t *self, bool reloading, void **bases)
{
    for (size_t p = 0; p < self->part_count; p++)
        zch_option_defaults (self->parts [p].table, bases [p]);
    if (self->file && s_apply_file (self, reloading, bases))
        return -1;
    opterr = 0;
    optind = 0;                 //  glibc: start afresh
    int option;
    replaced_t replaced = { .count = 0 };
    while ((option = getopt_long (self->argc, self->argv, "", self->options, NULL)) != -1)
        if (option >= CONFIG_FLAG_BASE
        &&  s_apply_flag (self, reloading, &self->flags [option - CONFIG_FLAG_BASE], optarg,
                          bases, &replaced))
            return -1;
    return 0;
}

//  Prints one flag's --help line.
static void
s_help_line (zch_config_t *self, const flag_t *flag)
{
    const zch_option_t *option = flag->option [0];
    char left [160], fallback [256];
    snprintf (left, sizeof left, "--%s%s%s", flag->name, option->arg? " ": "",
              option->arg? option->arg: "");
    zch_option_format (option, self->parts [flag->part [0]].base, fallback, sizeof fallback);
    printf ("  %-35s %s, default %s%s", left, option->help, *fallback? fallback: "none",
            (option->flags & ZCH_OPT_RELOAD)? " (SIGHUP reloads)": "");
    if (flag->count > 1) {
        printf (" [");
        for (int t = 0; t < flag->count; t++)
            printf ("%s%s", t? ", ": "", self->parts [flag->part [t]].section);
        printf ("]");
    }
    printf ("\n");
}

//  Prints --help from the tables.
static void
s_help (zch_config_t *self)
{
    printf ("Usage: %s [OPTION]...\n%s\n", self->program, self->usage);
    //  Flags of one role first, by section in part order, then those
    //  setting several
    for (size_t p = 0; p < self->part_count; p++) {
        const char *section = self->parts [p].section;
        if (p > 0 && streq (self->parts [p - 1].section, section))
            continue;
        printf ("\n%s settings (ZPL section %s/):\n", section, section);
        for (size_t i = 0; i < self->flag_count; i++) {
            const flag_t *flag = &self->flags [i];
            if (flag->count == 1 && streq (self->parts [flag->part [0]].section, section))
                s_help_line (self, flag);
        }
    }
    bool several = false;
    for (size_t i = 0; i < self->flag_count; i++)
        if (self->flags [i].count > 1) {
            if (!several)
                printf ("\nsettings of several roles at once:\n");
            several = true;
            s_help_line (self, &self->flags [i]);
        }
    printf ("\n  %-35s %s\n  %-35s %s\n  %-35s %s\n  %-35s %s\n",
            "--config FILE", "read settings from a ZPL file; flags override it",
            "--print-config", "print the settings in effect as ZPL and exit",
            "--help", "show this help and exit",
            "--version", "show the version and exit");
    printf ("\nSIGHUP: read the file and flags again, apply what reloads live and reload\n"
            "the plugins (a file or plugin that fails to load keeps what runs).\n"
            "SIGINT or SIGTERM: stop accepting, deliver what was accepted, then exit\n"
            "(bounded by --drain-timeout).\n");
}

int
zch_config_load (zch_config_t *self, int argc, char *argv [])
{
    self->argc = argc;
    self->argv = argv;
    bool print = false;
    opterr = 0;
    optind = 0;
    int option;
    while ((option = getopt_long (argc, argv, "", self->options, NULL)) != -1) {
        switch (option) {
            case FLAG_CONFIG: self->file = optarg; break;
            case FLAG_PRINT: print = true; break;
            case FLAG_HELP: s_help (self); return 0;
            case FLAG_VERSION: printf ("%s %s\n", self->program, ZCH_VERSION); return 0;
            case '?':
            case ':':
                fprintf (stderr, "%s: unknown or incomplete option '%s' (see --help)\n",
                         self->program, argv [optind - 1]);
                return 2;
            default: break;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "%s: unexpected argument '%s' (see --help)\n", self->program, argv [optind]);
        return 2;
    }
    void *bases [CONFIG_PARTS_MAX];
    for (size_t p = 0; p < self->part_count; p++)
        bases [p] = self->parts [p].base;
    if (s_fill (self, false, bases))
        return 2;
    if (print) {
        zch_config_print (self, stdout);
        return 0;
    }
    return -1;
}

int
zch_config_reload (zch_config_t *self)
{
    void *bases [CONFIG_PARTS_MAX] = { NULL };
    int changed = -1;
    for (size_t p = 0; p < self->part_count; p++)
        if (!(bases [p] = malloc (self->parts [p].size))) {
            zch_error ("config: reload failed: out of memory");
            goto cleanup;
        }
    for (size_t p = 0; p < self->part_count; p++)
        memcpy (bases [p], self->parts [p].base, self->parts [p].size);
    if (s_fill (self, true, bases))
        goto cleanup;
    changed = 0;
    for (size_t p = 0; p < self->part_count; p++) {
        const zch_config_part_t *part = &self->parts [p];
        for (const zch_option_t *option = part->table; option->name; option++) {
            if (!s_offered (self, option) || !zch_option_differs (option, part->base, bases [p]))
                continue;
            char was [256], now [256];
            zch_option_format (option, part->base, was, sizeof was);
            zch_option_format (option, bases [p], now, sizeof now);
            if (option->flags & ZCH_OPT_RELOAD) {
                zch_option_copy (option, part->base, bases [p]);
                zch_notice ("config: %s/%s changed from %s to %s", part->section, option->name, was, now);
                changed++;
            }
            else
                zch_warning ("config: %s/%s changed from %s to %s, which takes a restart; "
                             "still %s", part->section, option->name, was, now, was);
        }
    }
    zch_notice ("config: reloaded%s%s, %d value%s changed", self->file? " ": "",
                self->file? self->file: "", changed, changed == 1? "": "s");
cleanup:
    for (size_t p = 0; p < self->part_count; p++)
        free (bases [p]);
    return changed;
}

//  Writes value as a ZPL value: quoted, with the quote it does not contain
//  (zch_option_parse refuses a value holding both).
static void
s_print_value (FILE *out, const char *value)
{
    char quote = strchr (value, '"')? '\'': '"';
    fprintf (out, "%c%s%c", quote, value, quote);
}

void
zch_config_print (zch_config_t *self, FILE *out)
{
    fprintf (out, "#   %s settings in effect (ZPL; read back with --config FILE).\n"
                  "#   Keys marked 'reloads' change on SIGHUP; the others need a restart.\n",
             self->program);
    for (size_t p = 0; p < self->part_count; p++) {
        const zch_config_part_t *part = &self->parts [p];
        if (p == 0 || !streq (self->parts [p - 1].section, part->section))
            fprintf (out, "\n%s\n", part->section);
        for (const zch_option_t *option = part->table; option->name; option++) {
            if (!s_offered (self, option))
                continue;
            char value [512];
            zch_option_format (option, part->base, value, sizeof value);
            fprintf (out, "    #   %s%s\n", option->help,
                     (option->flags & ZCH_OPT_RELOAD)? " (reloads)": "");
            if (option->type == ZCH_OPT_LIST) {
                //  One key per item, in order; "" for none
                const zch_option_list_t *list = (const zch_option_list_t *)
                    ((const char *) part->base + option->offset);
                for (int i = 0; i < list->count || i == 0; i++) {
                    fprintf (out, "    %s = ", option->name);
                    s_print_value (out, list->count? list->items [i]: "");
                    fprintf (out, "\n");
                }
                continue;
            }
            //  A string whole, however long: value holds only its first 511 bytes
            const char *text = option->type == ZCH_OPT_STRING?
                *(const char * const *) ((const char *) part->base + option->offset): value;
            fprintf (out, "    %s = ", option->name);
            s_print_value (out, text? text: "");
            fprintf (out, "\n");
        }
    }
}
