#   The Workerman "Channel" profile: drop-in ports and behaviour of the
#   seed system (a PHP data-source server on 2345, the Channel server on
#   2206, a subscriber server), for `zchannel run --config workerman.zpl`
#   or the three daemons each with --config workerman.zpl.
#
#   With profile = "workerman": the source greets "Welcome to Data Source
#   Server" and takes every line as a payload for topic1; the subscriber
#   greets "Welcome to Subscriber Server", subscribes a client to topic1 on
#   its first line and sends "Received: <payload>" lines.

run
    log-level = "info"

broker
    #   the Channel server's port: ZeroMQ producers publish here
    ingress = "tcp://*:2206"
    egress = "tcp://*:2207"
    control = "tcp://127.0.0.1:2208"

source
    listen = "0.0.0.0:2345"
    profile = "workerman"
    #   Workerman's `count`: worker loops sharing the port
    workers = "4"

subscriber
    listen = "0.0.0.0:2346"
    profile = "workerman"
    workers = "4"
