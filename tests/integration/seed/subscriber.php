<?php
// The seed article's subscriber server: a client that sends anything is
// subscribed to "topic1" and gets "Received: <data>" per message. Its port
// comes from LISTEN_PORT.
require getenv('PEERS') . '/autoload.php';
require __DIR__ . '/topic.php';
use Workerman\Worker;

Worker::$pidFile = sys_get_temp_dir() . '/seed-subscriber-' . getmypid() . '.pid';
Worker::$logFile = sys_get_temp_dir() . '/seed-subscriber-' . getmypid() . '.log';
$worker = new Worker('tcp://127.0.0.1:' . getenv('LISTEN_PORT'));
$worker->count = 1;
// 当客户端有新的连接时
$worker->onConnect = function ($connection) {
    // 向新连接的客户端发送一条欢迎消息
    $connection->send('Welcome to Subscriber Server');
};
// 当客户端发送消息过来时
$worker->onMessage = function ($connection, $data) {
    // 订阅"topic1"这个主题,并设置收到消息的回调
    $topic1 = new Topic('topic1');
    $topic1->subscribe($connection, function ($data) use ($connection) {
        // 将消息发送给订阅者
        $connection->send('Received: ' . $data);
    });
};
// 运行Worker
Worker::runAll();
