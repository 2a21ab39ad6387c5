/*  zch_curve: CURVE with czmq's zcert and zauth.                           */
#include "zch_curve.h"

//  Loads a certificate file, with a reason when it cannot.
static zcert_t *
s_cert_load (const char *path, const char *what, char *error, size_t error_size)
{
    if (!zsys_file_exists (path)) {
        snprintf (error, error_size, "%s %s: no such file", what, path);
        return NULL;
    }
    zcert_t *cert = zcert_load (path);
    if (!cert)
        snprintf (error, error_size, "%s %s: not a certificate (see zchannel keygen)", what, path);
    return cert;
}

//  True when the certificate holds a secret key (zcert_load leaves it
//  all zeros when the file has none).
static bool
s_has_secret (zcert_t *cert)
{
    const byte *key = zcert_secret_key (cert);
    for (int i = 0; i < 32; i++)
        if (key [i])
            return true;
    return false;
}

int
zch_curve_server (void *socket, const char *secret_file, char *error, size_t error_size)
{
    zcert_t *cert = s_cert_load (secret_file, "--curve-secret", error, error_size);
    if (!cert)
        return -1;
    int rc = 0;
    if (!s_has_secret (cert)) {
        snprintf (error, error_size, "--curve-secret %s holds no secret key (a .pub file?)", secret_file);
        rc = -1;
    }
    int on = 1;
    if (rc == 0
    &&  (zmq_setsockopt (socket, ZMQ_CURVE_SERVER, &on, sizeof on)
    ||   zmq_setsockopt (socket, ZMQ_CURVE_SECRETKEY, zcert_secret_key (cert), 32))) {
        snprintf (error, error_size, "cannot set CURVE: %s (libzmq without libsodium?)",
                  zmq_strerror (zmq_errno ()));
        rc = -1;
    }
    zcert_destroy (&cert);
    return rc;
}

int
zch_curve_client (void *socket, const char *server_file, const char *secret_file,
                  char *error, size_t error_size)
{
    zcert_t *server = s_cert_load (server_file, "--curve-server-key", error, error_size);
    if (!server)
        return -1;
    zcert_t *own = secret_file? s_cert_load (secret_file, "--curve-secret", error, error_size):
                                zcert_new ();
    int rc = own? 0: -1;
    if (own && !s_has_secret (own)) {
        snprintf (error, error_size, "--curve-secret %s holds no secret key (a .pub file?)", secret_file);
        rc = -1;
    }
    if (rc == 0
    &&  (zmq_setsockopt (socket, ZMQ_CURVE_SERVERKEY, zcert_public_key (server), 32)
    ||   zmq_setsockopt (socket, ZMQ_CURVE_PUBLICKEY, zcert_public_key (own), 32)
    ||   zmq_setsockopt (socket, ZMQ_CURVE_SECRETKEY, zcert_secret_key (own), 32))) {
        snprintf (error, error_size, "cannot set CURVE: %s", zmq_strerror (zmq_errno ()));
        rc = -1;
    }
    zcert_destroy (&own);
    zcert_destroy (&server);
    return rc;
}

zactor_t *
zch_curve_auth_new (const char *clients_dir, char *error, size_t error_size)
{
    if (clients_dir && !zsys_file_exists (clients_dir)) {
        snprintf (error, error_size, "--curve-clients %s: no such directory", clients_dir);
        return NULL;
    }
    zactor_t *auth = zactor_new (zauth, NULL);
    if (!auth) {
        snprintf (error, error_size, "cannot start the CURVE authenticator");
        return NULL;
    }
    zstr_sendx (auth, "CURVE", clients_dir? clients_dir: CURVE_ALLOW_ANY, NULL);
    zsock_wait (auth);
    return auth;
}

int
zch_curve_keygen (const char *path, char *error, size_t error_size)
{
    zcert_t *cert = zcert_new ();
    if (!cert) {
        snprintf (error, error_size, "cannot make a certificate");
        return -1;
    }
    char public_path [4096];
    snprintf (public_path, sizeof public_path, "%s.pub", path);
    zcert_set_meta (cert, "created-by", "zchannel keygen");
    int rc = 0;
    if (zcert_save_secret (cert, path) || zcert_save_public (cert, public_path)) {
        snprintf (error, error_size, "cannot write %s and %s: %s", path, public_path, strerror (errno));
        rc = -1;
    }
    else
        chmod (path, 0600);             //  the secret key is for its owner only
    zcert_destroy (&cert);
    return rc;
}
