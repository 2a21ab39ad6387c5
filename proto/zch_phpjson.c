/*  zch_phpjson: a PHP value in its serialize() form, as JSON.              */
#include "zch_phpjson.h"
#include "zch_phpser.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *s_value (zch_phpser_t *reader);

//  Reads an array's entries into a JSON array while its keys are 0..n-1
//  in order; from the first key that is not, into an object holding what
//  came before too. Returns NULL on failure.
static json_t *
s_array (zch_phpser_t *reader, uint32_t count)
{
    json_t *list = json_array (), *object = NULL;
    for (uint32_t i = 0; list || object; i++) {
        if (i == count) {
            if (zch_phpser_end (reader))
                break;
            return object? object: list;
        }
        zch_php_value_t key;
        if (zch_phpser_read_key (reader, &key))
            break;
        json_t *item = s_value (reader);
        if (!item)
            break;
        if (list && key.type == ZCH_PHP_INT && key.integer == (int64_t) i) {
            if (json_array_append_new (list, item))
                break;
            continue;
        }
        if (!object) {
            //  the keys so far were 0..i-1: they become the object's first keys
            object = json_object ();
            for (size_t k = 0; object && list && k < json_array_size (list); k++) {
                char name [24];
                snprintf (name, sizeof name, "%zu", k);
                json_object_set (object, name, json_array_get (list, k));
            }
            json_decref (list);
            list = NULL;
            if (!object) {
                json_decref (item);
                break;
            }
        }
        char number [24];
        const char *name = number;
        size_t name_len;
        if (key.type == ZCH_PHP_INT)
            name_len = (size_t) snprintf (number, sizeof number, "%" PRId64, key.integer);
        else {
            name = key.str;
            name_len = key.len;
        }
        if (json_object_setn_new (object, name, name_len, item))
            break;
    }
    json_decref (list);
    json_decref (object);
    return NULL;
}

//  Reads one value as JSON; NULL when it has no JSON form or fails.
static json_t *
s_value (zch_phpser_t *reader)
{
    zch_php_value_t value;
    if (zch_phpser_read (reader, &value))
        return NULL;
    switch (value.type) {
        case ZCH_PHP_NULL:   return json_null ();
        case ZCH_PHP_BOOL:   return json_boolean (value.boolean);
        case ZCH_PHP_INT:    return json_integer ((json_int_t) value.integer);
        case ZCH_PHP_FLOAT:  return isfinite (value.real)? json_real (value.real): NULL;
        case ZCH_PHP_STRING: return json_stringn (value.str, value.len);    //  NULL if not UTF-8
        case ZCH_PHP_ARRAY:  return s_array (reader, value.count);
    }
    return NULL;
}

char *
zch_phpjson_convert (const uint8_t *data, size_t size, size_t *len)
{
    zch_phpser_t reader;
    zch_phpser_init (&reader, data, size, NULL);
    json_t *json = s_value (&reader);
    char *text = NULL;
    if (json && reader.pos == size)
        text = json_dumps (json, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
    json_decref (json);
    if (text)
        *len = strlen (text);
    return text;
}
