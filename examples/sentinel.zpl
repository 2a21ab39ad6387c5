#   Several brokers over Redis with Sentinel: the same file on every broker
#   host, each running `zchannel run --config sentinel.zpl` (or the three
#   daemons with it). The brokers ask the sentinels where the master of
#   "zchannel" is, follow it when Sentinel promotes a replica, and start a
#   new epoch for every topic after a promotion (clients are told -ERR
#   reset rather than risk a seq with two payloads). See docs/scaling.md.
#
#   One shard here: a master and its replicas watched by three sentinels
#   (examples/redis-sentinel.conf, one per host). For more shards repeat
#   the sentinel line, one Sentinel group each, and give sentinel-master
#   once for all or once per line. Every broker lists the same shards in
#   the same order.

run
    log-level = "info"

broker
    engine = "redis"
    sentinel = "10.0.0.21:26379,10.0.0.22:26379,10.0.0.23:26379"
    sentinel-master = "zchannel"
    #   what each topic's stream keeps in Redis, and each broker's cache
    history-per-topic = "1024"

source
    listen = "0.0.0.0:2345"

subscriber
    listen = "0.0.0.0:2346"
