#   zchannel defaults: every setting with its built-in value.
#
#   ZPL (czmq zconfig): a section per role, four spaces before each key,
#   `key = "value"`, `#` starts a comment. zchannel-broker reads broker/,
#   zchannel-source source/, zchannel-subscriber subscriber/ (each skips the
#   others' sections, so one file can serve all three); `zchannel run`
#   reads all of them, with the process settings (log-level, syslog,
#   metrics-listen) in run/. A standalone program takes those three in its
#   own section. Flags override the file; SIGHUP reads it again.
#
#   Sizes take K, M or G (powers of 1024); durations 5s or 250ms.
#   plugin and plugin-path are lists: repeat the key once per value, in
#   order (plugin = "redact:conf=/etc/zchannel/redact.conf", then
#   plugin = "uppercase"); "" alone means none. Flags replace the list.
#   This file is `zchannel run --print-config`; a test keeps it so.


run
    #   error, warning, notice, info or debug (reloads)
    log-level = "info"
    #   log to syslog instead of stderr (reloads)
    syslog = "false"
    #   serve Prometheus metrics over HTTP at /metrics (off when empty)
    metrics-listen = ""

broker
    #   where producers publish (XSUB); loopback unless named
    ingress = "tcp://127.0.0.1:2206"
    #   where front-ends subscribe (XPUB); loopback unless named
    egress = "tcp://127.0.0.1:2207"
    #   control requests: PING, STATS, SNAPSHOT, HISTORY, HEAL, SEQS (ROUTER)
    control = "tcp://127.0.0.1:2208"
    #   ZeroMQ messages queued per peer before drops: one per message for a ZeroMQ consumer, up to 1,024 messages of one topic (64 KiB) for a subscriber front-end
    egress-hwm = "1000000"
    #   newest messages kept per topic (0: no history, no last value)
    history-per-topic = "1024"
    #   bytes of history over all topics; the oldest go first
    history-bytes = "256M"
    #   longest a drain at SIGINT/SIGTERM may take (5s, 500ms)
    drain-timeout = "5s"
    #   CURVE on every endpoint with this certificate (zchannel keygen); off when empty
    curve-secret = ""
    #   with curve-secret: only clients whose public certificates are in DIR (empty: any)
    curve-clients = ""
    #   let an endpoint listen beyond loopback without CURVE although clients need tokens or TLS
    allow-plain-zmq = "false"
    #   largest payload taken from a producer; larger ones are dropped and counted (K/M suffixes)
    max-payload = "1M"
    #   topics matching PATTERN keep no history (repeatable): a seq each, but no FROM, SNAPSHOT or healing
    no-history = ""
    #   where seqs, history and fan-out live: memory (this broker) or redis (shared by brokers)
    engine = "memory"
    #   a Redis shard of --engine redis (repeat for more; a topic's shard by consistent hash)
    redis = ""
    #   instead of --redis: a shard whose master Redis sentinels name, SENTINELS = HOST:PORT,HOST:PORT,... (repeat for more shards)
    sentinel = ""
    #   the master's name at the sentinels: one for all --sentinel shards, or one each, in order
    sentinel-master = ""
    #   items a work queue holds, waiting and in flight; past it ENQUEUE is refused
    queue-max-items = "100000"
    #   payload bytes a work queue holds, waiting and in flight; past it ENQUEUE is refused
    queue-max-bytes = "64M"
    #   add a plugin to the chain, in order (repeatable): NAME[@PATTERN][:key=value,...] (reloads)
    plugin = ""
    #   look for zch_NAME.so in DIR first (repeatable) (reloads)
    plugin-path = ""

source
    #   where text clients connect
    listen = "0.0.0.0:2345"
    #   replies queued per client before it is dropped (reloads)
    max-output = "1M"
    #   take datagrams, one 'PUB <topic> <payload>' each (off when empty)
    udp-listen = ""
    #   with udp-listen: each datagram is a raw payload for TOPIC
    udp-topic = ""
    #   loops sharing the port
    workers = "2"
    #   'workerman' for the seed system's behaviour
    profile = "default"
    #   longest accepted line (K/M suffixes) (reloads)
    max-line = "64K"
    #   longest a drain at SIGINT/SIGTERM may take (5s, 500ms)
    drain-timeout = "5s"
    #   where frame-protocol clients connect (off when empty)
    frame-listen = ""
    #   where WebSocket clients (browsers) connect; wss with --tls-cert (off when empty)
    ws-listen = ""
    #   Origins browsers may connect from, comma-separated (any when empty)
    ws-origin = ""
    #   largest payload a client may send (K/M suffixes)
    max-payload = "1M"
    #   add a plugin to the chain, in order (repeatable): NAME[@PATTERN][:key=value,...] (reloads)
    plugin = ""
    #   look for zch_NAME.so in DIR first (repeatable) (reloads)
    plugin-path = ""

