/*  zch_metrics_process: what the process as a whole costs and is, in the
    names Prometheus' own clients use (process_*), each labelled with the
    process's role: build, CPU time, resident memory, descriptors.          */
#include "zch_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#ifndef ZCH_VERSION
#define ZCH_VERSION "unknown"
#endif

//  Resident set size in bytes, from /proc/self/statm; 0 when unreadable.
static uint64_t
s_resident_bytes (void)
{
    FILE *file = fopen ("/proc/self/statm", "r");
    unsigned long long pages = 0, resident = 0;
    if (file) {
        if (fscanf (file, "%llu %llu", &pages, &resident) != 2)
            resident = 0;
        fclose (file);
    }
    return (uint64_t) resident * (uint64_t) sysconf (_SC_PAGESIZE);
}

//  Open descriptors, from /proc/self/fd (less the one reading it).
static uint64_t
s_open_fds (void)
{
    DIR *directory = opendir ("/proc/self/fd");
    if (!directory)
        return 0;
    uint64_t count = 0;
    struct dirent *entry;
    while ((entry = readdir (directory)))
        count += entry->d_name [0] != '.';
    closedir (directory);
    return count? count - 1: 0;
}

void
zch_metrics_process_render (FILE *out, const char *role)
{
    fprintf (out, "# HELP zchannel_build_info The build: its version, as a label.\n"
                  "# TYPE zchannel_build_info gauge\n"
                  "zchannel_build_info{role=\"%s\",version=\"%s\"} 1\n", role, ZCH_VERSION);
    struct rusage usage;
    double cpu = 0;
    if (getrusage (RUSAGE_SELF, &usage) == 0)
        cpu = (double) usage.ru_utime.tv_sec + (double) usage.ru_stime.tv_sec
            + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    fprintf (out, "# HELP process_cpu_seconds_total User and system CPU time of every thread.\n"
                  "# TYPE process_cpu_seconds_total counter\n"
                  "process_cpu_seconds_total{role=\"%s\"} %.6f\n", role, cpu);
    fprintf (out, "# HELP process_resident_memory_bytes Resident memory.\n"
                  "# TYPE process_resident_memory_bytes gauge\n"
                  "process_resident_memory_bytes{role=\"%s\"} %llu\n", role,
                  (unsigned long long) s_resident_bytes ());
    struct rlimit limit;
    unsigned long long max_fds = getrlimit (RLIMIT_NOFILE, &limit) == 0? (unsigned long long) limit.rlim_cur: 0;
    fprintf (out, "# HELP process_open_fds Open file descriptors (clients, sockets, files).\n"
                  "# TYPE process_open_fds gauge\n"
                  "process_open_fds{role=\"%s\"} %llu\n"
                  "# HELP process_max_fds The descriptor limit (RLIMIT_NOFILE).\n"
                  "# TYPE process_max_fds gauge\n"
                  "process_max_fds{role=\"%s\"} %llu\n", role,
                  (unsigned long long) s_open_fds (), role, max_fds);
}
