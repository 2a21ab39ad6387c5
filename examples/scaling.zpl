#   Several brokers over Redis: the same file on every broker host, each
#   host running `zchannel run --config scaling.zpl` (or the three daemons
#   with it). Publishers and subscribers use any host's front-ends; each
#   topic's seqs, epoch, history and fan-out are shared through Redis, so
#   a message published on one host reaches subscribers on all of them, in
#   one order. See docs/scaling.md.
#
#   Two shards here (two independent Redis servers, no replication between
#   them): a topic lives on one, chosen by consistent hash of its name.
#   Every broker must list the same shards in the same order. For one
#   Redis, keep one redis line.

run
    log-level = "info"

broker
    engine = "redis"
    redis = "10.0.0.21:6379"
    redis = "10.0.0.22:6379"
    #   what each topic's stream keeps in Redis, and each broker's cache
    history-per-topic = "1024"

source
    listen = "0.0.0.0:2345"

subscriber
    listen = "0.0.0.0:2346"
