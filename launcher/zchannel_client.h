/*  zchannel_client: the `zchannel pub` and `zchannel sub` client tools.

    Both speak the text protocol (proto/PROTOCOL.md) over a TCP connection
    to a front-end (TLS with --tls or --tls-ca, OpenSSL), or with --frame
    the frame protocol on the front-end's frame port; they need neither
    ZeroMQ nor czmq. The launcher calls them with argv[0] naming the
    subcommand ("pub", "sub"); each reads its options from a table of the
    kind the daemons use (zch_option_argv), so the values parse alike.

    Exit codes: 0 success, 1 a failure at run time (cannot connect, a
    "-ERR ..." from the server, the server closing early; one line on
    stderr says which), 2 a usage error. Both tools print their usage to
    stdout and return 0 for --help. Neither keeps any state after it
    returns: memory is freed and the signal dispositions they change
    (SIGPIPE) are restored.                                                  */
#ifndef ZCHANNEL_CLIENT_H_INCLUDED
#define ZCHANNEL_CLIENT_H_INCLUDED

//  zchannel pub [--host H] [--port P] [--frame] [--frame-port P]
//               [--file PATH] [--header K=V]... TOPIC [MESSAGE]
//  Publishes MESSAGE, or one message per line of stdin, or a file as one
//  payload, to TOPIC through the source front-end (default
//  127.0.0.1:2345; frames: 2347), and returns once every message was
//  acknowledged (+OK, or for frames the pong after them).
int zchannel_pub_main (int argc, char **argv);

//  zchannel sub [--host H] [--port P] [--frame] [--frame-port P] [--count N]
//               [--format line|raw|json] [-v|--verbose]
//               [--snapshot | --from SEQ] PATTERN
//  Subscribes to PATTERN at the subscriber front-end (default
//  127.0.0.1:2346; frames: 2348) and prints each delivered payload as
//  --format says (line: one line each, escaped as on the text protocol).
//  Returns after N messages with --count, otherwise only on an error.
int zchannel_sub_main (int argc, char **argv);

//  zchannel stat [--control EP] [--once] [--timeout MS]
//  Asks the broker's control endpoint (default tcp://127.0.0.1:2208) for
//  STATS and prints one line of counters, with rates per second after the
//  first, every second; once with --once. Unlike pub and sub it speaks
//  ZeroMQ (czmq).
int zchannel_stat_main (int argc, char **argv);

#endif
