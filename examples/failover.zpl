#   Front-ends with two brokers to fail over to: zchannel-source and
#   zchannel-subscriber read this file (--config failover.zpl); the brokers
#   run on two hosts, 10.0.0.1 and 10.0.0.2, over one Redis engine (see
#   scaling.zpl and docs/scaling.md). Each front-end uses the first broker
#   and moves to the next one when the one in use has not answered its
#   heartbeat for broker-timeout. broker and control pair up in order.
#
#   Beyond a trusted network give the brokers --curve-secret and these
#   front-ends curve-server-key.

source
    listen = "0.0.0.0:2345"
    broker = "tcp://10.0.0.1:2206"
    control = "tcp://10.0.0.1:2208"
    broker = "tcp://10.0.0.2:2206"
    control = "tcp://10.0.0.2:2208"
    broker-timeout = "3s"

subscriber
    listen = "0.0.0.0:2346"
    broker = "tcp://10.0.0.1:2207"
    control = "tcp://10.0.0.1:2208"
    broker = "tcp://10.0.0.2:2207"
    control = "tcp://10.0.0.2:2208"
    broker-timeout = "3s"
