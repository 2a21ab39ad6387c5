<?php
// The PHP side of tests/bench/channel-php: one Workerman app on Channel\Client
// that follows channel "bench" and publishes COUNT messages to it, each
// carrying hrtime() at publish, through whatever channel server is on PORT.
//   php bench.php start PORT COUNT RATE     RATE messages/s, 0: as fast as it can
// Prints one line: received, seconds, rate, p50/p99/max publish->event (us).
require getenv('PEERS') . '/autoload.php';
use Channel\Client;
use Workerman\Connection\TcpConnection;
use Workerman\Timer;
use Workerman\Worker;

[$self, $cmd, $port, $count, $rate] = array_pad($argv, 5, null);
$argv = [$self, 'start'];
$port = (int) $port; $count = (int) $count; $rate = (float) $rate;
Worker::$pidFile = sys_get_temp_dir() . '/channel-bench-' . getmypid() . '.pid';
Worker::$logFile = sys_get_temp_dir() . '/channel-bench-' . getmypid() . '.log';
// the client's own buffer must not be what drops messages
TcpConnection::$defaultMaxSendBufferSize = 256 << 20;

function report($latencies, $received, $count, $seconds)
{
    sort($latencies);
    $at = function ($q) use ($latencies) {
        return $latencies ? $latencies[min(count($latencies) - 1, (int) floor($q * count($latencies)))] / 1000 : 0;
    };
    printf("received %d of %d in %.3f s: %.0f msg/s; publish->event p50 %.0f us, p99 %.0f us, max %.0f us\n",
           $received, $count, $seconds, $seconds > 0 ? $received / $seconds : 0, $at(0.5), $at(0.99), $at(1.0));
    posix_kill(posix_getppid(), SIGINT);
}

$w = new Worker();
$w->onWorkerStart = function () use ($port, $count, $rate) {
    Client::connect('127.0.0.1', $port);
    $latencies = [];
    $t0 = 0;
    Client::on('bench', function ($data) use (&$latencies, &$t0, $count) {
        $latencies[] = hrtime(true) - (int) $data;
        if (count($latencies) == $count)
            report($latencies, $count, $count, (hrtime(true) - $t0) / 1e9);
    });
    // Started once the subscription is surely live; gives up 10 s after the last publish
    Timer::add(1.0, function () use (&$t0, &$latencies, $count, $rate) {
        $t0 = hrtime(true);
        $finish = function () use (&$latencies, &$t0, $count) {
            Timer::add(10, function () use (&$latencies, &$t0, $count) {
                report($latencies, count($latencies), $count, (hrtime(true) - $t0) / 1e9 - 10);
            }, [], false);
        };
        if ($rate <= 0) {
            for ($i = 0; $i < $count; $i++)
                Client::publish('bench', (string) hrtime(true));
            $finish();
            return;
        }
        $sent = 0;
        $timer = Timer::add(0.001, function () use (&$sent, &$timer, &$t0, $count, $rate, $finish) {
            $due = min($count, (int) ((hrtime(true) - $t0) / 1e9 * $rate) + 1);
            for (; $sent < $due; $sent++)
                Client::publish('bench', (string) hrtime(true));
            if ($sent >= $count) {
                Timer::del($timer);
                $finish();
            }
        });
    }, [], false);
};
Worker::runAll();
