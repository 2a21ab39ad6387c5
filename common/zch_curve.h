/*  zch_curve: CURVE security between components and for ZeroMQ-native
    peers, with czmq's zcert and zauth.

    The broker is a CURVE server with its own certificate; every peer must
    know the broker's public key, and when the broker has an allow-list
    directory of client public certificates (zauth) only those peers are
    let in. A peer without CURVE, with the wrong server key or with a key
    not on the list never completes its handshake and gets nothing.
    Certificates are czmq's ZPL files: `zchannel keygen PATH` writes PATH
    (public and secret key) and PATH.pub (public key only).                 */
#ifndef ZCH_CURVE_H_INCLUDED
#define ZCH_CURVE_H_INCLUDED

#include <czmq.h>

//  Makes a raw libzmq socket a CURVE server with the certificate in
//  secret_file. Call before bind. Returns 0, or -1 with a reason.
int zch_curve_server (void *socket, const char *secret_file, char *error, size_t error_size);

//  Makes a raw libzmq socket a CURVE client of the server whose public
//  certificate is server_file, with the certificate in secret_file, or a
//  new one when NULL (enough when the server takes any key). Call
//  before connect. Returns 0, or -1 with a reason.
int zch_curve_client (void *socket, const char *server_file, const char *secret_file,
                      char *error, size_t error_size);

//  Starts the ZAP handler for CURVE in the process's ZeroMQ context:
//  clients_dir lets in only the public keys of the certificates in that
//  directory; NULL lets in any key (the server key stays the secret).
//  Returns the actor (destroy it after the sockets), or NULL with a reason.
zactor_t *zch_curve_auth_new (const char *clients_dir, char *error, size_t error_size);

//  Writes a new certificate pair: path (public and secret key) and
//  path.pub (public key). Returns 0, or -1 with a reason.
int zch_curve_keygen (const char *path, char *error, size_t error_size);

#endif
