/*  zch_plugin_so: loading a plugin and checking its ABI before any use.    */
#include "zch_plugin_so.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef ZCH_PLUGIN_DIR
#define ZCH_PLUGIN_DIR "/usr/local/lib/zchannel/plugins"
#endif
#ifndef ZCH_PLUGIN_RELDIR
#define ZCH_PLUGIN_RELDIR "lib/zchannel/plugins"
#endif
#ifndef ZCH_PLUGIN_BUILD_DIR
#define ZCH_PLUGIN_BUILD_DIR "plugins-out"
#endif

//  The directories searched after --plugin-path, at most this many
#define S_DEFAULT_DIRS 4

struct zch_plugin_so_t {
    void *handle;
    const zch_plugin_t *descriptor;
    char path [PATH_MAX];
};

//  Adds directory to dirs unless it is there already or too long.
static void
s_add_dir (char dirs [][PATH_MAX], size_t *count, const char *top, const char *directory)
{
    char path [PATH_MAX];
    if ((size_t) snprintf (path, sizeof path, "%s%s%s", top, *top? "/": "", directory) >= sizeof path)
        return;
    for (size_t i = 0; i < *count; i++)
        if (strcmp (dirs [i], path) == 0)
            return;
    snprintf (dirs [(*count)++], PATH_MAX, "%s", path);
}

