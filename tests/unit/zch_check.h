/*  zch_check: the unit tests' tiny check macro.

    CHECK (expr) counts the check and, when expr is false, prints file:line
    and the expression and marks the run failed; CHECK_DONE () ends main,
    printing the totals and returning non-zero if any check failed.
    Each test program includes this once.                                   */
#ifndef ZCH_CHECK_H_INCLUDED
#define ZCH_CHECK_H_INCLUDED

#include <stdio.h>

static int s_checks;
static int s_failures;

#define CHECK(expr) do { \
    s_checks++; \
    if (!(expr)) { \
        s_failures++; \
        fprintf (stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
    } \
} while (0)

//  Compares a (pointer, length) view with a C string literal.
#define CHECK_VIEW(ptr, len, str) \
    CHECK ((len) == sizeof (str) - 1 && ((len) == 0 || memcmp ((ptr), (str), (len)) == 0))

#define CHECK_DONE(name) do { \
    printf ("%s: %d checks, %d failed\n", (name), s_checks, s_failures); \
    return s_failures? 1: 0; \
} while (0)

#endif
