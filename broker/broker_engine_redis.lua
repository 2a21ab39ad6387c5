#!lua name=zchannel
--  zchannel's Redis engine: per topic a hash {epoch, seq}, a stream whose
--  entry IDs are the seqs ("<seq>-0") and a channel for fan-out between
--  brokers. Redis runs each function alone, so the order of the seqs, of
--  the stream and of the channel is one order, whichever broker published.

--  keys: hash, stream, channel. args: the epoch to start if the hash is
--  missing, the history length (0: none), meta, payload.
--  Returns { seq, epoch }.
local function publish (keys, args)
    local epoch = redis.call ('HGET', keys [1], 'epoch')
    if not epoch then
        --  The topic is new or its data was lost: a new epoch, and no
        --  stream entry of an older one may stay under the new seqs
        epoch = args [1]
        redis.call ('DEL', keys [2])
        redis.call ('HSET', keys [1], 'epoch', epoch, 'seq', 0)
    end
    local seq = redis.call ('HINCRBY', keys [1], 'seq', 1)
    if args [2] ~= '0' then
        redis.call ('XADD', keys [2], 'MAXLEN', '~', args [2], string.format ('%d-0', seq),
                    'm', args [3], 'p', args [4])
    end
    --  "<seq> <epoch> <meta length> " then meta and payload
    redis.call ('PUBLISH', keys [3],
                string.format ('%d %s %d ', seq, epoch, #args [3]) .. args [3] .. args [4])
    return { seq, epoch }
end

--  keys: hash, stream. args: most entries. Returns { epoch or false,
--  seq, newest entries first }, read together.
local function range (keys, args)
    local state = redis.call ('HMGET', keys [1], 'epoch', 'seq')
    if not state [1] then
        return { false, 0, {} }
    end
    local entries = {}
    if args [1] ~= '0' then
        entries = redis.call ('XREVRANGE', keys [2], '+', '-', 'COUNT', args [1])
    end
    return { state [1], tonumber (state [2]), entries }
end

redis.register_function ('zch_publish', publish)
redis.register_function { function_name = 'zch_range', callback = range, flags = { 'no-writes' } }
