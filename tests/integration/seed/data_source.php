<?php
// The seed article's data-source server: every message a client sends is
// published on "topic1". Its port comes from LISTEN_PORT (the article's 2345).
require getenv('PEERS') . '/autoload.php';
require __DIR__ . '/topic.php';
use Workerman\Worker;

Worker::$pidFile = sys_get_temp_dir() . '/seed-data-source-' . getmypid() . '.pid';
Worker::$logFile = sys_get_temp_dir() . '/seed-data-source-' . getmypid() . '.log';
$worker = new Worker('tcp://127.0.0.1:' . getenv('LISTEN_PORT'));
$worker->count = 4;
// 当客户端有新的连接时
$worker->onConnect = function ($connection) {
    // 向新连接的客户端发送一条欢迎消息
    $connection->send('Welcome to Data Source Server');
};
// 当客户端发送消息过来时
$worker->onMessage = function ($connection, $data) {
    // 发布消息到"topic1"这个主题
    $topic1 = new Topic('topic1');
    $topic1->publish($data);
};
// 运行Worker
Worker::runAll();
