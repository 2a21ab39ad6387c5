<?php
// The seed article's Topic class on Workerman's Channel\Client, as the
// article shows it. Two slips of the article are mended so it runs: publish
// names its topic, and subscribe listens on the topic (the article passes
// the connection id). The channel server's port comes from CHANNEL_PORT
// (the article's 2206).
use Channel\Client;

class Topic
{
    private $channel;
    private $name;

    public function __construct($name)
    {
        $this->name = $name;
        // 创建Channel客户端
        $this->channel = new Client();
        // 建立连接
        $this->channel->connect('127.0.0.1', (int) getenv('CHANNEL_PORT') ?: 2206);
    }

    public function publish($data)
    {
        // 发布消息
        $this->channel->publish($this->name, $data);
    }

    public function subscribe($connection, $callback)
    {
        // 订阅主题
        $this->channel->on($this->name, function ($data) use ($connection, $callback) {
            $callback($data);
        });
    }
}
