/*  test_limits: the per-address connection rate table.                     */
#include "zch_limits.h"
#include "zch_check.h"

#include <string.h>

//  A burst passes, the next is refused, time refills the bucket.
static void
s_test_bucket (void)
{
    zch_rate_table_t *table = zch_rate_table_new (64);
    CHECK (table);
    uint8_t a [4] = { 127, 0, 0, 1 }, b [4] = { 10, 0, 0, 2 };
    for (int i = 0; i < 5; i++)
        CHECK (zch_rate_allow (table, a, 4, 10, 5, 1000));
    CHECK (!zch_rate_allow (table, a, 4, 10, 5, 1000));
    //  another address has its own bucket
    CHECK (zch_rate_allow (table, b, 4, 10, 5, 1000));
    //  100 ms at 10/s is one token
    CHECK (zch_rate_allow (table, a, 4, 10, 5, 1100));
    CHECK (!zch_rate_allow (table, a, 4, 10, 5, 1100));
    //  a long pause refills to the burst, not beyond
    int allowed = 0;
    for (int i = 0; i < 20; i++)
        allowed += zch_rate_allow (table, a, 4, 10, 5, 100000);
    CHECK (allowed == 5);
    //  rate 0: no limit
    for (int i = 0; i < 100; i++)
        CHECK (zch_rate_allow (table, a, 4, 0, 0, 100000));
    CHECK (zch_rate_table_size (table) == 2);
    zch_rate_table_destroy (&table);
    CHECK (table == NULL);
    zch_rate_table_destroy (&table);
}

//  A flood of distinct addresses stays within the table's slots.
static void
s_test_bounded (void)
{
    zch_rate_table_t *table = zch_rate_table_new (16);
    for (uint32_t i = 0; i < 10000; i++) {
        uint8_t addr [16];
        memset (addr, 0, sizeof addr);
        memcpy (addr, &i, sizeof i);
        CHECK (zch_rate_allow (table, addr, 16, 1, 1, i));
    }
    CHECK (zch_rate_table_size (table) <= 16);
    CHECK (zch_rate_table_new (0) == NULL);
    zch_rate_table_destroy (&table);
}

int
main (void)
{
    s_test_bucket ();
    s_test_bounded ();
    CHECK_DONE ("test_limits");
}
