#   A production-like setup for the three daemons (zchannel-broker.service,
#   zchannel-source.service, zchannel-subscriber.service): front-ends on
#   the public interface, the broker's ZeroMQ endpoints and the metrics on
#   loopback, quieter logs, more room for slow readers and a longer drain
#   at shutdown. Install as /etc/zchannel/zchannel.zpl; `systemctl reload`
#   (SIGHUP) applies the keys marked (reloads) in defaults.zpl: log-level,
#   syslog, max-line, max-output, plugin, plugin-path (and reloads the
#   plugins, whose own conf files are then read again).
#
#   Each daemon reads its own section, process settings (log-level, syslog,
#   metrics-listen) included. The same file serves `zchannel run`
#   (zchannel.service), which takes its process settings from run/ and
#   checks but skips the daemons' own (their process settings, the
#   front-ends' broker endpoints).

run
    log-level = "notice"
    metrics-listen = "127.0.0.1:9464"

broker
    ingress = "tcp://127.0.0.1:2206"
    egress = "tcp://127.0.0.1:2207"
    control = "tcp://127.0.0.1:2208"
    #   batches of up to 64 KiB per front-end: 512 MiB at most
    egress-hwm = "8192"
    drain-timeout = "10s"
    log-level = "notice"
    metrics-listen = "127.0.0.1:9465"
    #   CURVE on the three endpoints: `zchannel keygen /etc/zchannel/keys/broker`
    #   (root-only; the unit hands it to the service as a credential), then
    #   curve-server-key = "/etc/zchannel/keys/broker.pub" on the front-ends
    #   curve-secret = "/run/credentials/zchannel-broker.service/keys_broker"
    #   curve-clients = "/etc/zchannel/clients"
    #   plugins, in chain order: the key once per plugin (the shipped ones
    #   are found without plugin-path), e.g.
    #   plugin = "redact@orders.>:regex=[0-9]{16},replacement=#"
    #   plugin = "rate_limit@sensors.>:rate=1000,burst=2000"
    #   plugin-path = "/srv/zchannel/plugins"

source
    listen = "0.0.0.0:2345"
    workers = "4"
    max-line = "256K"
    drain-timeout = "10s"
    log-level = "notice"
    metrics-listen = "127.0.0.1:9466"
    #   hostile networks: a per-address connection rate, a shorter idle
    #   timeout, and (with files of your own) tokens and TLS, e.g.
    conn-rate = "20"
    conn-burst = "100"
    idle-timeout = "20s"
    #   auth-file = "/etc/zchannel/tokens.zpl"
    #   tls-cert = "/etc/zchannel/tls/cert.pem"
    #   tls-key = "/etc/zchannel/tls/key.pem"

subscriber
    listen = "0.0.0.0:2346"
    workers = "4"
    max-line = "4K"
    #   a client that falls this far behind is cut off (-ERR slow consumer)
    max-output = "32M"
    max-subscriptions = "200"
    conn-rate = "20"
    conn-burst = "100"
    drain-timeout = "10s"
    log-level = "notice"
    metrics-listen = "127.0.0.1:9467"