//  Where plugins are found when no --plugin-path has them: beside the
//  running program (its prefix's plugin folder, so a relocated or packaged
//  install finds its own), the install directory chosen at build time, and,
//  for a program run from a build tree, that tree's plugin folder.
static size_t
s_default_dirs (char dirs [S_DEFAULT_DIRS][PATH_MAX])
{
    size_t count = 0;
    char exe [PATH_MAX];
    ssize_t size = readlink ("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = size > 0? (exe [size] = 0, strrchr (exe, '/')): NULL;
    if (slash)
        *slash = 0;                         //  the program's folder
    slash = slash? strrchr (exe, '/'): NULL;
    if (slash) {
        *slash = 0;                         //  its parent: the prefix, or the build tree
        const char *top = *exe? exe: "/";
        s_add_dir (dirs, &count, top, ZCH_PLUGIN_RELDIR);
        s_add_dir (dirs, &count, top, "lib/zchannel/plugins");
    }
    s_add_dir (dirs, &count, "", ZCH_PLUGIN_DIR);
    char cache [PATH_MAX];
    if (slash && (size_t) snprintf (cache, sizeof cache, "%s/CMakeCache.txt", exe) < sizeof cache
              && access (cache, R_OK) == 0)
        s_add_dir (dirs, &count, exe, ZCH_PLUGIN_BUILD_DIR);
    return count;
}

//  Finds the file for name: a path as is, else zch_NAME.so in the
//  directories, then the default ones. Returns 0 or -1.
static int
s_resolve (const char *name, const char *const *paths, size_t count, char *path, size_t path_size)
{
    if (strchr (name, '/')) {
        snprintf (path, path_size, "%s", name);
        return access (path, R_OK);
    }
    char dirs [S_DEFAULT_DIRS][PATH_MAX];
    size_t defaults = s_default_dirs (dirs);
    for (size_t i = 0; i < count + defaults; i++) {
        const char *directory = i < count? paths [i]: dirs [i - count];
        if ((size_t) snprintf (path, path_size, "%s/zch_%s.so", directory, name) >= path_size)
            continue;
        if (access (path, R_OK) == 0)
            return 0;
    }
    return -1;
}

//  Writes "name not found in ..." naming every directory searched.
static void
s_not_found (const char *name, size_t count, char *error, size_t error_size)
{
    char dirs [S_DEFAULT_DIRS][PATH_MAX];
    size_t defaults = s_default_dirs (dirs);
    size_t used = (size_t) snprintf (error, error_size, "plugin %s: zch_%s.so not found in %s",
                                     name, name, count? "--plugin-path, ": "");
    for (size_t i = 0; i < defaults && used < error_size; i++)
        used += (size_t) snprintf (error + used, error_size - used, "%s%s", i? ", ": "", dirs [i]);
}

//  Checks the descriptor before anything in it is used: its ABI, its
//  size, and that it has a transform. Returns 0, or -1 with a reason.
static int
s_check (const zch_plugin_t *descriptor, const char *path, char *error, size_t error_size)
{
    if (descriptor->abi != ZCH_PLUGIN_ABI) {
        snprintf (error, error_size, "plugin %s refused: built for plugin ABI %u, this zchannel "
                  "speaks ABI %d (rebuild it against this zchannel's zchannel/plugin.h)",
                  path, descriptor->abi, ZCH_PLUGIN_ABI);
        return -1;
    }
    if (descriptor->size < sizeof (zch_plugin_t)) {
        snprintf (error, error_size, "plugin %s refused: its descriptor has %u bytes, ABI %d needs %zu",
                  path, descriptor->size, ZCH_PLUGIN_ABI, sizeof (zch_plugin_t));
        return -1;
    }
    if (!descriptor->transform || !descriptor->name) {
        snprintf (error, error_size, "plugin %s refused: its descriptor has no %s",
                  path, descriptor->name? "transform": "name");
        return -1;
    }
    return 0;
}

//  Opens the file under a name never used before (a symlink in a fresh
//  temporary directory), so that the loader matches it to an object already
//  loaded by file identity only: an unchanged file is shared, a file
//  replaced since (a new inode) is loaded anew. RTLD_LOCAL: plugins never
//  see each other's symbols. Returns 0, or -1 with a reason.
static int
s_open (zch_plugin_so_t *self, char *error, size_t error_size)
{
    char real [PATH_MAX], directory [] = "/tmp/zch-plugin-XXXXXX", link [PATH_MAX];
    if (!realpath (self->path, real)) {
        snprintf (error, error_size, "plugin %s: cannot resolve its path", self->path);
        return -1;
    }
    const char *name = strrchr (real, '/') + 1;
    bool linked = mkdtemp (directory)
               && (size_t) snprintf (link, sizeof link, "%s/%s", directory, name) < sizeof link
               && symlink (real, link) == 0;
    self->handle = dlopen (linked? link: real, RTLD_NOW | RTLD_LOCAL);
    const char *reason = self->handle? NULL: dlerror ();
    if (linked)
        unlink (link);
    rmdir (directory);
    if (!self->handle) {
        snprintf (error, error_size, "plugin %s: cannot load: %s", self->path, reason);
        return -1;
    }
    return 0;
}

zch_plugin_so_t *
zch_plugin_so_new (const char *name, const char *const *paths, size_t count,
                   char *error, size_t error_size)
{
    zch_plugin_so_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    if (s_resolve (name, paths, count, self->path, sizeof self->path)) {
        if (strchr (name, '/'))
            snprintf (error, error_size, "plugin %s: no such file", name);
        else
            s_not_found (name, count, error, error_size);
        goto failed;
    }
    if (s_open (self, error, error_size))
        goto failed;
    self->descriptor = dlsym (self->handle, ZCH_PLUGIN_SYMBOL);
    if (!self->descriptor) {
        snprintf (error, error_size, "plugin %s refused: it exports no '%s' descriptor",
                  self->path, ZCH_PLUGIN_SYMBOL);
        goto failed;
    }
    if (s_check (self->descriptor, self->path, error, error_size))
        goto failed;
    return self;

failed:
    zch_plugin_so_destroy (&self);
    return NULL;
}

void
zch_plugin_so_destroy (zch_plugin_so_t **self_p)
{
    zch_plugin_so_t *self = *self_p;
    if (!self)
        return;
    if (self->handle)
        dlclose (self->handle);
    free (self);
    *self_p = NULL;
}

const zch_plugin_t *
zch_plugin_so_descriptor (zch_plugin_so_t *self)
{
    return self->descriptor;
}

const char *
zch_plugin_so_path (zch_plugin_so_t *self)
{
    return self->path;
}