subscriber
    #   where text clients connect
    listen = "0.0.0.0:2346"
    #   where Workerman Channel\Client apps connect (walkor/channel's protocol; off when empty)
    channel-listen = ""
    #   ZeroMQ messages (each up to 1,024 messages of one topic, 64 KiB) queued from a broker in another process before it drops (a tuning and test knob; drops are healed; zchannel run's own link waits instead)
    upstream-hwm = "4096"
    #   output queued per client before it is dropped as a slow consumer (reloads)
    max-output = "64M"
    #   output queued over all clients before those furthest behind are dropped as slow consumers ('auto': a quarter of the machine's memory)
    output-budget = "auto"
    #   output queued for one client at which zchannel run's worker stops reading the broker, which then waits (half of max-output at most); a queue group skips a member at half of it
    behind-mark = "1M"
    #   zchannel run: how long clients past behind-mark may hold the broker back before those still past it are dropped as slow consumers
    stall-timeout = "2s"
    #   the live page's files, served at / of ws-listen (none when empty)
    ws-root = "/usr/local/share/zchannel/www"
    #   patterns one client may hold (0: no limit)
    max-subscriptions = "1000"
    #   loops sharing the port
    workers = "2"
    #   'workerman' for the seed system's behaviour
    profile = "default"
    #   longest accepted line (K/M suffixes) (reloads)
    max-line = "64K"
    #   longest a drain at SIGINT/SIGTERM may take (5s, 500ms)
    drain-timeout = "5s"
    #   where frame-protocol clients connect (off when empty)
    frame-listen = ""
    #   where WebSocket clients (browsers) connect; wss with --tls-cert (off when empty)
    ws-listen = ""
    #   Origins browsers may connect from, comma-separated (any when empty)
    ws-origin = ""
    #   largest payload a client may send (K/M suffixes)
    max-payload = "1M"
    #   add a plugin to the chain, in order (repeatable): NAME[@PATTERN][:key=value,...] (reloads)
    plugin = ""
    #   look for zch_NAME.so in DIR first (repeatable) (reloads)
    plugin-path = ""

source
    #   clients at once per port, over all workers (0: no limit) (reloads)
    max-clients = "10000"
    #   longest topic or pattern a client may use
    max-topic-length = "255"
    #   most tokens in a topic or pattern (0: no limit)
    max-topic-depth = "32"
    #   time a client has for a whole command, after connecting and once it began one (0: off) (reloads)
    idle-timeout = "60s"
    #   close a client that sent nothing for this long; clients PING to stay (0: off) (reloads)
    keepalive = "0s"
    #   new connections per second from one address (0: no limit) (reloads)
    conn-rate = "0"
    #   connections one address may open at once (0: conn-rate) (reloads)
    conn-burst = "0"
    #   tokens and their ACLs (ZPL); clients must AUTH (off when empty) (reloads)
    auth-file = ""
    #   failed AUTHs before the connection closes (reloads)
    auth-max-failures = "3"
    #   TLS on the client ports with this PEM certificate chain (off when empty)
    tls-cert = ""
    #   the PEM private key of tls-cert
    tls-key = ""
    #   require client certificates from these PEM CAs (none when empty)
    tls-ca = ""

subscriber
    #   clients at once per port, over all workers (0: no limit) (reloads)
    max-clients = "10000"
    #   longest topic or pattern a client may use
    max-topic-length = "255"
    #   most tokens in a topic or pattern (0: no limit)
    max-topic-depth = "32"
    #   time a client has for a whole command, after connecting and once it began one (0: off) (reloads)
    idle-timeout = "60s"
    #   close a client that sent nothing for this long; clients PING to stay (0: off) (reloads)
    keepalive = "0s"
    #   new connections per second from one address (0: no limit) (reloads)
    conn-rate = "0"
    #   connections one address may open at once (0: conn-rate) (reloads)
    conn-burst = "0"
    #   tokens and their ACLs (ZPL); clients must AUTH (off when empty) (reloads)
    auth-file = ""
    #   failed AUTHs before the connection closes (reloads)
    auth-max-failures = "3"
    #   TLS on the client ports with this PEM certificate chain (off when empty)
    tls-cert = ""
    #   the PEM private key of tls-cert
    tls-key = ""
    #   require client certificates from these PEM CAs (none when empty)
    tls-ca = ""
