/*  zch_plugin_so: finding, loading and checking a plugin's shared object.

    NAME resolves to zch_NAME.so in each search directory, then beside the
    running program (<its prefix>/<libdir>/zchannel/plugins and
    <its prefix>/lib/zchannel/plugins), then in the install directory
    chosen at build time (ZCH_PLUGIN_DIR), then, for a program in a build
    tree, that tree's plugins-out/; a NAME holding a '/' is a path.
    The object is opened with RTLD_NOW | RTLD_LOCAL under a name never used
    before, so an unchanged file is shared with earlier loads while a file
    replaced on disk (a new inode) is loaded anew: that is how SIGHUP picks
    up a new build. Its descriptor's ABI version and size are checked before
    anything in it is called: a mismatched plugin is closed again and
    refused with a clear reason. (The loader still runs the object's ELF
    constructors, as any dlopen does; plugins should have none.)           */
#ifndef ZCH_PLUGIN_SO_H_INCLUDED
#define ZCH_PLUGIN_SO_H_INCLUDED

#include <stddef.h>

#include "zchannel/plugin.h"

typedef struct zch_plugin_so_t zch_plugin_so_t;

//  Loads and checks the plugin called name, looking in the count
//  directories of paths first. Returns NULL with a one-line reason in error.
zch_plugin_so_t *zch_plugin_so_new (const char *name, const char *const *paths, size_t count,
                                    char *error, size_t error_size);

//  Closes the object and NULLs the caller's pointer. Every instance made
//  from it must be gone.
void zch_plugin_so_destroy (zch_plugin_so_t **self_p);

//  The checked descriptor (borrowed; valid while the object is open).
const zch_plugin_t *zch_plugin_so_descriptor (zch_plugin_so_t *self);

//  The file the object was loaded from.
const char *zch_plugin_so_path (zch_plugin_so_t *self);

#endif
