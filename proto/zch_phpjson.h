/*  zch_phpjson: a PHP value in its serialize() form, as JSON (jansson), so
    that what a Workerman app publishes reads naturally in text, frame and
    WebSocket clients.

    An array whose keys are 0, 1, ... n-1 in that order becomes a JSON
    array, any other array an object (int keys written in decimal). JSON
    cannot hold every PHP value: a string that is not UTF-8, or a float
    that is INF or NAN, has no JSON form, and then nothing is converted.   */
#ifndef ZCH_PHPJSON_H_INCLUDED
#define ZCH_PHPJSON_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

//  Converts one serialized value (zch_phpser's plain values, default
//  limits) to compact JSON. Returns a NUL-terminated string the caller
//  frees with free(), its length in *len; NULL when the input is not such
//  a value or has no JSON form.
char *zch_phpjson_convert (const uint8_t *data, size_t size, size_t *len);

#endif
