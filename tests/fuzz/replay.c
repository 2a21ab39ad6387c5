/*  replay: runs a fuzz target's LLVMFuzzerTestOneInput over every file of
    the corpus directories (or files) named on the command line, so ctest
    replays the corpora with any compiler and without libFuzzer.            */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

//  Reads a whole file and runs the target on it. Returns 0 or -1.
static int
s_replay_file (const char *path)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        fprintf (stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    size_t cap = 4096, size = 0;
    uint8_t *data = malloc (cap);
    while (data) {
        size += fread (data + size, 1, cap - size, file);
        if (size < cap)
            break;
        uint8_t *bigger = realloc (data, cap * 2);
        if (!bigger) {
            free (data);
            data = NULL;
            break;
        }
        data = bigger;
        cap *= 2;
    }
    int failed = ferror (file) || !data;
    fclose (file);
    if (failed) {
        fprintf (stderr, "replay: cannot read %s\n", path);
        free (data);
        return -1;
    }
    //  an exact-size copy, so ASan sees reads past the end of the input
    uint8_t *input = malloc (size? size: 1);
    int rc = input? 0: -1;
    if (input) {
        memcpy (input, data, size);
        LLVMFuzzerTestOneInput (input, size);
    }
    free (input);
    free (data);
    return rc;
}

//  Runs the target on every regular file of a directory, or on a file.
static int
s_replay_path (const char *path, size_t *count)
{
    struct stat st;
    if (stat (path, &st)) {
        fprintf (stderr, "replay: no such file or directory: %s\n", path);
        return -1;
    }
    if (!S_ISDIR (st.st_mode)) {
        (*count)++;
        return s_replay_file (path);
    }
    DIR *dir = opendir (path);
    if (!dir)
        return -1;
    int rc = 0;
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        if (entry->d_name [0] == '.')
            continue;
        char full [4096];
        snprintf (full, sizeof full, "%s/%s", path, entry->d_name);
        if (stat (full, &st) || !S_ISREG (st.st_mode))
            continue;
        (*count)++;
        if (s_replay_file (full))
            rc = -1;
    }
    closedir (dir);
    return rc;
}

int
main (int argc, char *argv [])
{
    if (argc < 2) {
        fprintf (stderr, "usage: %s corpus-dir-or-file...\n", argv [0]);
        return 2;
    }
    size_t count = 0;
    int rc = 0;
    for (int i = 1; i < argc; i++)
        if (s_replay_path (argv [i], &count))
            rc = 1;
    printf ("%s: replayed %zu inputs\n", argv [0], count);
    if (count == 0)
        rc = 1;                 //  an empty corpus is a setup error
    return rc;
}
